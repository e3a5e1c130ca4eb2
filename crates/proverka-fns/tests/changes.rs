//! How two answers of the free check differ, for monitoring: a status gained or lost.

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Change, Lookup};
use proverka_fns::FnsQuery;
use proverka_testkit::fixture_raw;

#[test]
fn a_status_gained_or_lost_is_the_one_change() {
    let query = FnsQuery::parse("540304378234", Some("2024-02-01")).unwrap();
    let payer = fixture_raw("fns", "status_true.json");
    let not = fixture_raw("fns", "status_false.json");
    assert_eq!(query.changes(&not, &not), []);
    assert_eq!(
        query.changes(&not, &payer),
        [Change::new(
            "self_employed",
            Some("false".into()),
            Some("true".into())
        )]
    );
    assert_eq!(
        query.changes(&payer, &fixture_raw("fns", "error_422_limited.json")),
        []
    );
}
