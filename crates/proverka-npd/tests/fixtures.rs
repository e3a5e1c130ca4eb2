//! Every fixture under `fixtures/npd/` parsed, judged and snapshotted.

use proverka_core::ProviderRefusal as _;
use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Date, Lookup, RawAnswer};
use proverka_npd::NpdQuery;
use serde_json::json;

/// When answers are judged in these tests: 2024-02-01 20:00 in Moscow (17:00 UTC).
fn at() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800)
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    // A past date, so the verdict's TTL does not depend on the time of day.
    let query = NpdQuery::new(
        "540304378234".parse().unwrap(),
        Some(Date::from_ymd(2022, 1, 1).unwrap()),
    )
    .unwrap();
    proverka_testkit::snapshot_fixtures!(|name: &str, mut raw: RawAnswer| {
        // The provider sends its 403 and 400 codes with those HTTP statuses.
        if name.starts_with("error_403") {
            raw.status = 403;
        } else if name.starts_with("error_40000") {
            raw.status = 400;
        }
        let parsed = proverka_testkit::parsed_or_error(proverka_npd::parse(&raw));
        json!({"http_status": raw.status, "verdict": format!("{:?}", query.judge(&raw, at())), "parsed": parsed})
    });
}

/// The money rules of NPD answers: only `success = 1` is charged (the page).
#[test]
fn money_rules() {
    use proverka_core::{Billed, Date};
    let raw = |name| proverka_testkit::fixture_raw("npd", name);
    let q = proverka_npd::NpdQuery::new(
        "540304378234".parse().unwrap(),
        Some(Date::parse_iso("2024-02-01").unwrap()),
    )
    .unwrap();
    // `success = 1` without a readable `found`: billed, not an answer, not re-sent.
    let v = q.judge(&raw("success_without_found.json"), at());
    assert_eq!(v.billed(), Billed::Yes(None), "{v:?}");
    assert_eq!((v.keep_for(), v.free_to_resend()), (None, false));
    // `success = 0`: free, re-sent.
    let v = q.judge(&raw("success_zero_retry.json"), at());
    assert_eq!((v.billed(), v.free_to_resend()), (Billed::No, true));
    // A byte-order mark does not hide an answer.
    let v = q.judge(&raw("bom_found.json"), at());
    // The status on 2024-02-01, judged at 20:00 that day in Moscow, lasts until midnight there.
    assert_eq!(
        v.keep_for(),
        Some(std::time::Duration::from_secs(4 * 3600)),
        "{v:?}"
    );
    assert!(
        proverka_npd::parse(&raw("bom_found.json"))
            .unwrap()
            .self_employed
    );
}

/// The page (`shared/seeds/003_2ddd066b5b595222.txt`): "inn — ИНН физического лица, 12 цифр
/// (обязательный)", "`Field inn is required` - не указан ИНН", "`Field date is invalid` -
/// неверный формат даты". Other refusals are proverka's own, and say so.
#[test]
fn refusals_by_the_page_and_by_proverka() {
    use proverka_core::RefusedBy;
    let e = NpdQuery::parse("", None).unwrap_err();
    assert_eq!(
        (e.provider_body(), e.refused_by),
        (
            r#"{"error":"Field inn is required","error_code":40000}"#.to_owned(),
            RefusedBy::Provider
        )
    );
    let e = NpdQuery::parse("540304378234", Some("01.02.2024")).unwrap_err();
    assert_eq!(
        (e.provider_body(), e.refused_by),
        (
            r#"{"error":"Field date is invalid","error_code":40000}"#.to_owned(),
            RefusedBy::Provider
        )
    );
    for (inn, date) in [
        ("540304378235", None),
        ("7707083893", None),
        ("540304378234", Some("2999-01-01")),
    ] {
        let e = NpdQuery::parse(inn, date).unwrap_err();
        assert_eq!(e.refused_by, RefusedBy::Proverka, "{inn}");
        assert!(
            e.provider_body().contains(r#""error_code":"proverka""#),
            "{inn}"
        );
    }
}
