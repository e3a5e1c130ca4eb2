//! The `proverka` binary end to end, against the sandbox on loopback (and a proxy where the
//! test says so): formats in and out, Russian headers, invalid rows, duplicates, dry runs,
//! resume after Ctrl-C, and `kill -9` then resume without paying twice.

use std::path::PathBuf;
use std::time::Duration;

use proverka_core::Provider;
use proverka_sandbox::{Fault, Sandbox};
use proverka_testkit::individual_inn as inn;

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_with_russian_headers_invalid_rows_and_duplicates() {
    let s = sandbox().await;
    let d = dir("csv");
    let input = d.join("people.csv");
    std::fs::write(
        &input,
        format!(
            "\u{feff}Сотрудник;ИНН;Дата проверки\n\
             Иванова;{};2024-03-01\n\
             Петров;{};01.03.2024\n\
             Иванова (дубль);{};2024-03-01\n\
             Ошибка;12345;2024-03-01\n\
             Без ИНН;;2024-03-01\n",
            proverka_npd::sandbox::PAYER,
            proverka_npd::sandbox::NON_PAYER,
            proverka_npd::sandbox::PAYER
        ),
    )
    .unwrap();
    let out = d.join("result.csv");
    let mut c = proverka(&s);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b';');
    assert_eq!(
        rows[0][..3],
        ["Сотрудник", "ИНН", "Дата проверки"],
        "input columns kept"
    );
    assert_eq!(
        column(&rows, "Сотрудник")[2],
        "Иванова (дубль)",
        "row order kept"
    );
    assert_eq!(
        column(&rows, "status"),
        ["ok", "ok", "ok", "invalid", "invalid"]
    );
    assert_eq!(column(&rows, "self_employed")[..3], ["yes", "no", "yes"]);
    assert_eq!(column(&rows, "error_code")[3..], ["proverka", "40000"]);
    assert_eq!(column(&rows, "billed")[3..], ["free", "free"]);
    // Two distinct valid queries: two calls, two billed; the duplicate and the invalid rows
    // cost nothing.
    assert_eq!((s.calls(Provider::Npd), s.billed(Provider::Npd)), (2, 2));
    assert!(log.contains("distinct: 2"), "{log}");
    assert!(
        log.contains("saved 0.00 RUB by the cache and 1.50 RUB by collapsing duplicates"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_in_and_out_for_courts() {
    let s = sandbox().await;
    let d = dir("xlsx");
    let input = d.join("addresses.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in [
        ["Клиент", "Адрес", "Координаты", "Код"],
        [
            "ООО Ромашка",
            proverka_court::sandbox::ADDRESS_FOUND,
            "",
            "",
        ],
        ["ИП Владивосток", "", "43.115 131.885", ""],
        ["Пусто", "", "", ""],
        ["Плохие координаты", "", "43,1;131,8", ""],
    ]
    .iter()
    .enumerate()
    {
        for (col, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, col as u16, *v).unwrap();
        }
    }
    // A number typed as a number stays whole: a client code column.
    sheet.write_number(1, 3, 7707083893.0).unwrap();
    book.save(&input).unwrap();
    let out = d.join("courts.xlsx");
    let mut c = proverka(&s);
    batch(&mut c, &input, "court", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&out).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        column(&rows, "Клиент"),
        [
            "ООО Ромашка",
            "ИП Владивосток",
            "Пусто",
            "Плохие координаты"
        ]
    );
    assert_eq!(column(&rows, "status"), ["ok", "ok", "invalid", "invalid"]);
    assert!(column(&rows, "court_fs")[0].contains("суд"), "{rows:?}");
    assert!(
        !column(&rows, "court_fs")[1].is_empty(),
        "latitude first is found too"
    );
    assert_eq!(
        column(&rows, "error_code")[2..],
        [
            "Coords or address params not assigned",
            "Non-correct recording of coordinates"
        ]
    );
    assert_eq!(rows[1][3], "7707083893");
    assert_eq!(s.calls(Provider::Court), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_in_and_out_for_fssp_and_a_dry_run_that_sends_nothing() {
    let s = sandbox().await;
    let d = dir("jsonl");
    let input = d.join("debtors.jsonl");
    std::fs::write(
        &input,
        "{\"Фамилия\":\"Иванов\",\"Имя\":\"Иван\",\"Дата рождения\":\"1980-03-31\",\"Регион\":77,\"note\":\"a\"}\n\
         {\"Фамилия\":\"Чистов\",\"Имя\":\"Пётр\",\"Дата рождения\":\"01.01.1990\",\"note\":\"b\"}\n\
         {\"Фамилия\":\"Ив@нов\",\"Имя\":\"Иван\",\"Дата рождения\":\"01.01.1990\",\"note\":\"c\"}\n",
    )
    .unwrap();
    let out = d.join("debts.jsonl");
    let mut dry = proverka(&s);
    batch(&mut dry, &input, "fssp-physical", &out);
    dry.arg("--dry-run");
    let (code, log) = run(dry).await;
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("valid: 2, invalid: 1") && log.contains("2.80 RUB"),
        "{log}"
    );
    assert_eq!(s.calls(Provider::Fssp), 0, "--dry-run sends nothing");
    assert!(!out.exists());
    let mut c = proverka(&s);
    batch(&mut c, &input, "fssp-physical", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["note"], "a", "the input's own column");
    assert_eq!(lines[0]["note (proverka)"], serde_json::Value::Null);
    assert_eq!(lines[0]["status"], "ok");
    assert_eq!(lines[0]["debt_rub"], "20028.12");
    assert_eq!(lines[1]["records"], 0, "a paid \"not found\"");
    assert_eq!(lines[1]["price_rub"], "1.40");
    assert_eq!(lines[2]["status"], "invalid");
    assert_eq!(lines[2]["error_code"], "888");
    assert_eq!(s.calls(Provider::Fssp), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_what_was_paid_and_the_same_command_resumes() {
    let s = sandbox().await;
    s.inject(
        Provider::Npd,
        Fault::latency(Duration::from_millis(200)),
        None,
    );
    let d = dir("interrupt");
    let input = npd_list(&d, 30);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    batch(&mut c, &input, "npd", &out);
    c.args(["--concurrency", "2"]);
    let child = c.spawn().unwrap();
    billed_npd(&s, 2).await;
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{log}");
    assert!(log.contains("run the same command again"), "{log}");
    let rows = read_csv(&out, b',');
    let statuses = column(&rows, "status");
    let answered = statuses.iter().filter(|s| *s == "ok").count();
    assert!(
        answered >= 2 && statuses.contains(&"pending".to_owned()),
        "{statuses:?}"
    );
    assert_eq!(
        s.billed(Provider::Npd) as usize,
        answered,
        "calls in flight finished and kept"
    );
    // Resume: answered rows are not sent again.
    s.clear_faults();
    let mut again = proverka(&s);
    batch(&mut again, &input, "npd", &out);
    let (code, log) = run(again).await;
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains(&format!("answered before: {answered}")),
        "{log}"
    );
    assert_eq!(s.billed(Provider::Npd), 30, "every row paid exactly once");
    assert!(
        column(&read_csv(&out, b','), "status")
            .iter()
            .all(|s| s == "ok")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_through_the_proxy_then_resume_pays_no_row_twice() {
    let s = sandbox().await;
    s.inject(
        Provider::Npd,
        Fault::latency(Duration::from_millis(300)),
        None,
    );
    let url = start_proxy(&s, &proverka_testkit::own_store(), "").await;
    let d = dir("kill9");
    let input = npd_list(&d, 20);
    let out = d.join("out.jsonl");
    let command = || {
        let mut c = proverka(&s);
        c.args(["--proxy", &url]);
        batch(&mut c, &input, "npd", &out);
        c.args(["--concurrency", "4"]);
        c
    };
    let mut child = command().spawn().unwrap();
    billed_npd(&s, 4).await;
    child.kill().await.unwrap(); // SIGKILL: no chance to clean up
    // The calls in flight at the kill go on in the proxy and are cached there.
    s.clear_faults();
    let (code, log) = run(command()).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.billed(Provider::Npd), 20, "no row paid twice: {log}");
    let answered = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"status\":\"ok\""))
        .count();
    assert_eq!(answered, 20);
    // The proxy answers `only-if-cached` from its cache or with 504, never calling out.
    let r = reqwest::Client::new()
        .get(format!("{url}/v1/npd"))
        .query(&[("inn", inn(999_999).as_str()), ("date", "2024-02-01")])
        .header("Cache-Control", "only-if-cached")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    assert_eq!(s.calls(Provider::Npd), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_free_to_retry_are_listed_and_retry_failed_sends_only_them() {
    let s = sandbox().await;
    let d = dir("retry");
    let input = npd_list(&d, 3);
    let out = d.join("out.csv");
    // The source does not answer: `success = 0` every time (free, "ask again").
    s.inject(Provider::Npd, Fault::SuccessZero, None);
    let mut c = proverka(&s);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 1, "{log}");
    let rows = read_csv(&out, b',');
    assert_eq!(column(&rows, "status"), ["retry_later"; 3]);
    assert_eq!(column(&rows, "billed"), ["free"; 3]);
    let calls = s.calls(Provider::Npd);
    // A plain re-run sends nothing: the journal has these rows.
    s.clear_faults();
    let mut again = proverka(&s);
    batch(&mut again, &input, "npd", &out);
    let (code, _) = run(again).await;
    assert_eq!((code, s.calls(Provider::Npd)), (1, calls));
    // --retry-failed sends exactly them.
    let mut retry = proverka(&s);
    batch(&mut retry, &input, "npd", &out);
    retry.arg("--retry-failed");
    let (code, log) = run(retry).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.calls(Provider::Npd), calls + 3);
    assert_eq!(column(&read_csv(&out, b','), "status"), ["ok"; 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_costly_batch_is_not_paid_without_a_yes() {
    let s = sandbox().await;
    let d = dir("confirm");
    let input = npd_list(&d, 3);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    c.args([
        "batch",
        "--check",
        "npd",
        "--confirm-above",
        "2.00",
        "--input",
    ])
    .arg(&input)
    .arg("--out")
    .arg(&out);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("--yes") && log.contains("4.50 RUB"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_sharing_redis_pay_once_and_keep_it_encrypted() {
    let s = sandbox().await;
    let redis = proverka_testkit::redis::RedisServer::start();
    let d = dir("redis");
    let input = npd_list(&d, 4);
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let run_to = |out: PathBuf, with_key: bool| {
        let mut c = proverka(&s);
        c.args(["--redis", &redis.url()]);
        if with_key {
            c.env("PROVERKA_CACHE_ENCRYPTION_KEY", key);
        }
        batch(&mut c, &input, "npd", &out);
        c
    };
    // Without a key, refused before anything is sent: answers hold personal data.
    let (code, log) = run(run_to(d.join("none.csv"), false)).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("PROVERKA_CACHE_ENCRYPTION_KEY"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 0);
    let (code, log) = run(run_to(d.join("first.csv"), true)).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.calls(Provider::Npd), 4);
    // Another run (another output, no journal) finds every answer in Redis.
    let (code, log) = run(run_to(d.join("second.csv"), true)).await;
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("cached already: 4"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 4, "nothing paid twice");
    assert_eq!(
        column(&read_csv(&d.join("second.csv"), b','), "source"),
        ["cache"; 4]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_source_free_then_paid_sends_the_overflow_to_api_assist() {
    // The free check's own limit (2 a minute from one address) and the CLI's default pace
    // (2 a minute): the first query's turn is now, the next ones would wait 30 s and 60 s,
    // over the 10 s allowed, so they go to api-assist at once.
    let s = sandbox().await;
    let d = dir("npd-free-then-paid");
    let input = npd_list(&d, 3);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    c.args(["--npd-source", "free-then-paid"]);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b',');
    assert_eq!(column(&rows, "status"), ["ok", "ok", "ok"]);
    let mut sources = column(&rows, "source");
    sources.sort();
    assert_eq!(
        sources,
        ["fns", "provider", "provider"],
        "each answer names its source"
    );
    let fns_row = column(&rows, "source")
        .iter()
        .position(|s| s == "fns")
        .unwrap();
    assert_eq!(column(&rows, "billed")[fns_row], "free");
    assert_eq!(column(&rows, "price_rub")[fns_row], "0.00");
    assert_eq!(s.calls(Provider::Fns), 1);
    assert_eq!((s.calls(Provider::Npd), s.billed(Provider::Npd)), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_source_free_never_calls_api_assist_and_needs_no_key() {
    let s = Sandbox::builder()
        .set("fns", "per_minute", "1000")
        .expect("the free check's simulator has per_minute")
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let d = dir("npd-free");
    let input = npd_list(&d, 3);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    c.env_remove("PROVERKA_PROVIDERS_NPD_KEY")
        .env("PROVERKA_PROVIDERS_FNS_PER_MINUTE", "6000")
        .args(["--npd-source", "free"]);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b',');
    assert_eq!(column(&rows, "status"), ["ok", "ok", "ok"]);
    assert_eq!(column(&rows, "source"), ["fns", "fns", "fns"]);
    assert_eq!(column(&rows, "billed"), ["free", "free", "free"]);
    assert_eq!((s.calls(Provider::Fns), s.calls(Provider::Npd)), (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_source_free_reports_a_refusal_as_retry_later_and_pays_nothing() {
    let s = sandbox().await;
    s.inject(
        Provider::Fns,
        Fault::ProviderError {
            code: "taxpayer.status.service.limited.error".into(),
        },
        None,
    );
    let mut c = proverka(&s);
    c.env_remove("PROVERKA_PROVIDERS_NPD_KEY").args([
        "--npd-source",
        "free",
        "--json",
        "npd",
        "--inn",
        proverka_npd::sandbox::PAYER,
    ]);
    let out = c.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "retry_later", "{v}");
    assert_eq!(v["billed"], "free", "{v}");
    assert_eq!((s.calls(Provider::Fns), s.calls(Provider::Npd)), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_source_limited_or_unavailable_goes_to_api_assist_without_an_error() {
    for code in [
        "taxpayer.status.service.limited.error",
        "taxpayer.status.service.unavailable.error",
    ] {
        let s = sandbox().await;
        s.inject(
            Provider::Fns,
            Fault::ProviderError { code: code.into() },
            None,
        );
        let mut c = proverka(&s);
        c.args([
            "--npd-source",
            "free-then-paid",
            "--json",
            "npd",
            "--inn",
            proverka_npd::sandbox::PAYER,
        ]);
        let out = c.output().await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{code}: {v}");
        assert_eq!(v["status"], "ok", "{code}: {v}");
        assert_eq!(v["source"], "provider", "{code}: {v}");
        assert_eq!(v["billed"], "charged", "{code}: {v}");
        assert_eq!(
            (s.calls(Provider::Fns), s.calls(Provider::Npd)),
            (1, 1),
            "{code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_source_paid_is_the_default_and_never_calls_the_free_check() {
    let s = sandbox().await;
    let d = dir("npd-paid");
    let input = npd_list(&d, 2);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        column(&read_csv(&out, b','), "source"),
        ["provider", "provider"]
    );
    assert_eq!((s.calls(Provider::Fns), s.calls(Provider::Npd)), (0, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_source_with_a_proxy_is_refused_the_proxy_decides() {
    let s = sandbox().await;
    let mut c = proverka(&s);
    c.args([
        "--proxy",
        "http://127.0.0.1:9",
        "--npd-source",
        "free",
        "npd",
        "--inn",
        proverka_npd::sandbox::PAYER,
    ]);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("[providers.npd] source decides"), "{log}");
    assert_eq!(s.calls(Provider::Fns) + s.calls(Provider::Npd), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_proxy_the_source_column_says_which_source_answered() {
    let s = Sandbox::builder()
        .set("fns", "per_minute", "1000")
        .expect("the free check's simulator has per_minute")
        .start("127.0.0.1:0")
        .await
        .unwrap();
    // The proxy's configuration decides: the free check first, at most one call a minute,
    // so the first query is free and the second goes to api-assist at once.
    let proxy_url = start_proxy(
        &s,
        &proverka_testkit::own_store(),
        &format!(
            "source = \"free-then-paid\"\nfree_max_wait_secs = 0\n[providers.fns]\nbase_url = \"{}\"\nper_minute = 1\n",
            s.url()
        ),
    )
    .await;
    let d = dir("proxy-source");
    let input = npd_list(&d, 2);
    let out = d.join("out.csv");
    let mut c = proverka(&s);
    c.args(["--proxy", &proxy_url]);
    batch(&mut c, &input, "npd", &out);
    c.args(["--concurrency", "1"]);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b',');
    assert_eq!(column(&rows, "source"), ["fns", "provider"]);
    assert_eq!(column(&rows, "billed"), ["free", "charged"]);
    assert_eq!((s.calls(Provider::Fns), s.calls(Provider::Npd)), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_var_file_forms_and_both_forms_are_refused_unshown() {
    let s = sandbox().await;
    let d = dir("file-secrets");
    let key_file = d.join("npd-key");
    std::fs::write(&key_file, "npd-key-from-file\n").unwrap();
    // The key only as a file: the check is sent with it.
    let mut c = proverka(&s);
    c.env_remove("PROVERKA_PROVIDERS_NPD_KEY")
        .env("PROVERKA_PROVIDERS_NPD_KEY_FILE", &key_file)
        .args(["npd", "--inn", proverka_npd::sandbox::PAYER]);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.calls(Provider::Npd), 1);
    // Both forms: refused before anything is sent, naming the variables, never the value.
    let mut c = proverka(&s);
    c.env("PROVERKA_PROVIDERS_NPD_KEY_FILE", &key_file).args([
        "npd",
        "--inn",
        proverka_npd::sandbox::PAYER,
    ]);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("both PROVERKA_PROVIDERS_NPD_KEY and PROVERKA_PROVIDERS_NPD_KEY_FILE"),
        "{log}"
    );
    assert!(!log.contains("npd-key"), "{log}");
    // A file that cannot be read: named by its path.
    let mut c = proverka(&s);
    c.env_remove("PROVERKA_PROVIDERS_NPD_KEY")
        .env("PROVERKA_PROVIDERS_NPD_KEY_FILE", d.join("absent"))
        .args(["npd", "--inn", proverka_npd::sandbox::PAYER]);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("PROVERKA_PROVIDERS_NPD_KEY_FILE: cannot read"),
        "{log}"
    );
    assert_eq!(
        s.calls(Provider::Npd),
        1,
        "nothing sent after the first check"
    );
}
