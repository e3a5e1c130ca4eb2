//! Every fixture under `fixtures/court/` parsed, judged and snapshotted.

use proverka_core::RawAnswer;
use serde_json::json;

/// The judgement of `raw` as the answer to an address query (the court's does not depend on time).
fn judge(raw: &RawAnswer) -> proverka_core::Verdict {
    let query =
        proverka_court::CourtQuery::from_pairs(&[("address", "Москва, Тверская 1")]).unwrap();
    proverka_core::Lookup::judge(&query, raw, std::time::UNIX_EPOCH)
}

#[test]
fn every_fixture_parses_as_snapshotted() {
    proverka_testkit::snapshot_fixtures!(|_name: &str, raw: RawAnswer| {
        let parsed = proverka_testkit::parsed_or_error(proverka_court::parse(&raw));
        json!({
            "verdict": format!("{:?}", judge(&raw)),
            "queries_left": proverka_court::queries_left(&raw.body),
            "parsed": parsed,
        })
    });
}

/// A byte-order mark and line ends around the JSON do not make an answer unreadable; every
/// answer spends a query of the quota (billed); an HTML page after HTTP 200 may have.
#[test]
fn money_rules() {
    use proverka_core::Billed;
    let raw = |name| proverka_testkit::fixture_raw("court", name);
    let v = judge(&raw("bom_not_found.json"));
    assert_eq!(v.keep_for(), Some(proverka_court::NOT_FOUND_TTL), "{v:?}");
    assert_eq!(v.billed(), Billed::Yes(None));
    assert_eq!(
        proverka_court::queries_left(&raw("bom_not_found.json").body),
        Some(41)
    );
    let v = judge(&raw("html_page.html"));
    assert_eq!((v.billed(), v.free_to_resend()), (Billed::Unknown, false));
}
