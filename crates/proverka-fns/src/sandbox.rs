//! The simulator of the tax service's free self-employed check (the `sandbox` feature):
//! `POST /api/v1/tracker/taxpayer_status` with `{"inn", "requestDate"}`, its per-IP limit and
//! its 422 codes. Never billed.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proverka_core::sandbox::{
    NOT_SELF_EMPLOYED_INN, Reply, Request, SELF_EMPLOYED_INN, Simulated, Simulator, lock,
    only_setting, seed,
};
use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Date, Lookup, Provider};
use serde_json::{Value, json};

use crate::FnsQuery;

/// A date the check refuses (`validation.failed`: before 2019-01-01).
pub const TOO_EARLY: &str = "2018-12-31";

/// The simulated free check: so many calls a minute from one IP address.
#[derive(Debug)]
pub struct FnsSimulator {
    per_minute: usize,
    /// The calls per IP address in the last minute, as the service limits them.
    recent: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Default for FnsSimulator {
    /// 2 calls a minute per IP address.
    fn default() -> Self {
        Self::new(2)
    }
}

impl FnsSimulator {
    /// A simulator answering `per_minute` calls a minute from one IP address; beyond them it
    /// answers `422 taxpayer.status.service.limited.error`.
    pub fn new(per_minute: usize) -> Self {
        Self {
            per_minute,
            recent: Mutex::default(),
        }
    }

    /// Whether one more call from `ip` at `now` is within the per-IP limit (counted when it is).
    fn admit(&self, ip: IpAddr, now: Instant) -> bool {
        let mut recent = lock(&self.recent);
        let calls = recent.entry(ip).or_default();
        while calls
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(60))
        {
            calls.pop_front();
        }
        if calls.len() >= self.per_minute {
            return false;
        }
        calls.push_back(now);
        true
    }
}

fn failed(message: &str) -> Reply {
    Reply::json(
        422,
        &json!({"code": "validation.failed", "message": message}),
    )
}

impl Simulator for FnsSimulator {
    fn provider(&self) -> Provider {
        Provider::Fns
    }

    fn answer(&self, request: &Request<'_>) -> Simulated {
        if request.method != "POST" {
            return Simulated::Refused(Reply::json(
                405,
                &json!({"code": "method.not.allowed", "message": "POST only"}),
            ));
        }
        if !self.admit(request.peer, request.now) {
            return Simulated::Refused(Reply::json(
                422,
                &json!({"code": "taxpayer.status.service.limited.error", "message": "Превышено количество запросов к сервису с одного IP-адреса в единицу времени"}),
            ));
        }
        let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
        let inn = body["inn"].as_str().unwrap_or_default();
        let date = body["requestDate"].as_str().unwrap_or_default();
        if inn.len() != 12 || !inn.bytes().all(|b| b.is_ascii_digit()) {
            return Simulated::Refused(failed("inn: ИНН должен состоять из 12 цифр"));
        }
        match Date::parse_iso(date) {
            Ok(d)
                if d.to_iso().as_str() >= "2019-01-01" && d <= Date::moscow_date_at(request.at) => {
            }
            _ => {
                return Simulated::Refused(failed(
                    "requestDate: дата должна быть с 2019-01-01 по сегодня",
                ));
            }
        }
        let payer = match inn {
            SELF_EMPLOYED_INN => true,
            NOT_SELF_EMPLOYED_INN => false,
            _ => seed(&[("inn", inn), ("date", date)]).is_multiple_of(2),
        };
        let message = if payer {
            format!("{inn} является плательщиком налога на профессиональный доход")
        } else {
            format!("{inn} не является плательщиком налога на профессиональный доход")
        };
        Simulated::Answered {
            reply: Reply::json(200, &json!({"status": payer, "message": message})),
            billed: false,
            key: FnsQuery::parse(inn, Some(date)).ok().map(|q| q.cache_key()),
        }
    }

    fn provider_error(&self, code: &str) -> Reply {
        Reply::json(422, &json!({"code": code, "message": "sandbox fault"}))
    }

    /// `per_minute`: the calls a minute answered from one IP address.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        only_setting(name, value, "per_minute", &mut self.per_minute)
    }

    fn reset(&self) {
        lock(&self.recent).clear();
    }
}
