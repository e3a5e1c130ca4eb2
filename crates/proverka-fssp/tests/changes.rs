//! How two answers to one FSSP query differ, for monitoring: a proceeding added or no longer
//! listed (by its number), its debt changed, its end recorded; a wanted record added or gone.

use proverka_core::{Lookup, RawAnswer};
use proverka_fssp::{FsspQuery, QueryType};
use proverka_testkit::fixture;
use serde_json::{Value, json};

/// A change as text: what, which, before, after.
type Seen<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn raw(value: &Value) -> RawAnswer {
    RawAnswer::json(proverka_core::Bytes::from(
        serde_json::to_vec(value).unwrap(),
    ))
}

/// The page's `physical` sample, its first record numbered `number` with `sum`.
fn with_record(body: &mut Value, number: &str, sum: &str) {
    let mut record = body["records"][0].clone();
    record["process_title"] = json!(number);
    record["sum"] = json!(sum);
    record["stopIPDate"] = json!("");
    body["records"].as_array_mut().unwrap().push(record);
}

#[test]
fn proceedings_added_closed_and_debts_changed_by_number() {
    let query = FsspQuery::example(QueryType::Physical);
    let sample: Value = serde_json::from_str(&fixture("fssp", "physical_found.json")).unwrap();
    let mut before = sample.clone();
    before["records"] = json!([]);
    with_record(&mut before, "1/24/77001-ИП", "100.00");
    with_record(&mut before, "2/24/77001-ИП", "200.00");
    let mut after = before.clone();
    after["records"][0]["sum"] = json!("150.00");
    after["records"][1]["stopIPDate"] = json!("01.03.2024");
    with_record(&mut after, "3/24/77001-ИП", "300.00");

    assert_eq!(query.changes(&raw(&before), &raw(&before)), []);
    let changes = query.changes(&raw(&before), &raw(&after));
    let seen: Vec<Seen<'_>> = changes
        .iter()
        .map(|c| {
            (
                c.what.as_ref(),
                c.item.as_deref(),
                c.before.as_deref(),
                c.after.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "debt",
                Some("1/24/77001-ИП"),
                Some("100.00"),
                Some("150.00")
            ),
            ("closed", Some("2/24/77001-ИП"), None, Some("2024-03-01")),
            ("proceeding", Some("3/24/77001-ИП"), None, Some("300.00")),
        ]
    );
    // A proceeding no longer listed.
    let gone = query.changes(&raw(&after), &raw(&before));
    assert!(gone.iter().any(|c| c.what == "proceeding"
        && c.item.as_deref() == Some("3/24/77001-ИП")
        && c.after.is_none()));
}

#[test]
fn a_wanted_record_added_or_gone_by_its_proceeding_number() {
    let query = FsspQuery::example(QueryType::Wanted);
    let sample: Value = serde_json::from_str(&fixture("fssp", "wanted_found.json")).unwrap();
    let mut fewer = sample.clone();
    fewer["records"] = json!([]);
    let number = sample["records"][0]["ipNumber"]
        .as_str()
        .expect("the sample's record has a proceeding number")
        .to_owned();
    let added = query.changes(&raw(&fewer), &raw(&sample));
    assert!(
        added
            .iter()
            .any(|c| c.what == "wanted" && c.item.as_deref() == Some(number.as_str())),
        "{added:?}"
    );
    assert!(
        query
            .changes(&raw(&sample), &raw(&fewer))
            .iter()
            .all(|c| c.after.is_none())
    );
}
