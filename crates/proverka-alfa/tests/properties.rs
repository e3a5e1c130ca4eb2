//! Properties: parsing never panics; requestId validation; keys per requestId and page.

use proptest::prelude::*;
use proverka_alfa::{AccountStatus, ListStatus, RegistryQuery};
use proverka_core::ProviderRefusal as _;
use proverka_core::{Lookup, RawAnswer};

/// The judgement of `raw` as the answer to a status query (the bank's does not depend on time).
fn judge(raw: &RawAnswer) -> proverka_core::Verdict {
    let query = proverka_alfa::RegistryQuery::new("6f0b1c2d-1111-4222-8333-944455556666").unwrap();
    proverka_core::Lookup::judge(&query, raw, std::time::UNIX_EPOCH)
}

fn parse_all(raw: RawAnswer) {
    let _ = proverka_alfa::parse(&raw);
    let _ = judge(&raw);
}

fn uuid() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
}

proverka_testkit::reading_never_panics!("alfa", proverka_alfa::AlfaAdapter, parse_all);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn ids_are_sent_as_given_and_the_key_is_case_exact(id in uuid(), limit in 1u32..=100_000, offset in 0u32..100_000) {
        // The page: "requestId string required": sent as given; another spelling is another
        // id for proverka (the bank decides what it means).
        let a = RegistryQuery::new(&id).unwrap().page(limit, offset);
        let path = a.upstream_request().path;
        prop_assert_eq!(path.rsplit('/').next(), Some(id.as_str()));
        let upper = id.to_uppercase();
        prop_assume!(upper != id);
        let b = RegistryQuery::new(&upper).unwrap().page(limit, offset);
        prop_assert_ne!(a.cache_key(), b.cache_key());
    }

    #[test]
    fn another_page_or_request_is_another_key(id in uuid(), other in uuid(), offset in 0u32..100_000) {
        let q = |id: &str, offset| RegistryQuery::new(id).unwrap().page(100, offset).cache_key();
        prop_assert_ne!(q(&id, offset), q(&id, offset + 100));
        prop_assume!(id != other);
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
fn ids_that_are_no_safe_path_segment_are_refused_as_proverka_s_own_rule() {
    // The page: "requestId string required, Уникальный идентификатор запроса".
    for id in [
        "4e817e78-5876-4608-a873-bcc14145404",
        "req-2024.11_A~1",
        "ABC",
    ] {
        assert_eq!(RegistryQuery::new(id).unwrap().request_id(), id);
    }
    for id in [
        "../../etc/passwd",
        "a/b",
        "a b",
        "%2e%2e",
        "",
        "..",
        &"x".repeat(129),
    ] {
        let e = RegistryQuery::new(id).unwrap_err();
        assert_eq!(e.refused_by, proverka_core::RefusedBy::Proverka, "{id}");
        assert!(e.provider_body().contains(r#""error":"proverka""#), "{id}");
    }
    // "limit integer optional": no maximum on the page, so none here.
    let q = RegistryQuery::from_parts("4e817e78-5876-4608-a873-bcc141454045", &[("limit", "5000")])
        .unwrap();
    assert_eq!(q.limit(), Some(5000));
    assert_eq!(q.offset(), None);
    // Not an integer: the bank's own invalid_request.
    let e = RegistryQuery::from_parts("4e817e78-5876-4608-a873-bcc141454045", &[("offset", "-1")])
        .unwrap_err();
    assert!(e.provider_body().contains("invalid_request"));
}
