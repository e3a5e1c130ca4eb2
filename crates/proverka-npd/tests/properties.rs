//! Properties: parsing never panics; INN and date validation; cache keys carry the date.

use proverka_core::ProviderRefusal as _;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Date, Lookup, RawAnswer};
use proverka_npd::{NpdQuery, PAST_DATE_TTL, keep_for};

/// When answers are judged in these tests: 2024-02-01 20:00 in Moscow (17:00 UTC).
fn at() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800)
}

fn parse_all(raw: RawAnswer) {
    let _ = proverka_npd::parse(&raw);
    let q = NpdQuery::parse("540304378234", Some("2022-01-01")).unwrap();
    let _ = q.judge(&raw, at());
}

/// A 12-digit INN with valid check digits built from 10 random digits.
fn individual_inn() -> impl Strategy<Value = String> {
    prop::collection::vec(0u32..10, 10).prop_filter_map("all zeros", |d| {
        if d.iter().all(|x| *x == 0) {
            return None;
        }
        let check = |digits: &[u32], w: &[u32]| {
            digits.iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11 % 10
        };
        let mut v = d.clone();
        v.push(check(&v, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]));
        v.push(check(&v, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]));
        Some(v.iter().map(|x| char::from(b'0' + *x as u8)).collect())
    })
}

proverka_testkit::reading_never_panics!("npd", proverka_npd::NpdAdapter, parse_all);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn valid_individual_inns_validate(inn in individual_inn(), days_back in 0i64..3000) {
        let today = Date::today_moscow();
        let date = date_days_before(today, days_back);
        prop_assert!(NpdQuery::parse(&inn, Some(&date.to_iso())).is_ok());
    }

    #[test]
    fn a_changed_check_digit_is_refused(inn in individual_inn(), bump in 1u8..10) {
        let mut b = inn.into_bytes();
        b[11] = b'0' + (b[11] - b'0' + bump) % 10;
        let e = NpdQuery::parse(std::str::from_utf8(&b).unwrap(), None).unwrap_err();
        prop_assert_eq!(e.message, "Field inn is invalid");
    }

    #[test]
    fn keys_differ_by_date_and_inn(inn in individual_inn(), a in 0i64..1000, b in 0i64..1000) {
        let today = Date::today_moscow();
        let q = |d: i64| NpdQuery::parse(&inn, Some(&date_days_before(today, d).to_iso())).unwrap().cache_key();
        prop_assert_eq!(q(a) == q(b), a == b);
    }
}

fn date_days_before(today: Date, days: i64) -> Date {
    let at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(((today.days_since_epoch() - days) * 86_400) as u64 + 43_200);
    Date::moscow_date_at(at)
}

#[test]
fn a_missing_date_is_today_in_moscow_and_keyed_as_such() {
    let implicit = NpdQuery::parse("540304378234", None).unwrap();
    let explicit = NpdQuery::parse("540304378234", Some(&Date::today_moscow().to_iso())).unwrap();
    // The test could straddle Moscow midnight; both are built within microseconds.
    assert_eq!(implicit.cache_key(), explicit.cache_key());
    assert!(
        implicit
            .upstream_request()
            .query
            .iter()
            .any(|(k, v)| *k == "date" && *v == Date::today_moscow().to_iso())
    );
}

#[test]
fn validation_mirrors_the_provider() {
    let e = |inn: &str, date: Option<&str>| NpdQuery::parse(inn, date).unwrap_err();
    assert_eq!(
        e("", None).provider_body(),
        r#"{"error":"Field inn is required","error_code":40000}"#
    );
    assert_eq!(e("7707083893", None).message, "Field inn is invalid");
    assert_eq!(
        e("540304378234", Some("01.01.2022")).message,
        "Field date is invalid"
    );
    assert_eq!(
        e("540304378234", Some("2022-02-30")).message,
        "Field date is invalid"
    );
    assert_eq!(
        e("540304378234", Some("2999-01-01")).reason,
        "the date is in the future"
    );
}

#[test]
fn ttl_past_dates_long_today_until_moscow_midnight() {
    // 2024-03-10T20:00:00Z = 23:00 in Moscow.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_710_100_800);
    let today = Date::moscow_date_at(now);
    assert_eq!(keep_for(today, now), Duration::from_secs(3600));
    let yesterday = date_days_before(today, 1);
    assert_eq!(keep_for(yesterday, now), PAST_DATE_TTL);
}
