//! The adapter against the provider's page (`shared/seeds/001_1fe34d93b2f429eb.txt`): each
//! test quotes the line it follows.

use proverka_core::ProviderRefusal as _;
use proverka_core::{Lookup, RefusedBy};
use proverka_court::{CoordOrder, CourtQuery, ProviderError};

fn coords(value: &str) -> Result<CourtQuery, proverka_court::ValidationError> {
    CourtQuery::from_pairs(&[("coords", value)])
}

#[test]
fn coordinates_in_either_order_sent_as_given() {
    // "Если не удается найти суд по координатам, попробуйте поменять порядок расположения
    // широты и долготы координат. Пример: не находит c "55.794340 49.099524", но найдет c
    // "49.099524 55.794340"."
    for (given, order) in [
        ("49.099524 55.794340", CoordOrder::LongitudeFirst),
        ("55.794340 49.099524", CoordOrder::LongitudeFirst),
        // Vladivostok, latitude first: east of 90°E only this order is a point on Earth.
        ("43.115 131.885", CoordOrder::LatitudeFirst),
        ("131.885 43.115", CoordOrder::LongitudeFirst),
    ] {
        let q = coords(given).unwrap();
        let CourtQuery::Coords { order: got, .. } = &q else {
            panic!("coords")
        };
        assert_eq!(*got, order, "{given}");
        let sent = q.coords_param().unwrap();
        let numbers: Vec<f64> = sent.split(' ').map(|n| n.parse().unwrap()).collect();
        let given_numbers: Vec<f64> = given.split(' ').map(|n| n.parse().unwrap()).collect();
        assert_eq!(numbers, given_numbers, "sent in the order given");
        assert_eq!(q.upstream_request().query[0].1, sent);
    }
    // "Формат координат принимается с разделителем - пробелом": other shapes get the
    // provider's own error.
    for bad in ["49.1,55.7", "49.1", "x y", "1 2 3"] {
        let e = coords(bad).unwrap_err();
        assert_eq!(
            (e.provider.clone(), e.refused_by),
            (ProviderError::BadCoordinates, RefusedBy::Provider),
            "{bad}"
        );
    }
    // Two numbers that are no point in either order: proverka's own rule, marked.
    let e = coords("200 300").unwrap_err();
    assert_eq!(e.refused_by, RefusedBy::Proverka);
    assert!(
        e.provider_body().contains(r#""error":"proverka: "#),
        "{}",
        e.provider_body()
    );
}
