//! The NPD simulator (the `sandbox` feature): `GET /parser/nalog_npd_api/`, refusing what the
//! page refuses and billing every `success = 1` answer, as the page says. One person
//! ([`LAPSING`]) loses the status while the sandbox runs, for monitoring to notice.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use proverka_core::sandbox::{
    Fault, NOT_SELF_EMPLOYED_INN, Reply, Request, SELF_EMPLOYED_INN, Simulated, Simulator, lock,
    only_setting, param, seed,
};
use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Date, Lookup, Provider};
use serde_json::json;

use crate::NpdQuery;

/// A self-employed INN (`found: 1`).
pub const PAYER: &str = SELF_EMPLOYED_INN;
/// An INN that is not self-employed (`found: 0`).
pub const NON_PAYER: &str = NOT_SELF_EMPLOYED_INN;
/// A key the simulator accepts (any non-empty one is).
pub const KEY: &str = "sandbox-npd-key";
/// A person who is self-employed until [`LAPSE_AFTER`] of the sandbox's time has passed since
/// the simulator was first asked about them, and not from the Moscow day that happens on:
/// asked about a day before it, self-employed; about that day or later, not (the status on a
/// date gone by does not change).
pub const LAPSING: &str = "771014067988";
/// How long [`LAPSING`] keeps the status after the first question (the setting `lapse_s`).
pub const LAPSE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The simulated api-assist NPD check. Its one state: when it was first asked about
/// [`LAPSING`].
#[derive(Debug)]
pub struct NpdSimulator {
    lapse_s: u64,
    first_asked: Mutex<Option<SystemTime>>,
}

impl Default for NpdSimulator {
    /// [`LAPSING`] lapses [`LAPSE_AFTER`] after the first question.
    fn default() -> Self {
        Self {
            lapse_s: LAPSE_AFTER.as_secs(),
            first_asked: Mutex::new(None),
        }
    }
}

impl NpdSimulator {
    /// Whether [`LAPSING`] is self-employed on `day`, asked at `at` on the sandbox's clock.
    fn lapsing_on(&self, day: Date, at: SystemTime) -> bool {
        let first = *lock(&self.first_asked).get_or_insert(at);
        day < Date::moscow_date_at(first + Duration::from_secs(self.lapse_s))
    }
}

impl Simulator for NpdSimulator {
    fn provider(&self) -> Provider {
        Provider::Npd
    }

    fn answer(&self, request: &Request<'_>) -> Simulated {
        if let Err(refused) = page_rules(request.pairs) {
            return Simulated::Refused(refused);
        }
        let found = match request.param(&["inn"]).unwrap_or_default() {
            PAYER => true,
            NON_PAYER => false,
            LAPSING => {
                let today = Date::moscow_date_at(request.at);
                let day = request
                    .param(&["date"])
                    .and_then(|d| Date::parse_iso(d).ok())
                    .unwrap_or(today);
                self.lapsing_on(day, request.at)
            }
            // Anyone else keeps one status whatever the day: only the subjects above change,
            // so monitoring can be shown to report those and nothing else.
            inn => seed(&[("inn", inn)]).is_multiple_of(2),
        };
        Simulated::Answered {
            reply: Reply::json(200, &json!({"success": 1, "found": i32::from(found)})),
            billed: true,
            key: NpdQuery::from_pairs(request.pairs)
                .ok()
                .map(|q| q.cache_key()),
        }
    }

    fn provider_error(&self, code: &str) -> Reply {
        let (status, text) = match code {
            "40301" => (403, "Invalid access key"),
            "40302" => (403, "The subscription period has expired"),
            "40303" => (403, "Invalid IP"),
            "40304" => (403, "Day limit of requests exceeded"),
            "40305" => (403, "Month limit of requests exceeded"),
            _ => (400, "Field inn is required"),
        };
        Reply::json(
            status,
            &json!({"error": text, "error_code": code.parse::<i64>().unwrap_or(40000)}),
        )
    }

    /// `{"success": 0}`: "ask again".
    fn fault_reply(&self, fault: &Fault) -> Option<Reply> {
        matches!(fault, Fault::SuccessZero).then(|| Reply::json(200, &json!({"success": 0})))
    }

    /// `{"success": 1}` without `found`: billed, but no result.
    fn spoil(&self, fault: &Fault, reply: Reply) -> Reply {
        match fault {
            Fault::SuccessOneWithoutFound if reply.status == 200 => {
                Reply::json(200, &json!({"success": 1}))
            }
            _ => reply,
        }
    }

    fn credential(&self) -> Option<&'static str> {
        Some(KEY)
    }

    /// `lapse_s`: how long [`LAPSING`] keeps the status after the first question, in seconds.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        only_setting(name, value, "lapse_s", &mut self.lapse_s)
    }

    /// [`LAPSING`] is self-employed again until it has been asked about for a while.
    fn reset(&self) {
        *lock(&self.first_asked) = None;
    }
}

/// The page: "`Field inn is required` - не указан ИНН", "`Field date is invalid` - неверный
/// формат даты" ("date — … в формате YYYY-MM-DD"). Written from the page, not from the
/// adapter's validation.
fn page_rules(pairs: &[(&str, &str)]) -> Result<(), Reply> {
    let error = |text: &str| Reply::json(400, &json!({"error": text, "error_code": 40000}));
    param(pairs, &["inn"]).ok_or_else(|| error("Field inn is required"))?;
    if let Some(date) = param(pairs, &["date"]) {
        let shape = date.len() == 10
            && date.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape || Date::parse_iso(date).is_err() {
            return Err(error("Field date is invalid"));
        }
    }
    Ok(())
}
