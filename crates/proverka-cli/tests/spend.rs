//! `proverka spend` end to end: what a batch paid, read back from the store as JSON, CSV and
//! XLSX (numbers as numbers), and what a proxy's clients paid, read through the proxy with a
//! client key.

mod common;

use calamine::{Data, Reader, Xlsx, open_workbook};
use common::*;
use proverka_core::Provider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_s_spend_is_reported_from_its_store_in_every_format() {
    let s = sandbox().await;
    let d = dir("spend-store");
    let input = npd_list(&d, 6);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.billed(Provider::Npd), 6);
    let store = d.join("out.csv.proverka.sqlite");

    let report = |args: &[&str]| {
        let mut c = proverka(&s);
        c.arg("--store").arg(&store).arg("spend").args(args);
        c
    };
    let json = report(&["--format", "json"]).output().await.unwrap();
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["total_rub"], "9.00", "{v}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["provider"], "npd");
    assert_eq!(rows[0]["calls"], 6);
    assert_eq!(rows[0]["charged_calls"], 6);
    assert_eq!(rows[0]["spent_rub"], "9.00");
    assert!(
        rows[0]["client"].as_str().unwrap().starts_with("proverka"),
        "{v}"
    );

    let csv = d.join("spend.csv");
    let (code, log) = run({
        let mut c = report(&["--out"]);
        c.arg(&csv);
        c
    })
    .await;
    assert_eq!(code, 0, "{log}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("\u{feff}client,client_id,provider,kind,calls"),
        "{text}"
    );
    assert!(text.contains(",npd,"), "{text}");
    assert!(text.contains(",6,6,0,9.00,0.00"), "{text}");

    let xlsx = d.join("spend.xlsx");
    let (code, log) = run({
        let mut c = report(&["--month", &today()[..7], "--out"]);
        c.arg(&xlsx);
        c
    })
    .await;
    assert_eq!(code, 0, "{log}");
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get((0, 7)), Some(&Data::String("spent_rub".into())));
    assert_eq!(sheet.get((1, 4)), Some(&Data::Float(6.0)));
    assert_eq!(
        sheet.get((1, 7)),
        Some(&Data::Float(9.0)),
        "rubles are numbers"
    );

    // Another month: nothing.
    let empty = report(&["--month", "2020-01", "--format", "json"])
        .output()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&empty.stdout).unwrap();
    assert_eq!(v["total_rub"], "0.00", "{v}");
    let bad = report(&["--month", "2026-13"]).output().await.unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Today in Moscow, as the store counts days.
fn today() -> String {
    proverka_core::Date::moscow_date_at(std::time::SystemTime::now()).to_iso()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_s_spend_is_reported_through_it_each_client_its_own() {
    let s = sandbox().await;
    let url = start_proxy(
        &s,
        &proverka_testkit::own_store(),
        "[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n[[clients]]\nname = \"hr\"\nkey = \"hr-client-key\"\n",
    )
    .await;
    let client = reqwest::Client::new();
    for (key, n) in [
        ("crm-client-key", 1),
        ("crm-client-key", 2),
        ("hr-client-key", 3),
    ] {
        let r = client
            .get(format!("{url}/v1/npd"))
            .query(&[
                ("inn", proverka_testkit::individual_inn(n)),
                ("date", "2024-02-01".into()),
            ])
            .header("X-Proverka-Key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let report = |key: &str| {
        let mut c = proverka(&s);
        c.args([
            "--proxy",
            &url,
            "--key",
            key,
            "spend",
            "--day",
            &today(),
            "--format",
            "json",
        ]);
        c
    };
    let out = report("crm-client-key").output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total_rub"], "3.00", "crm sees its own: {v}");
    assert_eq!(v["rows"][0]["client"], "crm");
    let out = report("hr-client-key").output().await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total_rub"], "1.50", "{v}");
    let out = report("wrong-client-key").output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
}
