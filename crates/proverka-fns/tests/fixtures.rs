//! Every fixture under `fixtures/fns/` parsed, judged and snapshotted; the money rules of
//! the free service.

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Billed, Lookup, RawAnswer};
use proverka_fns::FnsQuery;
use serde_json::json;

/// When answers are judged in these tests: 2024-02-01 20:00 in Moscow (17:00 UTC).
fn at() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800)
}

fn query() -> FnsQuery {
    // The day before `at()`: a past date, whose answers keep for `PAST_DATE_TTL`.
    FnsQuery::parse("540304378234", Some("2024-01-31")).unwrap()
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    let query = query();
    proverka_testkit::snapshot_fixtures!(|name: &str, mut raw: RawAnswer| {
        // The service sends its error codes with HTTP 422.
        if name.starts_with("error_422") {
            raw.status = 422;
        }
        let parsed = proverka_testkit::parsed_or_error(proverka_fns::parse(&raw));
        json!({"http_status": raw.status, "verdict": format!("{:?}", query.judge(&raw, at())), "parsed": parsed})
    });
}

/// The service is free: nothing it answers is billed, so nothing is "billed: unknown";
/// "try later" is retryable, an answer is kept.
#[test]
fn money_rules() {
    let q = query();
    let raw = |name: &str, status: u16| {
        let mut r = proverka_testkit::fixture_raw("fns", name);
        r.status = status;
        r
    };
    for (name, status) in [
        ("status_true.json", 200),
        ("html_page.html", 200),
        ("empty_body.txt", 200),
        ("error_422_limited.json", 422),
        ("error_422_unknown_code.json", 422),
    ] {
        assert_eq!(
            q.judge(&raw(name, status), at()).billed(),
            Billed::No,
            "{name}"
        );
    }
    let answer = q.judge(&raw("status_true.json", 200), at());
    assert!(answer.keep_for().is_some());
    for name in ["error_422_limited.json", "error_422_unavailable.json"] {
        let v = q.judge(&raw(name, 422), at());
        assert!(v.free_to_resend(), "{name}: {v:?}");
    }
    let v = q.judge(&raw("error_422_validation_failed.json", 422), at());
    assert!(!v.retryable(), "{v:?}");
    // An unknown code keeps its text in the model but a bounded metric label.
    let e = proverka_fns::parse(&raw("error_422_unknown_code.json", 422)).unwrap_err();
    assert!(e.to_string().contains("some.new.error"), "{e}");
    assert_eq!(
        q.judge(&raw("error_422_unknown_code.json", 422), at())
            .code(),
        "other"
    );
}

#[test]
fn the_request_is_a_post_of_json_with_the_resolved_date() {
    let r = query().upstream_request();
    assert_eq!(r.path, proverka_fns::PATH);
    let body: serde_json::Value = serde_json::from_str(r.json_body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"inn": "540304378234", "requestDate": "2024-01-31"})
    );
    assert_eq!(r.redacted(), format!("{} (JSON body)", proverka_fns::PATH));
    // Without a date: today in Moscow, resolved before the query is keyed.
    let today = FnsQuery::parse("540304378234", None).unwrap();
    assert_eq!(today.date(), proverka_core::Date::today_moscow());
}
