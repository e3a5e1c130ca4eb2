//! Properties: parsing never panics; requestId validation; keys per requestId and page.

use proptest::prelude::*;
use proverka_alfa::{AccountStatus, ListStatus, RegistryQuery};
use proverka_core::{Bytes, Lookup, RawAnswer};

fn parse_all(body: Vec<u8>, status: u16) {
    let mut raw = RawAnswer::json(Bytes::from(body));
    raw.status = status;
    let _ = proverka_alfa::parse(&raw);
    let _ = proverka_alfa::judge(&raw);
}

fn uuid() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(
        body in prop::collection::vec(any::<u8>(), 0..512),
        status in prop::sample::select(vec![200u16, 400, 401, 403, 404, 500, 502]),
    ) {
        parse_all(body, status);
    }

    #[test]
    fn parser_never_panics_on_mutated_fixtures(
        pick in any::<prop::sample::Index>(),
        mutations in proverka_testkit::mutations(),
    ) {
        let all = proverka_testkit::fixture_bodies("alfa");
        parse_all(proverka_testkit::mutate(all[pick.index(all.len())].1.clone(), &mutations), 200);
    }

    #[test]
    fn query_reading_never_panics(id in "\\PC{0,40}", limit in "\\PC{0,6}", offset in "\\PC{0,6}") {
        let _ = RegistryQuery::from_parts(&id, &[("limit", &limit), ("offset", &offset)]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn uuids_validate_and_case_does_not_change_the_key(id in uuid(), limit in 1u32..=1000, offset in 0u32..100_000) {
        let a = RegistryQuery::new(&id).unwrap().page(limit, offset).unwrap();
        let b = RegistryQuery::new(&id.to_uppercase()).unwrap().page(limit, offset).unwrap();
        prop_assert_eq!(a.cache_key(), b.cache_key());
    }

    #[test]
    fn another_page_or_request_is_another_key(id in uuid(), other in uuid(), offset in 0u32..100_000) {
        let q = |id: &str, offset| RegistryQuery::new(id).unwrap().page(100, offset).unwrap().cache_key();
        prop_assert_ne!(q(&id, offset), q(&id, offset + 100));
        prop_assume!(id.to_lowercase() != other.to_lowercase());
        prop_assert_ne!(q(&id, offset), q(&other, offset));
    }

    #[test]
    fn statuses_round_trip(s in "[A-Z_]{1,30}") {
        let (list, account) = (ListStatus::parse(&s), AccountStatus::parse(&s));
        prop_assert_eq!(list.as_str(), s.as_str());
        prop_assert_eq!(account.as_str(), s.as_str());
    }
}

#[test]
fn bad_ids_and_limits_are_refused_like_the_bank() {
    assert!(RegistryQuery::new("4e817e78-5876-4608-a873-bcc14145404").is_err());
    assert!(RegistryQuery::new("4e817e78x5876-4608-a873-bcc141454045").is_err());
    assert!(
        RegistryQuery::new("4e817e78-5876-4608-a873-bcc141454045")
            .unwrap()
            .page(0, 0)
            .is_err()
    );
    let e = RegistryQuery::new("../../etc/passwd").unwrap_err();
    assert!(e.provider_body().contains("invalid_request"));
    let q = RegistryQuery::from_parts("4e817e78-5876-4608-a873-bcc141454045", &[("limit", "10")])
        .unwrap();
    assert_eq!(q.limit(), Some(10));
    assert_eq!(q.offset(), None);
    assert!(
        RegistryQuery::from_parts("4e817e78-5876-4608-a873-bcc141454045", &[("offset", "-1")])
            .is_err()
    );
}
