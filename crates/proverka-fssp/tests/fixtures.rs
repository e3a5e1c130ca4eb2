//! Every fixture under `fixtures/fssp/` parsed, judged and snapshotted.

use proverka_core::RawAnswer;
use proverka_fssp::{FsspAnswer, QueryType, judge};
use serde_json::json;

/// The query type a fixture answers, told by its file name.
fn kind_for(name: &str) -> QueryType {
    if name.starts_with("regions") {
        QueryType::RegionsList
    } else if name.starts_with("wanted") {
        QueryType::Wanted
    } else {
        QueryType::Physical
    }
}

#[test]
fn there_are_at_least_25_fixtures() {
    let n = proverka_testkit::fixture_bodies("fssp").len();
    assert!(n >= 25, "only {n} fixtures");
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    proverka_testkit::snapshot_fixtures!("fssp", |name: &str, raw: RawAnswer| {
        let kind = kind_for(name);
        let verdict = judge(kind, &raw);
        let parsed = match FsspAnswer::from_raw(kind, &raw) {
            Ok(answer) => serde_json::to_value(answer).unwrap(),
            Err(e) => json!({
                "error": e.to_string(),
                "source": format!("{:?}", e.source_kind()),
                "charged": format!("{:?}", e.charged()),
                "retryable": e.retryable(),
            }),
        };
        json!({
            "query_type": kind.as_str(),
            "verdict": format!("{verdict:?}"),
            "parsed": parsed,
        })
    });
}
