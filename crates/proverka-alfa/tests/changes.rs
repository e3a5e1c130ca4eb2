//! How two pages of one registry differ, for monitoring: the registry's status, a person's.

use proverka_alfa::RegistryQuery;
use proverka_core::Lookup;
use proverka_testkit::fixture_raw;

#[test]
fn the_registry_s_status_and_each_person_s_are_changes() {
    let query = RegistryQuery::from_parts("4e817e78-5876-4608-a873-bcc141454045", &[]).unwrap();
    let in_progress = fixture_raw("alfa", "list_status_in_progress.json");
    let success = fixture_raw("alfa", "list_status_success.json");
    assert_eq!(query.changes(&success, &success), []);
    let changes = query.changes(&in_progress, &success);
    let list = changes
        .iter()
        .find(|c| c.what == "list_status")
        .expect("the registry's status changed");
    assert_eq!(
        (list.before.as_deref(), list.after.as_deref()),
        (Some("IN_PROGRESS"), Some("SUCCESS"))
    );
    assert_eq!(
        changes.len(),
        1,
        "the one person is READY in both: {changes:?}"
    );
    // A person whose status moved: by their INN.
    let requested = fixture_raw("alfa", "success_with_someone_still_requested.json");
    let person = query.changes(&requested, &success);
    assert_eq!(person.len(), 1, "{person:?}");
    assert_eq!(person[0].what, "person_status");
    assert_eq!(person[0].item.as_deref(), Some("112233445566"));
    assert_eq!(
        (person[0].before.as_deref(), person[0].after.as_deref()),
        (Some("TAXPAYER_STATUS_REQUESTED"), Some("READY"))
    );
}
