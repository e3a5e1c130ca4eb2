//! How two answers of the free check differ, for monitoring: a status gained or lost.

use proverka_core::status_day::StatusOnDay as _;
use proverka_fns::FnsQuery;
use proverka_testkit::assert_status_changes;

/// A payer's answer, a non-payer's, and one that cannot be read (the service's limit).
const ANSWERS: [&str; 3] = [
    "status_true.json",
    "status_false.json",
    "error_422_limited.json",
];

#[test]
fn a_status_gained_or_lost_is_the_one_change() {
    let query = FnsQuery::parse("540304378234", Some("2024-02-01")).unwrap();
    assert_status_changes(&query, "fns", ANSWERS);
}
