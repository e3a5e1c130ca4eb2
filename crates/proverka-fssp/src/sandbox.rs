//! The FSSP simulator (the `sandbox` feature): `GET /api/fssp.php` and the account's
//! `GET /api/apilk.php?type=balance`, refusing what the page refuses (its codes, not the
//! adapter's validation), answering from the page's samples, and charging a balance that may
//! go below zero down to a credit line, as the page's `inquiry` shows. One debtor
//! ([`CHANGING`]) gets a new proceeding and has another closed while the sandbox runs, for
//! monitoring to notice.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use proverka_core::sandbox::{
    Fault, Reply, Request, Simulated, Simulator, json_of, lock, no_setting, param, seconds, seed,
    setting,
};
use proverka_core::{Date, Lookup, Money, Provider, Secret};
use serde_json::{Value, json};

use crate::{FsspQuery, QueryType, check_token};

/// A debtor `physical`/`alim` always finds: lastname `Иванов` (any first name, date, region).
pub const DEBTOR: (&str, &str, &str) = ("Иванов", "Иван", "31.03.1980");
/// A person `physical`/`alim` never finds: lastname `Чистов`.
pub const CLEAN: (&str, &str, &str) = ("Чистов", "Пётр", "01.01.1990");
/// A token the simulator accepts (any 32 letters and digits are accepted).
pub const TOKEN: &str = "sandbox0fssp0token00000000000000";
/// A debtor (lastname `Переменов`) with two open proceedings ([`OPEN_THROUGHOUT`] and
/// [`CLOSES`]) until [`CHANGE_AFTER`] of the sandbox's time has passed since the simulator was
/// first asked about them; from then on [`CLOSES`] is closed (its `stopIPDate` the day it
/// happened) and [`APPEARS`] is open too.
pub const CHANGING: (&str, &str, &str) = ("Переменов", "Павел", "15.05.1985");
/// [`CHANGING`]'s proceeding that stays open.
pub const OPEN_THROUGHOUT: &str = "1001/24/77001-ИП";
/// [`CHANGING`]'s proceeding that is closed after [`CHANGE_AFTER`].
pub const CLOSES: &str = "1002/24/77001-ИП";
/// [`CHANGING`]'s proceeding that appears after [`CHANGE_AFTER`].
pub const APPEARS: &str = "1003/25/77001-ИП";
/// How long [`CHANGING`]'s proceedings stay as first seen (the setting `change_s`).
pub const CHANGE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// An HTML captcha page, as the FSSP site answers when it is not the API.
const CAPTCHA: &str = include_str!("../fixtures/html_captcha_page.html");

/// The simulated FSSP API of api-cloud.ru: a balance charged per paid answer.
#[derive(Debug)]
pub struct FsspSimulator {
    balance: Mutex<Money>,
    initial_balance: Money,
    credit: Money,
    change_after: Duration,
    first_asked: Mutex<Option<SystemTime>>,
}

impl Default for FsspSimulator {
    /// A balance of 1000 RUB without a credit line.
    fn default() -> Self {
        Self::new(Money::from_kopecks(100_000), Money::ZERO)
    }
}

impl FsspSimulator {
    /// A simulator with this balance at start and this credit line (`inquiry.credit`): paid
    /// queries go on below zero down to minus the credit, as the page's sample shows
    /// ("balance": -706.62, "credit": 20000), then code 498.
    pub fn new(balance: Money, credit: Money) -> Self {
        Self {
            balance: Mutex::new(balance),
            initial_balance: balance,
            credit,
            change_after: CHANGE_AFTER,
            first_asked: Mutex::new(None),
        }
    }

    /// [`CHANGING`]'s records asked at `at` on the sandbox's clock, made from `record` (a
    /// closed proceeding of the page's sample).
    fn changing_records(&self, record: &Value, at: SystemTime) -> Vec<Value> {
        let first = *lock(&self.first_asked).get_or_insert(at);
        let proceeding = |number: &str, closed: Option<SystemTime>| {
            let mut r = record.clone();
            r["process_title"] = json!(number);
            match closed {
                Some(day) => {
                    let day = Date::moscow_date_at(day).to_dmy();
                    r["stopIPDate"] = json!(day);
                    r["stopIP"] = json!(format!("{day}, ст. 46, ч. 1, п. 3"));
                }
                None => {
                    for key in ["stopIP", "stopIPDate", "stopIPReason"] {
                        r[key] = json!("");
                    }
                }
            }
            r
        };
        let changed = first + self.change_after;
        if at < changed {
            vec![proceeding(OPEN_THROUGHOUT, None), proceeding(CLOSES, None)]
        } else {
            vec![
                proceeding(OPEN_THROUGHOUT, None),
                proceeding(CLOSES, Some(changed)),
                proceeding(APPEARS, None),
            ]
        }
    }

    /// The balance now.
    pub fn balance(&self) -> Money {
        *self.lock_balance()
    }

    fn lock_balance(&self) -> MutexGuard<'_, Money> {
        lock(&self.balance)
    }

    /// Charges `price` when the balance and credit line allow it; the balance after it.
    fn charge(&self, price: Money) -> Option<Money> {
        let mut balance = self.lock_balance();
        if balance.kopecks() - price.kopecks() < -self.credit.kopecks() {
            return None;
        }
        *balance = Money::from_kopecks(balance.kopecks() - price.kopecks());
        Some(*balance)
    }
}

fn error(code: &str, message: &str) -> Reply {
    Reply::json(200, &json!({"error": code, "message": message}))
}

/// The token check, as the page's codes 502 and 499 refuse it.
fn token(pairs: &[(&str, &str)]) -> Result<(), Reply> {
    match pairs.iter().find(|(k, _)| *k == "token").map(|(_, v)| *v) {
        None | Some("") => Err(Reply::without_credential(&crate::SPEC)),
        Some(t) if check_token(&Secret::new(t)).is_err() => Err(error("499", "WRONG_TOKEN_KEY")),
        Some(_) => Ok(()),
    }
}

/// The price of one answer, as the page's samples show (the "not found" answer 1.4).
fn price(kind: QueryType, found: bool) -> Money {
    use QueryType as T;
    Money::from_kopecks(match (kind, found) {
        (T::RegionsList, _) => 0,
        (_, false) => 140,
        // The page's samples: wanted 0.6; physical, ip and alim 0.8 (id like ip).
        (T::Wanted, true) => 60,
        _ => 80,
    })
}

impl Simulator for FsspSimulator {
    fn provider(&self) -> Provider {
        Provider::Fssp
    }

    fn answer(&self, request: &Request<'_>) -> Simulated {
        match self.query(request.pairs, request.at) {
            Ok((reply, billed)) => Simulated::Answered {
                reply,
                billed,
                key: FsspQuery::from_pairs(request.pairs)
                    .ok()
                    .map(|q| q.cache_key()),
            },
            Err(refused) => Simulated::Refused(refused),
        }
    }

    /// `GET /api/apilk.php?type=balance`: the balance and credit line, free. The page does not
    /// describe this call; the answer carries the `balance` and `credit` its `inquiry` shows,
    /// and the page's error table answers the rest (500 without a `type`, 602 "no access to
    /// the method" for another).
    fn account(&self, request: &Request<'_>) -> Option<Reply> {
        if let Err(refused) = token(request.pairs) {
            return Some(refused);
        }
        Some(
            match request
                .pairs
                .iter()
                .find(|(k, _)| *k == "type")
                .map(|(_, v)| *v)
            {
                Some("balance") => Reply::json(
                    200,
                    &json!({
                        "status": 200,
                        "balance": self.balance().rubles_f64(),
                        "credit": self.credit.to_string(),
                    }),
                ),
                None | Some("") => error("500", "MISSING_REQUIRED_TYPE_PARAMETER"),
                Some(_) => error("602", "TOKEN_NO_ACCESS"),
            },
        )
    }

    fn provider_error(&self, code: &str) -> Reply {
        let e = crate::ErrorCode::from_wire(code, None, None);
        Reply::json(200, &json!({"error": code, "message": e.name()}))
    }

    fn fault_reply(&self, fault: &Fault) -> Option<Reply> {
        matches!(fault, Fault::Html).then(|| Reply::new(200, "text/html; charset=utf-8", CAPTCHA))
    }

    fn spoil(&self, fault: &Fault, reply: Reply) -> Reply {
        match fault {
            Fault::MessageOnly if reply.status == 200 => Reply::json(
                200,
                &json!({"status": 200, "message": "Источник не доступен"}),
            ),
            _ => reply,
        }
    }

    fn credential(&self) -> Option<&'static str> {
        Some(TOKEN)
    }

    fn example(&self, base: &str) -> Option<String> {
        Some(format!(
            "curl -sG {base}{} --data-urlencode type=physical --data-urlencode lastname={} --data-urlencode firstname={} --data-urlencode birthdate={} --data-urlencode region=77 -i",
            crate::PATH,
            DEBTOR.0,
            DEBTOR.1,
            DEBTOR.2
        ))
    }

    fn state(&self) -> Value {
        json!({"balance": self.balance().to_string()})
    }

    /// `balance` (rubles at start), `credit` (the credit line, rubles) and `change_s` (how long
    /// [`CHANGING`]'s proceedings stay as first seen, in seconds).
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "balance" => *self = Self::new(setting(name, value)?, self.credit),
            "credit" => self.credit = setting(name, value)?,
            "change_s" => self.change_after = seconds(name, value)?,
            _ => return Err(no_setting(name, &["balance", "credit", "change_s"])),
        }
        Ok(())
    }

    fn reset(&self) {
        *self.lock_balance() = self.initial_balance;
        *lock(&self.first_asked) = None;
    }
}

impl FsspSimulator {
    /// One query: the answer and whether it was billed, or the refusal.
    fn query(&self, pairs: &[(&str, &str)], at: SystemTime) -> Result<(Reply, bool), Reply> {
        token(pairs)?;
        let kind = page_rules(pairs)?;
        if kind == QueryType::RegionsList {
            return Ok((
                Reply::raw_json(include_str!("../fixtures/regions_list_records.json")),
                false,
            ));
        }
        let lastname = match kind {
            QueryType::Physical | QueryType::Alim => {
                param(pairs, &["lastname"]).map(str::to_lowercase)
            }
            _ => None,
        };
        let found = match lastname.as_deref() {
            Some("иванов" | "переменов") => true,
            Some("чистов") => false,
            _ => !seed(pairs).is_multiple_of(3),
        };
        let price = price(kind, found);
        let Some(balance) = self.charge(price) else {
            return Err(error("498", "TOKEN_NO_MONEY"));
        };
        let inquiry = json!({
            "price": price.rubles_f64(), "balance": balance.rubles_f64(),
            "credit": self.credit.to_string(), "speed": 1, "attempts": 1
        });
        if !found {
            return Ok((
                Reply::json(
                    200,
                    &json!({"status": 200, "count": 0, "message": "В базе ФССП отсутствует", "inquiry": inquiry}),
                ),
                true,
            ));
        }
        let mut body = json_of(match kind {
            QueryType::Wanted => include_str!("../fixtures/wanted_found.json"),
            QueryType::Alim => include_str!("../fixtures/alim_found.json"),
            QueryType::Legal | QueryType::Inn => {
                include_str!("../fixtures/legal_found_no_inquiry.json")
            }
            _ => include_str!("../fixtures/physical_found.json"),
        });
        if kind != QueryType::Wanted {
            let record = body["records"][0].clone();
            let records = if lastname.as_deref() == Some("переменов") {
                self.changing_records(&record, at)
            } else {
                vec![record; 1 + usize::from(seed(pairs) % 3)]
            };
            body["count"] = json!(records.len());
            body["countAll"] = json!(records.len().to_string());
            body["records"] = Value::Array(records);
        }
        body["inquiry"] = inquiry;
        Ok((Reply::json(200, &body), true))
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

/// "Разрешено: кирилица, латиница, цифры, знак "-"" (ё allowed since 29.04.2022).
fn word(c: char) -> bool {
    is_cyrillic(c) || c.is_ascii_alphanumeric() || c == '-'
}

/// 888: "ИМЯ передаваемой переменной: forbidden symbols present".
fn chars(pairs: &[(&str, &str)], name: &str, ok: impl Fn(char) -> bool) -> Result<(), Reply> {
    match param(pairs, &[name]) {
        Some(v) if !v.chars().all(ok) => {
            Err(error("888", &format!("{name}: forbidden symbols present")))
        }
        _ => Ok(()),
    }
}

fn required<'a>(
    pairs: &[(&str, &'a str)],
    names: &[&str],
    code: &str,
    message: &str,
) -> Result<&'a str, Reply> {
    param(pairs, names).ok_or_else(|| error(code, message))
}

/// The page's parameter rules per `type`, written from the page (`shared/seeds/`), not from
/// the adapter's validation, so a simulated answer catches an adapter that refuses too much
/// or too little; the query type when they hold.
fn page_rules(pairs: &[(&str, &str)]) -> Result<QueryType, Reply> {
    let missing_type = || error("500", "MISSING_REQUIRED_TYPE_PARAMETER");
    let kind = param(pairs, &["type"])
        .and_then(QueryType::parse)
        .ok_or_else(missing_type)?;
    // region: "Разрешено: цифры, знак "-"" (legal: "кирилица, латиница, цифры, знак "-"").
    let region_digits = |c: char| c.is_ascii_digit() || c == '-';
    let region = |pairs: &[(&str, &str)], ok: &dyn Fn(char) -> bool| {
        required(
            pairs,
            &["region"],
            "103",
            "MISSING_REQUIRED_region_PARAMETER",
        )?;
        chars(pairs, "region", ok)
    };
    match kind {
        QueryType::RegionsList => {}
        QueryType::Physical | QueryType::Alim => {
            let last = required(
                pairs,
                &["lastname"],
                "101",
                "MISSING_REQUIRED_lastname_PARAMETER",
            )?;
            let first = required(
                pairs,
                &["firstname"],
                "100",
                "MISSING_REQUIRED_firstname_PARAMETER",
            )?;
            for p in ["lastname", "firstname", "secondname"] {
                chars(pairs, p, word)?;
            }
            // "birthdate - Дата рождения в формате дд.мм.гггг Разрешено: цифры, знак ".""
            let birth = required(
                pairs,
                &["birthdate"],
                "104",
                "MISSING_REQUIRED_birthdate_PARAMETER",
            )?;
            chars(pairs, "birthdate", |c| c.is_ascii_digit() || c == '.')?;
            let parts: Vec<&str> = birth.split('.').collect();
            if !matches!(parts.as_slice(), [d, m, y] if d.len() == 2 && m.len() == 2 && y.len() == 4)
            {
                return Err(error("104", "MISSING_REQUIRED_birthdate_PARAMETER"));
            }
            if Date::parse_dmy(birth).is_err() {
                return Err(error("15", "DATE_ERROR"));
            }
            region(pairs, &region_digits)?;
            // 01.03.2024: "Фамилия (lastname) и Имя (firstname) должны различаться" (107).
            if last.to_lowercase() == first.to_lowercase() {
                return Err(error("107", "CONFLICT_LASTNAME_FIRSTNAME"));
            }
        }
        QueryType::Legal => {
            // The table says nameLegal/address, the example URL name/adress ("аптека 23": a
            // space in the page's own example).
            required(
                pairs,
                &["nameLegal", "name"],
                "105",
                "MISSING_REQUIRED_nameLegal_PARAMETER",
            )?;
            for p in ["nameLegal", "name", "address", "adress"] {
                chars(pairs, p, |c| word(c) || c == ' ')?;
            }
            region(pairs, &word)?;
        }
        QueryType::Ip => {
            // "number - Номер исполнительного документа в формате n…n/yy/dd/rr или
            // n…n/yy/ddddd-ИП Разрешено: кирилица, латиница, цифры, знак "-/"" (the rows of
            // ip and id are swapped on the page: this one follows the ip example).
            required(
                pairs,
                &["number"],
                "102",
                "MISSING_REQUIRED_number_PARAMETER",
            )?;
            chars(pairs, "number", |c| word(c) || c == '/')?;
        }
        QueryType::Id => {
            // Document numbers as the page's own sample writes them: "ФС 039022227".
            required(
                pairs,
                &["number"],
                "106",
                "MISSING_REQUIRED_number_PARAMETER",
            )?;
            chars(pairs, "number", |c| {
                word(c) || matches!(c, '/' | ' ' | '№' | '.')
            })?;
            region(pairs, &region_digits)?;
            // "typeid - ID типа исполнительного документ … Разрешено: цифры" (the table: 1–16
            // without 9).
            chars(pairs, "typeid", |c| c.is_ascii_digit())?;
            if let Some(t) = param(pairs, &["typeid"])
                && !matches!(t.parse::<u8>(), Ok(1..=8 | 10..=16))
            {
                return Err(error("107", "TYPEID_NOT_CORRECTED"));
            }
        }
        QueryType::Inn => {
            // "inn - ИНН организации Разрешено: цифры".
            required(pairs, &["inn"], "766", "MISSING_MANDATORY_PARAMETER")?;
            chars(pairs, "inn", |c| c.is_ascii_digit())?;
            region(pairs, &region_digits)?;
        }
        QueryType::Wanted => {
            // "fio - ФИО розыскиваемого Маска: [A-Za-zА-ЯЁа-яё0-9-\s]", "region … Маска: [0-9-]".
            required(pairs, &["fio"], "766", "MISSING_MANDATORY_PARAMETER")?;
            chars(pairs, "fio", |c| word(c) || c.is_whitespace())?;
            chars(pairs, "region", region_digits)?;
        }
    }
    Ok(kind)
}
