//! How two answers to one NPD query differ, for monitoring: a status gained or lost.

use proverka_core::status_day::StatusOnDay as _;
use proverka_npd::NpdQuery;

/// A self-employed person's answer, another person's, and an error (no answer to compare).
const ANSWERS: [&str; 3] = [
    "found_self_employed.json",
    "found_not_self_employed.json",
    "error_40304.json",
];

#[test]
fn a_status_gained_or_lost_is_the_one_change() {
    let query = NpdQuery::parse("540304378234", Some("2024-02-01")).unwrap();
    proverka_testkit::assert_status_changes(&query, "npd", ANSWERS);
}
