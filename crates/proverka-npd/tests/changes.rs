//! How two answers to one NPD query differ, for monitoring: a status gained or lost.

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Change, Lookup};
use proverka_npd::NpdQuery;
use proverka_testkit::fixture_raw;

#[test]
fn a_status_gained_or_lost_is_the_one_change() {
    let query = NpdQuery::parse("540304378234", Some("2024-02-01")).unwrap();
    let payer = fixture_raw("npd", "found_self_employed.json");
    let not = fixture_raw("npd", "found_not_self_employed.json");
    assert_eq!(query.changes(&payer, &payer), []);
    assert_eq!(
        query.changes(&payer, &not),
        [Change::new(
            "self_employed",
            Some("true".into()),
            Some("false".into())
        )]
    );
    assert_eq!(
        query.changes(&not, &payer)[0].after.as_deref(),
        Some("true")
    );
    // An answer that cannot be read is no answer to compare.
    assert_eq!(
        query.changes(&payer, &fixture_raw("npd", "error_40304.json")),
        []
    );
}
