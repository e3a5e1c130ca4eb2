//! Every fixture under `fixtures/fssp/` parsed, judged and snapshotted.

use proverka_core::RawAnswer;
use proverka_fssp::{FsspAnswer, FsspQuery, QueryType};
use serde_json::json;

/// The judgement of `raw` as the answer to a query of `kind` (FSSP's does not depend on time).
fn judge(kind: QueryType, raw: &RawAnswer) -> proverka_core::Verdict {
    proverka_core::Lookup::judge(&FsspQuery::example(kind), raw, std::time::UNIX_EPOCH)
}

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
    proverka_testkit::snapshot_fixtures!(|name: &str, raw: RawAnswer| {
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

/// The money rules of FSSP answers (docs/errors.md, "Billed, per provider").
#[test]
fn money_rules() {
    use proverka_core::{Billed, Money};
    let raw = |name| proverka_testkit::fixture_raw("fssp", name);
    // A message alone is not "no debts": never stored, and possibly billed (no `inquiry`).
    let v = judge(
        QueryType::Physical,
        &raw("message_only_source_unavailable.json"),
    );
    assert_eq!(v.keep_for(), None, "{v:?}");
    assert_eq!(v.billed(), Billed::Unknown);
    assert!(!v.free_to_resend());
    // A byte-order mark and CRLF around the JSON do not make an answer unreadable.
    let v = judge(
        QueryType::Physical,
        &raw("bom_and_crlf_around_not_found.json"),
    );
    assert!(v.keep_for().is_some(), "{v:?}");
    assert_eq!(v.billed(), Billed::Yes(Some(Money::from_kopecks(140))));
    // An HTTP 200 cut short: possibly billed, never re-sent, never stored.
    let v = judge(QueryType::Physical, &raw("truncated.json"));
    assert_eq!(
        (v.billed(), v.keep_for(), v.free_to_resend()),
        (Billed::Unknown, None, false)
    );
    // The documented free, retryable error is the one thing re-sent.
    let v = judge(QueryType::Physical, &raw("error_456_max_limit.json"));
    assert_eq!((v.billed(), v.free_to_resend()), (Billed::No, true));
    // The free region list stays free even when unreadable.
    let v = judge(QueryType::RegionsList, &raw("html_captcha_page.html"));
    assert_eq!(v.billed(), Billed::No);
}
