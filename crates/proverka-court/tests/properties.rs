//! Properties: parsing never panics; address and coordinate validation; cache keys.

use proptest::prelude::*;
use proverka_core::ProviderRefusal as _;
use proverka_core::{Lookup, RawAnswer};
use proverka_court::{Address, Coords, CourtQuery, ProviderError};

/// The judgement of `raw` as the answer to an address query (the court's does not depend on time).
fn judge(raw: &RawAnswer) -> proverka_core::Verdict {
    let query =
        proverka_court::CourtQuery::from_pairs(&[("address", "Москва, Тверская 1")]).unwrap();
    proverka_core::Lookup::judge(&query, raw, std::time::UNIX_EPOCH)
}

fn parse_both_ways(raw: RawAnswer) {
    let _ = proverka_court::parse(&raw);
    let _ = judge(&raw);
    let _ = proverka_court::queries_left(&raw.body);
}

fn key(pairs: &[(&str, &str)]) -> proverka_core::CacheKey {
    CourtQuery::from_pairs(pairs).unwrap().cache_key()
}

proverka_testkit::reading_never_panics!("court", proverka_court::CourtAdapter, parse_both_ways);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn a_building_is_read_from_any_text_without_panic(address in "\\PC{0,60}") {
        let _ = Address::building_only(&address);
    }

    #[test]
    fn in_range_points_are_accepted_and_out_of_range_refused(lat in -200.0f64..200.0, lon in -400.0f64..400.0) {
        let ok = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        let r = Coords::new(lat, lon);
        prop_assert_eq!(r.is_ok(), ok);
        if let Err(e) = r {
            prop_assert_eq!(e.provider, ProviderError::BadCoordinates);
        }
    }

    #[test]
    fn address_keys_ignore_case_and_whitespace(
        words in prop::collection::vec("[А-Яа-я0-9]{1,8}", 1..5), pad in "[ \t]{0,3}", upper in any::<bool>(),
    ) {
        let a = words.join(" ");
        let b = format!("{pad}{}{pad}", words.join(&format!(" {pad}")));
        let b = if upper { b.to_uppercase() } else { b };
        prop_assert_eq!(key(&[("address", &a)]), key(&[("token", "x"), ("address", &b)]));
    }

    #[test]
    fn coordinates_win_over_the_address(address in "[А-Яа-я ]{1,20}", lat in 41.0f64..80.0, lon in 20.0f64..180.0) {
        prop_assume!(!address.trim().is_empty());
        let coords = format!("{lon:.6} {lat:.6}");
        prop_assert_eq!(key(&[("address", &address), ("coords", &coords)]), key(&[("coords", &coords)]));
        prop_assert_ne!(key(&[("address", &address)]), key(&[("coords", &coords)]));
    }

    #[test]
    fn different_points_different_keys(lat in 41.0f64..80.0, lon in 20.0f64..180.0) {
        let a = format!("{lon:.6} {lat:.6}");
        let b = format!("{lon:.6} {:.6}", lat + 0.001);
        prop_assert_ne!(key(&[("coords", &a)]), key(&[("coords", &b)]));
    }
}

#[test]
fn unit_parts_are_reported_or_stripped() {
    let a = Address::new("Иркутская область Г. Иркутск ул. Ленина д.25 кв. 110").unwrap();
    assert_eq!(a.unit_parts(), ["кв. 110"]);
    assert!(a.as_str().ends_with("кв. 110"));
    let b = Address::building_only("Москва, ул. Тверская, д. 1, офис 5, этаж 3").unwrap();
    assert_eq!(b.as_str(), "Москва, ул. Тверская, д. 1");
    assert_eq!(b.unit_parts(), ["офис 5", "этаж 3"]);
    assert!(Address::new("   ").is_err());
    assert!(Address::building_only("кв. 5").is_err());
    let e = CourtQuery::from_pairs(&[("token", "x")]).unwrap_err();
    assert_eq!(e.provider, ProviderError::NoCoordsOrAddress);
    assert_eq!(
        e.provider_body(),
        r#"{"data":{"error":"Coords or address params not assigned","status":0}}"#
    );
    let e = CourtQuery::from_pairs(&[("coords", "55.7;49.1")]).unwrap_err();
    assert_eq!(e.provider, ProviderError::BadCoordinates);
}
