//! Properties: parsing never panics; validation refuses exactly the service's range.

use proptest::prelude::*;
use proverka_core::Lookup;
use proverka_core::ProviderRefusal as _;
use proverka_core::status_day::StatusOnDay as _;
use proverka_fns::FnsQuery;

/// When answers are judged in these tests: 2024-02-01 20:00 in Moscow (17:00 UTC).
fn at() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800)
}

proverka_testkit::reading_never_panics!("fns", proverka_fns::FnsAdapter, |raw| {
    let _ = proverka_fns::parse(&raw);
    let query = FnsQuery::parse("540304378234", Some("2024-02-01")).unwrap();
    let _ = query.judge(&raw, at());
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dates_from_2019_to_today_are_accepted_and_earlier_refused(y in 2000u16..2019, m in 1u8..13, d in 1u8..29) {
        let date = format!("{y:04}-{m:02}-{d:02}");
        prop_assert!(FnsQuery::parse("540304378234", Some(&date)).is_err());
        let date = format!("{:04}-{m:02}-{d:02}", y + 19);
        let ok = FnsQuery::parse("540304378234", Some(&date));
        let today = proverka_core::Date::today_moscow().to_iso();
        prop_assert_eq!(ok.is_ok(), date.as_str() <= today.as_str(), "{}", date);
    }

    #[test]
    fn anything_but_an_individuals_inn_is_refused_before_the_network(inn in "[0-9]{0,14}") {
        if let Ok(q) = FnsQuery::parse(&inn, Some("2024-02-01")) {
            prop_assert_eq!(inn.len(), 12);
            prop_assert_eq!(q.inn().to_string(), inn);
        }
    }
}

#[test]
fn refusals_say_whose_rule_refused() {
    let e = FnsQuery::parse("7707083893", Some("2024-02-01")).unwrap_err();
    assert!(
        e.provider_body().contains("validation.failed"),
        "{}",
        e.provider_body()
    );
    // A bad checksum: proverka's own rule, marked as such.
    let e = FnsQuery::parse("540304378235", Some("2024-02-01")).unwrap_err();
    assert!(
        e.provider_body().contains("proverka"),
        "{}",
        e.provider_body()
    );
    let e = FnsQuery::parse("540304378234", Some("2018-12-31")).unwrap_err();
    assert!(e.provider_body().contains("validation.failed"));
}
