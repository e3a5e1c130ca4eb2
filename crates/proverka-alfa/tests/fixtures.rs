//! Every fixture under `fixtures/alfa/` parsed, judged and snapshotted. A fixture named
//! `error_<status>_…` is read with that HTTP status.

use proverka_core::RawAnswer;
use serde_json::json;

/// The judgement of `raw` as the answer to a status query (the bank's does not depend on time).
fn judge(raw: &RawAnswer) -> proverka_core::Verdict {
    let query = proverka_alfa::RegistryQuery::new("6f0b1c2d-1111-4222-8333-944455556666").unwrap();
    proverka_core::Lookup::judge(&query, raw, std::time::UNIX_EPOCH)
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    proverka_testkit::snapshot_fixtures!(|name: &str, mut raw: RawAnswer| {
        if let Some(status) = name.strip_prefix("error_").and_then(|r| r.get(..3)) {
            raw.status = status.parse().unwrap();
        }
        let parsed = proverka_testkit::parsed_or_error(proverka_alfa::parse(&raw));
        json!({"http_status": raw.status, "verdict": format!("{:?}", judge(&raw)), "parsed": parsed})
    });
}

/// A registry whose status is final while someone on it is still `*_REQUESTED` will change:
/// kept for seconds, not a day. Status calls are free, whatever comes back.
#[test]
fn money_and_freshness_rules() {
    use proverka_core::Billed;
    let raw = |name| proverka_testkit::fixture_raw("alfa", name);
    let v = judge(&raw("success_with_someone_still_requested.json"));
    assert_eq!(v.keep_for(), Some(proverka_alfa::IN_PROGRESS_TTL), "{v:?}");
    let v = judge(&raw("list_status_success.json"));
    assert_eq!(v.keep_for(), Some(proverka_alfa::TERMINAL_TTL), "{v:?}");
    let v = judge(&raw("ok_html.html"));
    assert_eq!((v.billed(), v.keep_for()), (Billed::No, None));
}
