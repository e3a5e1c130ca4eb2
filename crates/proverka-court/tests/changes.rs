//! How two answers to one court query differ, for monitoring: another court.

use proverka_core::{Change, Lookup};
use proverka_court::CourtQuery;
use proverka_testkit::fixture_raw;

#[test]
fn another_court_is_a_change_and_the_same_courts_are_none() {
    let query = CourtQuery::from_pairs(&[("address", "Казань, Московская 1")]).unwrap();
    let both = fixture_raw("court", "found_both_courts.json");
    let none = fixture_raw("court", "not_found_both_null.json");
    assert_eq!(query.changes(&both, &both), []);
    let changes = query.changes(&both, &none);
    let what: Vec<&str> = changes.iter().map(|c| c.what.as_ref()).collect();
    assert_eq!(what, ["court_fs", "court_ms"]);
    assert!(
        changes
            .iter()
            .all(|c| c.before.is_some() && c.after.is_none())
    );
    assert_eq!(
        changes[0],
        Change::new(
            "court_fs",
            Some("Вахитовский районный суд г. Казани".into()),
            None
        )
    );
}
