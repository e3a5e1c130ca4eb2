//! Every fixture under `fixtures/fssp/` parsed, judged and snapshotted.

use proverka_core::{Bytes, RawAnswer};
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

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fssp")
}

#[test]
fn there_are_at_least_25_fixtures() {
    let n = std::fs::read_dir(fixture_dir()).unwrap().count();
    assert!(n >= 25, "only {n} fixtures");
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    insta::glob!("../../../fixtures/fssp", "*.{json,html,txt}", |path| {
        let name = path.file_name().unwrap().to_string_lossy();
        let body = std::fs::read(path).unwrap();
        let raw = RawAnswer {
            status: 200,
            content_type: Some("application/json; charset=utf-8".into()),
            body: Bytes::from(body),
        };
        let kind = kind_for(&name);
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
        insta::assert_json_snapshot!(json!({
            "query_type": kind.as_str(),
            "verdict": format!("{verdict:?}"),
            "parsed": parsed,
        }));
    });
}
