//! The court-jurisdiction simulator (the `sandbox` feature): `GET /api` and `/api/`, refusing
//! what the page refuses, finding courts for Russia's points and known addresses, and
//! spending a daily quota (`data.last`) per answer.

use std::sync::atomic::{AtomicI64, Ordering};

use proverka_core::sandbox::{
    Reply, Request, Simulated, Simulator, json_of, no_setting, param, seed, setting,
};
use proverka_core::{Lookup, Provider};
use serde_json::{Value, json};

use crate::CourtQuery;

/// An address with both courts.
pub const ADDRESS_FOUND: &str = "Казань, Московская 1";
/// An address with no court known (both `null`).
pub const ADDRESS_NOT_FOUND: &str = "Новый посёлок, Центральная 1";
/// A token the simulator accepts (any non-empty one is).
pub const TOKEN: &str = "sandbox-court-token";

/// The simulated court API: a daily quota of queries.
#[derive(Debug)]
pub struct CourtSimulator {
    left: AtomicI64,
    initial_quota: i64,
}

impl Default for CourtSimulator {
    /// A quota of 1000 queries a day.
    fn default() -> Self {
        Self::new(1000)
    }
}

impl CourtSimulator {
    /// A simulator with this daily quota at start.
    pub fn new(quota: i64) -> Self {
        Self {
            left: AtomicI64::new(quota),
            initial_quota: quota,
        }
    }

    /// The queries left today.
    pub fn queries_left(&self) -> i64 {
        self.left.load(Ordering::SeqCst)
    }

    /// One query from the quota; the queries left after it, or `None` when none.
    fn take_query(&self) -> Option<i64> {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n > 0).then(|| n - 1)
            })
            .ok()
            .map(|before| before - 1)
    }
}

fn error(text: &str, last: i64) -> Reply {
    Reply::json(
        200,
        &json!({"data": {"status": 0, "error": text, "last": last}}),
    )
}

impl Simulator for CourtSimulator {
    fn provider(&self) -> Provider {
        Provider::Court
    }

    fn answer(&self, request: &Request<'_>) -> Simulated {
        let pairs = request.pairs;
        let point = match page_rules(pairs) {
            Ok(point) => point,
            Err(refused) => return Simulated::Refused(refused),
        };
        let Some(last) = self.take_query() else {
            return Simulated::Refused(error("Query limit is null (0)", 0));
        };
        let address = param(pairs, &["address"]).unwrap_or_default();
        let (found_fs, found_ms) = match point {
            // Found where the court base knows the point, in the order it was read (the page:
            // "попробуйте поменять порядок расположения широты и долготы").
            Some(p) => {
                let ok = in_russia(p);
                (ok, ok)
            }
            None if address.contains("Казань") => (true, true),
            None if address.contains("Новый") => (false, false),
            None => (
                !seed(pairs).is_multiple_of(4),
                seed(pairs).is_multiple_of(2),
            ),
        };
        let sample = json_of(include_str!("../fixtures/found_both_courts.json"));
        let mut found = sample["request"].clone();
        if !found_fs {
            found["court_fs"] = Value::Null;
        }
        if !found_ms {
            found["court_ms"] = Value::Null;
        }
        match point {
            None => {
                found["address"] = json!(address);
                found["coords"] = json!("");
            }
            Some(_) => {
                found["address"] = json!("");
                found["coords"] = json!(param(pairs, &["coords"]).unwrap_or_default());
            }
        }
        Simulated::Answered {
            reply: Reply::json(
                200,
                &json!({"data": {"status": 1, "last": last}, "request": found}),
            ),
            billed: true,
            key: CourtQuery::from_pairs(pairs).ok().map(|q| q.cache_key()),
        }
    }

    fn provider_error(&self, code: &str) -> Reply {
        error(code, 0)
    }

    fn credential(&self) -> Option<&'static str> {
        Some(TOKEN)
    }

    fn state(&self) -> Value {
        json!({"queries_left": self.queries_left()})
    }

    /// `quota`: the queries a day at start.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "quota" => *self = Self::new(setting(name, value)?),
            _ => return Err(no_setting(name, &["quota"])),
        }
        Ok(())
    }

    fn reset(&self) {
        self.left.store(self.initial_quota, Ordering::SeqCst);
    }
}

/// A point as the court API reads `coords=`.
#[derive(Debug, Clone, Copy)]
struct Point {
    latitude: f64,
    longitude: f64,
}

/// The court page: "Формат координат принимается с разделителем - пробелом" ("Non-correct
/// recording of coordinates" otherwise); neither coordinates nor an address: "Coords or address
/// params not assigned"; "При наличии и адреса и координат … будут использоваться координаты".
/// Written from the page, not from the adapter's validation.
fn page_rules(pairs: &[(&str, &str)]) -> Result<Option<Point>, Reply> {
    if let Some(coords) = param(pairs, &["coords"]) {
        let numbers: Vec<f64> = coords
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| error("Non-correct recording of coordinates", 0))?;
        let [first, second] = numbers.as_slice() else {
            return Err(error("Non-correct recording of coordinates", 0));
        };
        // The page's samples send longitude first ("49.108795 55.796289" for Kazan); a first
        // number that cannot be a longitude paired with a latitude is read the other way.
        let point = if second.abs() <= 90.0 && first.abs() <= 180.0 {
            Point {
                longitude: *first,
                latitude: *second,
            }
        } else {
            Point {
                latitude: *first,
                longitude: *second,
            }
        };
        return Ok(Some(point));
    }
    match param(pairs, &["address"]) {
        Some(_) => Ok(None),
        None => Err(error("Coords or address params not assigned", 0)),
    }
}

/// Whether the court base knows a point: Russia, roughly (41°–82° N, 19° E–180°, and
/// Chukotka past 180°), less Kazakhstan's box south of 51° N between 46° and 87° E. With this,
/// the page's own example holds: "не находит c "55.794340 49.099524", но найдет c
/// "49.099524 55.794340"" (read longitude first, the former is in Kazakhstan).
fn in_russia(p: Point) -> bool {
    let russia = (41.0..=82.0).contains(&p.latitude)
        && ((19.0..=180.0).contains(&p.longitude) || (-180.0..=-169.0).contains(&p.longitude));
    let kazakhstan = (40.5..51.0).contains(&p.latitude) && (46.0..=87.0).contains(&p.longitude);
    russia && !kazakhstan
}

#[cfg(test)]
mod tests {
    use super::{in_russia, page_rules};

    #[test]
    fn the_court_page_s_own_coordinate_example() {
        let at = |s: &str| page_rules(&[("coords", s)]).unwrap().unwrap();
        assert!(in_russia(at("49.099524 55.794340")));
        assert!(!in_russia(at("55.794340 49.099524")));
        // Vladivostok both ways.
        assert!(in_russia(at("131.885 43.115")));
        assert!(in_russia(at("43.115 131.885")));
    }
}
