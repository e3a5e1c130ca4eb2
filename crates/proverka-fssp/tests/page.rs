//! The adapter against the provider's page (`shared/seeds/000_174d4d2e7888f3ca.txt`): each
//! test quotes the line it follows.

use proverka_core::ProviderRefusal as _;
use proverka_core::{Billed, Money, RawAnswer, RefusedBy};
use proverka_fssp::{ErrorCode, FsspAnswer, FsspQuery, Id, Legal, Physical, QueryType, Region};

/// The judgement of `raw` as the answer to a query of `kind` (FSSP's does not depend on time).
fn judge(kind: QueryType, raw: &RawAnswer) -> proverka_core::Verdict {
    proverka_core::Lookup::judge(&FsspQuery::example(kind), raw, std::time::UNIX_EPOCH)
}

fn query(pairs: &[(&str, &str)]) -> Result<FsspQuery, proverka_fssp::ValidationError> {
    FsspQuery::from_pairs(pairs)
}

#[test]
fn legal_regions_may_hold_letters() {
    // legal: "region - Номер региона … Разрешено: кирилица, латиница, цифры, знак "-""
    for region in ["23", "Москва", "Krasnodar-1", "77-1"] {
        let q = Legal::new("аптека 23", Region::parse_legal(region).unwrap()).unwrap();
        assert_eq!(q.region().as_param(), region);
    }
    // physical: "region … Разрешено: цифры, знак "-"": letters stay refused there, with 888.
    let e = Region::parse("Москва").unwrap_err();
    assert_eq!(
        (e.code, e.refused_by),
        (ErrorCode::ForbiddenSymbols, RefusedBy::Provider)
    );
    let e = query(&[
        ("type", "legal"),
        ("nameLegal", "аптека"),
        ("region", "Моск@ва"),
    ])
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ForbiddenSymbols);
}

#[test]
fn no_fixed_range_of_regions_the_region_list_is_the_authority() {
    // 09.07.2025: "Для всех методов добавлены новые виды Территориальных органов (region)".
    for region in ["1000", "70000", "1000000", "0"] {
        let q = Physical::new(
            "Иванов",
            "Иван",
            "31.03.1980",
            Region::parse(region).unwrap(),
        );
        assert_eq!(q.unwrap().person().region().as_param(), region);
    }
    // "Список доступен через тип запроса "regionsList"" (free): when at hand, it decides.
    let list = FsspAnswer::from_raw(
        QueryType::RegionsList,
        &RawAnswer::json(proverka_testkit::fixture(
            "fssp",
            "regions_list_records.json",
        )),
    )
    .unwrap();
    let FsspAnswer::Regions(regions) = list else {
        panic!("a region list")
    };
    assert!(regions.contains(&Region::All));
    let known = &regions.regions[0].code;
    assert!(regions.check(&Region::parse(known).unwrap()).is_ok());
    let e = regions
        .check(&Region::parse("1000000").unwrap())
        .unwrap_err();
    assert_eq!(
        (e.code, e.refused_by),
        (ErrorCode::MissingRegion, RefusedBy::Provider)
    );
}

#[test]
fn executive_document_numbers_as_they_are_written() {
    // The page's own sample: "document_num": "ФС 039022227" // Номер документа
    for number in [
        "ФС 039022227",
        "2А-1234/2021",
        "№ 2-100/2024",
        "ВС 012345.1",
        "2-1234/2021",
    ] {
        let q = Id::new(number, Region::Code(77)).unwrap();
        assert_eq!(q.number(), number);
    }
    // What no document number can hold is refused with the provider's 888.
    for number in ["2-100@2024", "2-100/2024?x=1", "\"2-100\"", "2-100\u{0}"] {
        let e = Id::new(number, Region::Code(77)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ForbiddenSymbols, "{number}");
    }
    // "Внимание! В данный момент работает корректно только поиск с указанием конкретного
    // региона": -1 is refused by proverka's own rule, and says so.
    let e = Id::new("ФС 039022227", Region::All).unwrap_err();
    assert_eq!(e.refused_by, RefusedBy::Proverka);
    assert!(
        e.provider_body().starts_with(r#"{"error":"proverka""#),
        "{}",
        e.provider_body()
    );
}

#[test]
fn only_actual_is_one_of_four_values_or_refused() {
    // "onlyActual=1 - Фильтр "Только актуальные делопроизводства""
    let base = [
        ("type", "physical"),
        ("lastname", "Иванов"),
        ("firstname", "Иван"),
        ("birthdate", "31.03.1980"),
        ("region", "77"),
    ];
    for (value, on) in [
        ("1", true),
        ("0", false),
        ("true", true),
        ("false", false),
        ("", false),
    ] {
        let mut pairs = base.to_vec();
        pairs.push(("onlyActual", value));
        let FsspQuery::Physical(q) = query(&pairs).unwrap() else {
            panic!("physical")
        };
        assert_eq!(q.person().only_actual(), on, "{value}");
    }
    for value in ["yes", "2", "да"] {
        let mut pairs = base.to_vec();
        pairs.push(("onlyActual", value));
        let e = query(&pairs).unwrap_err();
        assert_eq!(
            (e.param, e.refused_by),
            ("onlyActual", RefusedBy::Proverka),
            "{value}"
        );
        assert!(e.provider_body().contains("proverka"), "{value}");
    }
}

#[test]
fn partial_loads_say_so() {
    // wanted: "Максимальное количество загружаемых страниц: 27"; "totalLoadedPage": 27 of
    // "pagesAll": 288.
    let raw = RawAnswer::json(proverka_testkit::fixture("fssp", "wanted_found.json"));
    let Ok(FsspAnswer::Wanted(w)) = FsspAnswer::from_raw(QueryType::Wanted, &raw) else {
        panic!("wanted")
    };
    assert_eq!((w.complete, w.loaded), (false, 405));
    // physical: "totalLoadedPage": 3 of "pagesAll":"3" (по умолчанию загружается 25 страниц).
    let raw = RawAnswer::json(proverka_testkit::fixture("fssp", "physical_found.json"));
    let Ok(FsspAnswer::Debtors(d)) = FsspAnswer::from_raw(QueryType::Physical, &raw) else {
        panic!("physical")
    };
    assert!(d.complete);
    // 25 pages loaded of 30 found: partial, and the typed JSON shows it.
    let partial = r#"{"status":200,"countAll":"450","pagesAll":"30","count":375,"totalLoadedPage":25,"records":[{"debtor_name":"x"}]}"#;
    let Ok(answer) = FsspAnswer::from_raw(QueryType::Physical, &RawAnswer::json(partial)) else {
        panic!("partial")
    };
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(
        (json["complete"].as_bool(), json["loaded"].as_i64()),
        (Some(false), Some(375))
    );
}

#[test]
fn an_inquiry_printed_inside_a_record_is_read_for_price_and_balance() {
    // The page's ip sample closes its record after "inquiry": {"price": 0.8, "balance":
    // 100462.11, …}.
    let raw = RawAnswer::json(proverka_testkit::fixture(
        "fssp",
        "ip_inquiry_inside_record.json",
    ));
    let v = judge(QueryType::Ip, &raw);
    assert_eq!(v.billed(), Billed::Yes(Some(Money::from_kopecks(80))));
    assert_eq!(v.reported().balance, Some(Money::from_kopecks(10_046_211)));
}

#[test]
fn the_legal_not_found_fixture_has_the_page_s_price() {
    // The legal section's "not found" sample: "price":1.4.
    let raw = RawAnswer::json(proverka_testkit::fixture("fssp", "legal_not_found.json"));
    assert_eq!(
        judge(QueryType::Legal, &raw).billed(),
        Billed::Yes(Some(Money::from_kopecks(140)))
    );
}
