//! Batches on the store of record, end to end: a torn journal of an earlier version, two runs
//! of one batch at once, `kill -9` then resume (straight to the provider, with Redis, through
//! a proxy), and a proxy's 503 sent again with `--retry-failed`: each counted at the
//! simulated provider, not a row paid twice.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{Lookup as _, Provider};
use proverka_sandbox::{Fault, SandboxHandle};
use proverka_testkit::individual_inn as inn;

/// The query key of row `i` of [`npd_list`] (its INN on 2024-02-01).
fn key(i: u64) -> String {
    proverka_npd::NpdQuery::parse(&inn(100_000 + i), Some("2024-02-01"))
        .unwrap()
        .cache_key()
        .to_hex()
}

/// A journal line as the earlier version wrote it for an answered row.
fn journal_line(i: u64) -> String {
    format!(
        "{{\"key\":\"{}\",\"status\":\"ok\",\"fields\":{{\"self_employed\":\"true\"}},\"error_code\":null,\"error_message\":null,\"billed\":\"charged\",\"price_rub\":\"1.50\",\"source\":\"provider\"}}",
        key(i)
    )
}

fn statuses(out: &Path) -> Vec<String> {
    column(&read_csv(out, b','), "status")
}

/// Runs the same batch again and again: the first run pays what the journal does not hold,
/// no later run pays anything.
async fn runs_pay_once(s: &SandboxHandle, input: &Path, out: &Path, expected_calls: u64) {
    for run_number in 2..=4 {
        let mut c = proverka(s);
        batch(&mut c, input, "npd", out);
        let (code, log) = run(c).await;
        assert_eq!(code, 1, "one row stays billed_unknown: {log}");
        assert_eq!(
            s.calls(Provider::Npd),
            expected_calls,
            "run {run_number} paid again: {log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_cut_in_a_cyrillic_character_makes_no_row_pay_again() {
    let s = sandbox().await;
    let d = dir("torn-utf8");
    let input = npd_list(&d, 30);
    let out = d.join("out.csv");
    let mut journal = (0..5)
        .map(|i| journal_line(i) + "\n")
        .collect::<String>()
        .into_bytes();
    // Row 5's line ends in the middle of «ы» (0xD1 0x8B): a full disk, an editor.
    let cut = format!(
        "{{\"key\":\"{}\",\"status\":\"error\",\"error_message\":\"ответ получен, но не запис",
        key(5)
    );
    journal.extend_from_slice(cut.as_bytes());
    journal.extend_from_slice(&"ы".as_bytes()[..1]);
    std::fs::write(d.join("out.csv.journal.jsonl"), &journal).unwrap();

    runs_pay_once(&s, &input, &out, 24).await;
    let st = statuses(&out);
    assert_eq!(st.iter().filter(|x| *x == "ok").count(), 29, "{st:?}");
    assert_eq!(
        st[5], "billed_unknown",
        "the cut row was sent: it is not sent again"
    );
    assert!(d.join("out.csv.journal.jsonl.imported").exists());
    assert!(!d.join("out.csv.journal.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_cut_in_ascii_with_the_next_record_glued_on_makes_no_row_pay_again() {
    let s = sandbox().await;
    let d = dir("torn-ascii");
    let input = npd_list(&d, 30);
    let out = d.join("out.csv");
    let mut journal: String = (0..5).map(|i| journal_line(i) + "\n").collect();
    // Row 5's line cut in plain ASCII, and the earlier version appended row 6's after it.
    let line5 = journal_line(5);
    journal.push_str(&line5[..line5.len() / 2]);
    journal.push_str(&journal_line(6));
    journal.push('\n');
    std::fs::write(d.join("out.csv.journal.jsonl"), journal).unwrap();

    runs_pay_once(&s, &input, &out, 23).await;
    let st = statuses(&out);
    assert_eq!(st[5], "billed_unknown", "{st:?}");
    assert_eq!(st[6], "ok", "the glued record was read");
}

/// Two runs of one batch at once: the second is refused at once, naming the first; only the
/// first pays, once a row. Straight to the provider and through a proxy.
async fn a_second_run_is_refused(s: &SandboxHandle, extra: &[&str], name: &str) {
    s.inject(
        Provider::Npd,
        Fault::latency(Duration::from_millis(100)),
        None,
    );
    let d = dir(name);
    let input = npd_list(&d, 30);
    let out = d.join("out.csv");
    let command = || {
        let mut c = proverka(s);
        c.args(extra);
        batch(&mut c, &input, "npd", &out);
        c.args(["--concurrency", "2"]);
        c
    };
    let first = command().spawn().unwrap();
    let pid = first.id().unwrap();
    billed_npd(s, 2).await;
    let (code, log) = run(command()).await;
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("this batch is being run by proverka") && log.contains(&format!("pid {pid}")),
        "{log}"
    );
    let done = first.wait_with_output().await.unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(s.calls(Provider::Npd), 30, "every row paid once");
    assert!(statuses(&out).iter().all(|x| x == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_of_one_batch_is_refused_straight_to_the_provider() {
    let s = sandbox().await;
    a_second_run_is_refused(&s, &[], "twice-direct").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_of_one_batch_is_refused_through_a_proxy() {
    let s = sandbox().await;
    let proxy = start_proxy(&s, &proverka_testkit::own_store(), "").await;
    a_second_run_is_refused(&s, &["--proxy", &proxy], "twice-proxy").await;
}

/// `kill -9` while calls are in flight straight to the provider, then the same command: the
/// rows in flight may have been billed and are not sent again (`billed_unknown`); the rest
/// are sent once. `--retry-unknown` then sends those rows, on purpose.
async fn kill_9_then_resume(s: &SandboxHandle, extra: &[&str], env: &[(&str, String)], name: &str) {
    s.inject(Provider::Npd, Fault::latency(Duration::from_secs(3)), None);
    let d = dir(name);
    let input = npd_list(&d, 20);
    let out = d.join("out.csv");
    let command = || {
        let mut c = proverka(s);
        c.args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        batch(&mut c, &input, "npd", &out);
        c.args(["--concurrency", "4"]);
        c
    };
    let mut child = command().spawn().unwrap();
    tokio::time::timeout(
        Duration::from_secs(60),
        s.wait_until(|s| s.calls(Provider::Npd) >= 4),
    )
    .await
    .expect("four calls in flight");
    child.kill().await.unwrap(); // SIGKILL: no chance to record anything
    let in_flight = s.calls(Provider::Npd);
    s.clear_faults();

    let (code, log) = run(command()).await;
    assert_eq!(code, 1, "{log}");
    assert_eq!(
        s.calls(Provider::Npd),
        20,
        "the rows in flight at the kill are not sent again: {log}"
    );
    let st = statuses(&out);
    let unknown = st.iter().filter(|x| *x == "billed_unknown").count() as u64;
    assert_eq!(unknown, in_flight, "{st:?}");
    assert_eq!(
        st.iter().filter(|x| *x == "ok").count() as u64,
        20 - in_flight
    );

    // Again without a flag: nothing is sent.
    let (code, _) = run(command()).await;
    assert_eq!(code, 1);
    assert_eq!(s.calls(Provider::Npd), 20);
    // On purpose: those rows are sent again, once.
    let mut again = command();
    again.arg("--retry-unknown");
    let (code, log) = run(again).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.calls(Provider::Npd), 20 + in_flight);
    assert!(statuses(&out).iter().all(|x| x == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_straight_to_the_provider_then_resume_pays_no_row_twice() {
    let s = sandbox().await;
    kill_9_then_resume(&s, &[], &[], "kill9-direct").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_redis_then_resume_pays_no_row_twice() {
    let s = sandbox().await;
    let redis = proverka_testkit::redis::RedisServer::start();
    kill_9_then_resume(
        &s,
        &["--redis", &redis.url()],
        &[(
            "PROVERKA_CACHE_ENCRYPTION_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff".to_owned(),
        )],
        "kill9-redis",
    )
    .await;
}

/// A proxy whose store of record is down answers 503 and sends nothing: the rows are
/// `retry_later`, billed free; once the store is back `--retry-failed` sends them, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_503_then_retry_failed_pays_each_row_once() {
    let s = sandbox().await;
    let mut pg = proverka_testkit::postgres::PostgresServer::start();
    let url = pg.create_database("money");
    let proxy = start_proxy(&s, &format!("store_url = \"{url}\"\n"), "").await;
    pg.stop();
    let d = dir("retry-503");
    let input = npd_list(&d, 10);
    let out = d.join("out.csv");
    let command = |retry: bool| {
        let mut c = proverka(&s);
        c.args(["--proxy", &proxy]);
        batch(&mut c, &input, "npd", &out);
        if retry {
            c.arg("--retry-failed");
        }
        c
    };
    let (code, log) = run(command(false)).await;
    assert_eq!(code, 1, "{log}");
    let rows = read_csv(&out, b',');
    assert!(
        column(&rows, "status").iter().all(|x| x == "retry_later"),
        "{rows:?}"
    );
    assert!(
        column(&rows, "billed").iter().all(|x| x == "free"),
        "{rows:?}"
    );
    assert!(
        column(&rows, "error_code")
            .iter()
            .all(|x| x == "store_unavailable"),
        "{rows:?}"
    );
    assert_eq!(s.calls(Provider::Npd), 0);

    pg.restart();
    // The proxy finds its store back by itself: /readyz, asked again as soon as it answers.
    let ready = async {
        while reqwest::get(format!("{proxy}/readyz"))
            .await
            .unwrap()
            .status()
            != 200
        {}
    };
    tokio::time::timeout(Duration::from_secs(60), ready)
        .await
        .expect("the proxy recovered without a restart");
    let (code, _) = run(command(false)).await;
    assert_eq!(code, 1, "without the flag nothing is sent again");
    assert_eq!(s.calls(Provider::Npd), 0);
    let (code, log) = run(command(true)).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.calls(Provider::Npd), 10);
    assert!(statuses(&out).iter().all(|x| x == "ok"));
    let (code, _) = run(command(true)).await;
    assert_eq!(code, 0);
    assert_eq!(
        s.calls(Provider::Npd),
        10,
        "answered rows are never sent again"
    );
}
