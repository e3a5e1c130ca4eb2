//! Properties: parsing never panics, valid queries validate, forbidden characters get 888,
//! cache keys are invariant where they must be and differ where they must.

use proptest::prelude::*;
use proverka_core::{Lookup, RawAnswer};
use proverka_fssp::{FsspAnswer, FsspQuery, QueryType};

/// The judgement of `raw` as the answer to a query of `kind` (FSSP's does not depend on time).
fn judge(kind: QueryType, raw: &RawAnswer) -> proverka_core::Verdict {
    proverka_core::Lookup::judge(&FsspQuery::example(kind), raw, std::time::UNIX_EPOCH)
}

fn parse_all_ways(raw: RawAnswer) {
    for kind in QueryType::ALL {
        let _ = judge(kind, &raw);
        let _ = FsspAnswer::from_raw(kind, &raw);
    }
}

/// Letters the provider allows in names: Cyrillic with Ё/ё, Latin, digits, `-`.
const NAME: &str = "[А-Яа-яЁёA-Za-z0-9-]{1,20}";

fn date() -> impl Strategy<Value = String> {
    (1u32..=28, 1u32..=12, 1920u32..=2005).prop_map(|(d, m, y)| format!("{d:02}.{m:02}.{y}"))
}

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-1".to_owned()),
        (1u16..=999).prop_map(|n| n.to_string())
    ]
}

fn forbidden_char() -> impl Strategy<Value = char> {
    prop::sample::select(
        "@#$%^&*()_+=!?.,;:'\"<>[]{}|\\~`/ßіў中€"
            .chars()
            .collect::<Vec<_>>(),
    )
}

fn pairs(v: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    v.to_vec()
}

fn query(p: &[(&'static str, String)]) -> Result<FsspQuery, proverka_fssp::ValidationError> {
    let borrowed: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    FsspQuery::from_pairs(&borrowed)
}

proverka_testkit::reading_never_panics!("fssp", proverka_fssp::FsspAdapter, parse_all_ways);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn valid_person_queries_validate(
        last in NAME, first in NAME, second in proptest::option::of(NAME),
        birth in date(), region in region(), kind in prop::sample::select(vec!["physical", "alim"]),
    ) {
        prop_assume!(last.to_lowercase() != first.to_lowercase());
        let mut p = pairs(&[("type", kind.to_owned()), ("lastname", last), ("firstname", first), ("birthdate", birth), ("region", region)]);
        if let Some(s) = second { p.push(("secondname", s)); }
        prop_assert!(query(&p).is_ok(), "{:?}", query(&p));
    }

    #[test]
    fn one_forbidden_character_is_888(
        last in NAME, first in NAME, birth in date(), region in region(),
        bad in forbidden_char(), at in any::<prop::sample::Index>(),
        field in prop::sample::select(vec!["lastname", "firstname"]),
    ) {
        prop_assume!(last.to_lowercase() != first.to_lowercase());
        let mut p = pairs(&[("type", "physical".to_owned()), ("lastname", last), ("firstname", first), ("birthdate", birth), ("region", region)]);
        let slot = p.iter_mut().find(|(k, _)| *k == field).unwrap();
        let mut chars: Vec<char> = slot.1.chars().collect();
        let i = at.index(chars.len() + 1);
        chars.insert(i, bad);
        slot.1 = chars.into_iter().collect();
        let err = query(&p).unwrap_err();
        prop_assert_eq!(err.code.number(), Some(888));
        prop_assert_eq!(err.param, field);
    }

    #[test]
    fn forbidden_character_in_other_parameters_is_888(
        bad in forbidden_char().prop_filter("allowed in ip numbers", |c| *c != '/'),
        which in 0usize..4,
    ) {
        let p = match which {
            0 => pairs(&[("type", "wanted".into()), ("fio", format!("Иванов{bad}Иван"))]),
            1 => pairs(&[("type", "legal".into()), ("nameLegal", format!("Аптека{bad}"),), ("region", "23".into())]),
            2 => pairs(&[("type", "ip".into()), ("number", format!("32472/17/23072{bad}ИП"))]),
            _ => pairs(&[("type", "inn".into()), ("inn", format!("770708389{bad}")), ("region", "-1".into())]),
        };
        prop_assert_eq!(query(&p).unwrap_err().code.number(), Some(888));
    }

    #[test]
    fn cache_key_ignores_order_case_and_whitespace(
        last in NAME, first in NAME, birth in date(), region in region(),
        pad in "[ \t]{0,3}", rotate in 0usize..5, upper in any::<bool>(),
    ) {
        prop_assume!(last.to_lowercase() != first.to_lowercase());
        let base = pairs(&[("type", "physical".into()), ("lastname", last.clone()), ("firstname", first.clone()), ("birthdate", birth.clone()), ("region", region.clone())]);
        let mut other = pairs(&[
            ("type", "physical".into()),
            ("lastname", format!("{pad}{}{pad}", if upper { last.to_uppercase() } else { last.to_lowercase() })),
            ("firstname", format!("{pad}{first}")),
            ("birthdate", birth),
            ("region", region),
            ("token", "not part of the key".into()),
        ]);
        other.rotate_left(rotate);
        prop_assert_eq!(query(&base).unwrap().cache_key(), query(&other).unwrap().cache_key());
    }

    #[test]
    fn cache_key_differs_when_a_parameter_differs(
        last in NAME, first in NAME, birth in date(), region in region(), change in 0usize..5,
    ) {
        prop_assume!(last.to_lowercase() != first.to_lowercase());
        let base = pairs(&[("type", "physical".into()), ("lastname", last.clone()), ("firstname", first.clone()), ("birthdate", birth.clone()), ("region", region.clone())]);
        let mut other = base.clone();
        match change {
            0 => other[1].1.push('x'),
            1 => other[2].1.push('x'),
            2 => other[3].1 = if birth == "01.01.2000" { "02.01.2000".into() } else { "01.01.2000".into() },
            3 => other[4].1 = if region == "500" { "501".into() } else { "500".into() },
            _ => other.push(("onlyActual", "1".into())),
        }
        prop_assume!(other[1].1.to_lowercase() != other[2].1.to_lowercase());
        prop_assert_ne!(query(&base).unwrap().cache_key(), query(&other).unwrap().cache_key());
    }

    #[test]
    fn legal_names_collapse_whitespace_in_keys(pad in "[ ]{1,4}") {
        let a = query(&pairs(&[("type", "legal".into()), ("nameLegal", format!("Аптека{pad}23")), ("region", "23".into())])).unwrap();
        let b = query(&pairs(&[("type", "legal".into()), ("name", "АПТЕКА 23".into()), ("region", "23".into())])).unwrap();
        prop_assert_eq!(a.cache_key(), b.cache_key());
    }
}

#[test]
fn physical_and_alim_keys_differ() {
    let p = |t: &str| {
        query(&pairs(&[
            ("type", t.into()),
            ("lastname", "Иванов".into()),
            ("firstname", "Иван".into()),
            ("birthdate", "01.01.1980".into()),
            ("region", "77".into()),
        ]))
        .unwrap()
        .cache_key()
    };
    assert_ne!(p("physical"), p("alim"));
}
