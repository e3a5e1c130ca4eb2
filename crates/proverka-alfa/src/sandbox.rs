//! The Alfa-Bank registry simulator (the `sandbox` feature):
//! `GET /api/semp/v1/selfemployed/registries/add-selfemployed/{requestId}`, with the page's
//! bearer refusals and pagination; a registry advances NEW → IN_PROGRESS → SUCCESS as the
//! simulated clock moves. Never billed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proverka_core::sandbox::{
    Reply, Request, Simulated, Simulator, json_of, lock, no_setting, param, seed, setting,
};
use proverka_core::{Lookup, Provider};
use serde_json::{Value, json};

use crate::RegistryQuery;

/// A registry request id.
pub const REQUEST_ID: &str = "4e817e78-5876-4608-a873-bcc141454045";
/// A bearer the simulator rejects with 401 `invalid_token`.
pub const INVALID_BEARER: &str = "expired-bearer";

/// The simulated registry: when it first saw each request id.
#[derive(Debug)]
pub struct AlfaSimulator {
    step: Duration,
    seen: Mutex<HashMap<String, Instant>>,
}

impl Default for AlfaSimulator {
    /// Registries advancing every 2 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(2))
    }
}

impl AlfaSimulator {
    /// A simulator whose registries stay NEW for `step`, then IN_PROGRESS for `step`, then
    /// SUCCESS.
    pub fn new(step: Duration) -> Self {
        Self {
            step,
            seen: Mutex::default(),
        }
    }

    fn first_seen(&self, request_id: &str, now: Instant) -> Instant {
        *lock(&self.seen).entry(request_id.to_owned()).or_insert(now)
    }
}

fn refusal(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

impl Simulator for AlfaSimulator {
    fn provider(&self) -> Provider {
        Provider::Alfa
    }

    fn answer(&self, request: &Request<'_>) -> Simulated {
        let Some(bearer) = request.bearer.filter(|b| !b.is_empty()) else {
            return Simulated::Refused(Reply::without_credential(&crate::SPEC));
        };
        if bearer == INVALID_BEARER {
            return Simulated::Refused(refusal(
                401,
                "invalid_token",
                "The access token provided is expired, revoked, malformed, or invalid for other reasons",
            ));
        }
        let (limit, offset) = match page_rules(request.pairs) {
            Ok(numbers) => numbers,
            Err(refused) => return Simulated::Refused(refused),
        };
        let request_id = request.tail;
        let since = self.first_seen(request_id, request.now);
        let status = match request.now.saturating_duration_since(since) {
            e if e < self.step => "NEW",
            e if e < self.step * 2 => "IN_PROGRESS",
            _ => "SUCCESS",
        };
        let total = 3 + usize::from(seed(&[("requestId", request_id)]) % 5);
        let limit = limit.unwrap_or(1000);
        let offset = offset.unwrap_or(0);
        let sample = json_of(include_str!("../fixtures/page_sample_new.json"));
        let account = sample["selfemployedAccount"][0].clone();
        let accounts: Vec<Value> = (offset..total.min(offset.saturating_add(limit)))
            .map(|i| {
                let mut a = account.clone();
                a["selfemployed"]["personalInformation"]["vatin"] =
                    json!(format!("7712345678{:02}", i % 100));
                a["status"] = json!(if status == "SUCCESS" {
                    "READY"
                } else {
                    "IN_PROGRESS"
                });
                a
            })
            .collect();
        let body = json!({
            "pagination": {"limit": limit, "offset": offset, "totalCount": total},
            "requestId": request_id,
            "externalId": sample["externalId"],
            "listStatus": status,
            "createdDate": sample["createdDate"],
            "selfemployedAccount": accounts,
        });
        Simulated::Answered {
            reply: Reply::json(200, &body),
            billed: false,
            key: RegistryQuery::from_parts(request_id, request.pairs)
                .ok()
                .map(|q| q.cache_key()),
        }
    }

    fn provider_error(&self, code: &str) -> Reply {
        let status = match code {
            "invalid_request" => 400,
            "invalid_token" => 401,
            "insufficient_scope" | "access_denied" => 403,
            "unknown_endpoint" => 404,
            _ => 500,
        };
        refusal(status, code, "sandbox fault")
    }

    /// `step_ms`: how long a registry stays in each state, in milliseconds.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "step_ms" => self.step = Duration::from_millis(setting(name, value)?),
            _ => return Err(no_setting(name, &["step_ms"])),
        }
        Ok(())
    }

    fn reset(&self) {
        lock(&self.seen).clear();
    }
}

/// The page: `limit` and `offset` are "integer optional"; a wrong input parameter is
/// `400 invalid_request`. Written from the page, not from the adapter's validation.
fn page_rules(pairs: &[(&str, &str)]) -> Result<(Option<usize>, Option<usize>), Reply> {
    let number = |name: &str| match param(pairs, &[name]) {
        None => Ok(None),
        Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
            refusal(
                400,
                "invalid_request",
                &format!("{name} must be an integer"),
            )
        }),
    };
    Ok((number("limit")?, number("offset")?))
}
