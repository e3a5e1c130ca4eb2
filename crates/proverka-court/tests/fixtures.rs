//! Every fixture under `fixtures/court/` parsed, judged and snapshotted.

use proverka_core::RawAnswer;
use serde_json::json;

#[test]
fn there_are_at_least_10_fixtures() {
    assert!(proverka_testkit::fixture_bodies("court").len() >= 10);
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    proverka_testkit::snapshot_fixtures!("court", |_name: &str, raw: RawAnswer| {
        let parsed = match proverka_court::parse(&raw) {
            Ok(answer) => serde_json::to_value(answer).unwrap(),
            Err(e) => json!({
                "error": e.to_string(),
                "source": format!("{:?}", e.source_kind()),
                "retryable": e.retryable(),
            }),
        };
        json!({
            "verdict": format!("{:?}", proverka_court::judge(&raw)),
            "queries_left": proverka_court::queries_left(&raw.body),
            "parsed": parsed,
        })
    });
}
