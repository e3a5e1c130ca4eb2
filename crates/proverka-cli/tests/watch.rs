//! `proverka watch` end to end on the sandbox, whose simulators change subjects on their
//! clock: the command's clock (`PROVERKA_NOW`) and the sandbox's move together between runs,
//! nothing waits. Each run pays once per due subject (counted at the simulated provider), the
//! first run is the baseline, and the changes reported are exactly the simulators' changes.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use common::*;
use proverka_core::Provider;
use proverka_sandbox::SandboxHandle;

const DAY: Duration = Duration::from_secs(24 * 3600);
const KEY: &str = "5151515151515151515151515151515151515151515151515151515151515151";

/// The command, pointed at the sandbox and `store`, its clock at the sandbox's now.
fn watch(s: &SandboxHandle, store: &Path, args: &[&str]) -> tokio::process::Command {
    let mut c = proverka(s);
    // To the nanosecond: a command started later never reads an earlier time.
    let now = s.now().duration_since(UNIX_EPOCH).unwrap();
    c.env(
        "PROVERKA_NOW",
        format!("{}.{:09}", now.as_secs(), now.subsec_nanos()),
    )
    .env("PROVERKA_CACHE_ENCRYPTION_KEY", KEY)
    .env_remove("PROVERKA_CACHE_ENCRYPTION_KEYS")
    .env_remove("PROVERKA_WEBHOOK_SECRET")
    .arg("--store")
    .arg(store)
    .arg("watch")
    .args(args);
    c
}

async fn ok(c: tokio::process::Command) -> String {
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    log
}

/// `watch add --list LIST --check CHECK --input FILE [extra…]`, which must succeed: its log.
async fn add(
    s: &SandboxHandle,
    store: &Path,
    list: &str,
    check: &str,
    input: &Path,
    extra: &[&str],
) -> String {
    let input = input.to_str().unwrap();
    let mut args = vec!["add", "--list", list, "--check", check, "--input", input];
    args.extend(extra);
    ok(watch(s, store, &args)).await
}

/// `watch changes --format json`'s rows: (what, item, before, after).
async fn changes(
    s: &SandboxHandle,
    store: &Path,
    list: &str,
) -> Vec<(String, Option<String>, Option<String>, Option<String>)> {
    let out = watch(s, store, &["changes", "--list", list, "--format", "json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().map(str::to_owned);
            (
                text("what").unwrap(),
                text("item"),
                text("before"),
                text("after"),
            )
        })
        .collect()
}

fn file(d: &Path, name: &str, text: &str) -> PathBuf {
    let path = d.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_npd_status_lost_is_reported_once_and_nothing_else_over_several_runs() {
    use proverka_npd::sandbox::{LAPSE_AFTER, LAPSING, NON_PAYER, PAYER};
    let s = sandbox().await;
    let d = dir("watch-npd");
    let store = d.join("store.sqlite");
    let input = file(
        &d,
        "contractors.csv",
        &format!("inn\n{LAPSING}\n{PAYER}\n{NON_PAYER}\n"),
    );
    let log = add(&s, &store, "contractors", "npd", &input, &[]).await;
    assert!(log.contains("3 subjects added"), "{log}");

    // The baseline: every subject asked once, no change.
    let log = ok(watch(&s, &store, &["run"])).await;
    assert_eq!(s.calls(Provider::Npd), 3, "{log}");
    assert!(
        log.contains("3 subjects asked") && log.contains("0 changes"),
        "{log}"
    );
    // Asked again at once: nothing is due, nothing is paid.
    let log = ok(watch(&s, &store, &["run"])).await;
    assert_eq!(s.calls(Provider::Npd), 3, "{log}");

    // A day and a bit later the lapsing contractor has lost the status. A dry run first: what
    // is due, what it may cost and take; nothing sent.
    s.advance(LAPSE_AFTER + DAY);
    let dry = watch(&s, &store, &["run", "--dry-run"])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        said.contains("3 subjects due of 3")
            && said.contains("at most 3 provider calls, at most 4.50 RUB, about "),
        "{said}"
    );
    assert_eq!(s.calls(Provider::Npd), 3, "a dry run sends nothing");
    let log = ok(watch(&s, &store, &["run"])).await;
    assert_eq!(s.calls(Provider::Npd), 6, "{log}");
    assert!(log.contains("1 changes"), "{log}");
    // Later runs find nothing new.
    for _ in 0..2 {
        s.advance(DAY + Duration::from_secs(60));
        ok(watch(&s, &store, &["run"])).await;
    }
    assert_eq!(s.calls(Provider::Npd), 12);
    assert_eq!(
        changes(&s, &store, "contractors").await,
        [(
            "self_employed".to_owned(),
            None,
            Some("true".to_owned()),
            Some("false".to_owned())
        )]
    );
    // The store holds the subjects sealed: no INN in it.
    let bytes = std::fs::read(&store).unwrap();
    for inn in [LAPSING, PAYER, NON_PAYER] {
        assert!(
            !bytes.windows(inn.len()).any(|w| w == inn.as_bytes()),
            "{inn} in the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_fssp_proceeding_closed_and_one_opened_are_reported_by_their_numbers() {
    use proverka_fssp::sandbox::{APPEARS, CHANGE_AFTER, CHANGING, CLOSES, DEBTOR};
    let s = sandbox().await;
    let d = dir("watch-fssp");
    let store = d.join("store.sqlite");
    let row = |(last, first, born): (&str, &str, &str)| format!("{last},{first},{born},77\n");
    let input = file(
        &d,
        "debtors.csv",
        &format!(
            "Фамилия,Имя,Дата рождения,Регион\n{}{}",
            row(CHANGING),
            row(DEBTOR)
        ),
    );
    add(
        &s,
        &store,
        "debtors",
        "fssp-physical",
        &input,
        &["--every", "12h"],
    )
    .await;
    // The same people from a file with its columns in another order are the same subjects.
    let reordered = file(
        &d,
        "reordered.csv",
        &format!(
            "Регион,Дата рождения,Имя,Фамилия\n77,{},{},{}\n",
            CHANGING.2, CHANGING.1, CHANGING.0
        ),
    );
    let log = ok(watch(
        &s,
        &store,
        &[
            "add",
            "--list",
            "debtors",
            "--input",
            reordered.to_str().unwrap(),
        ],
    ))
    .await;
    assert!(log.contains("0 subjects added, 1 already there"), "{log}");
    ok(watch(&s, &store, &["run"])).await;
    let baseline = s.calls(Provider::Fssp);
    assert!(baseline > 0);
    s.advance(CHANGE_AFTER + Duration::from_secs(3600));
    let log = ok(watch(&s, &store, &["run"])).await;
    assert!(log.contains("2 changes"), "{log}");
    s.advance(Duration::from_secs(13 * 3600));
    let log = ok(watch(&s, &store, &["run"])).await;
    assert!(
        log.contains("2 subjects asked") && log.contains("0 changes"),
        "{log}"
    );
    let found = changes(&s, &store, "debtors").await;
    let seen: Vec<(&str, Option<&str>)> = found
        .iter()
        .map(|(what, item, _, _)| (what.as_str(), item.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [("closed", Some(CLOSES)), ("proceeding", Some(APPEARS))],
        "{found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_refuses_a_store_without_a_key_and_a_list_without_a_check() {
    let s = sandbox().await;
    let d = dir("watch-refusals");
    let store = d.join("store.sqlite");
    let input = file(&d, "inns.csv", "inn\n771014067988\n");
    let mut no_key = watch(
        &s,
        &store,
        &["add", "--list", "l", "--check", "npd", "--input"],
    );
    no_key
        .arg(&input)
        .env_remove("PROVERKA_CACHE_ENCRYPTION_KEY");
    let (code, log) = run(no_key).await;
    assert_eq!(code, 2);
    assert!(log.contains("PROVERKA_CACHE_ENCRYPTION_KEY"), "{log}");
    let mut no_check = watch(&s, &store, &["add", "--list", "l", "--input"]);
    no_check.arg(&input);
    let (code, log) = run(no_check).await;
    assert_eq!(code, 2);
    assert!(log.contains("--check"), "{log}");
    let input_text = input.to_str().unwrap();
    let bad_cron = [
        "add",
        "--list",
        "c",
        "--check",
        "npd",
        "--cron",
        "61 9 * * *",
        "--input",
        input_text,
    ];
    let (code, log) = run(watch(&s, &store, &bad_cron)).await;
    assert_eq!(code, 2, "{log}");
    let cron = [
        "add",
        "--list",
        "c",
        "--check",
        "npd",
        "--cron",
        "0 9 * * Mon-Fri",
        "--input",
        input_text,
    ];
    ok(watch(&s, &store, &cron)).await;
    let listed = watch(&s, &store, &["list"]).output().await.unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("c\tnpd\t0 9 * * Mon-Fri\t1\t1\t0"),
        "{listed}"
    );
    let (code, log) = run(watch(&s, &store, &["run", "--list", "missing"])).await;
    assert_eq!(code, 2);
    assert!(log.contains("no list missing"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 0);
}

/// A list of `n` NPD subjects then, a second later, the lapsing one (so that it comes last in
/// a run: subjects are asked in the order they were added).
async fn lapsing_last(s: &SandboxHandle, store: &Path, d: &Path, n: u64, webhook: &str) {
    let mut text = "inn\n".to_owned();
    for i in 0..n {
        text.push_str(&format!(
            "{}\n",
            proverka_testkit::individual_inn(300_000 + i)
        ));
    }
    let many = file(d, "many.csv", &text);
    add(s, store, "pay", "npd", &many, &["--webhook", webhook]).await;
    s.advance(Duration::from_secs(1));
    let last = file(
        d,
        "last.csv",
        &format!("inn\n{}\n", proverka_npd::sandbox::LAPSING),
    );
    ok(watch(
        s,
        store,
        &["add", "--list", "pay", "--input", last.to_str().unwrap()],
    ))
    .await;
}

const SECRET: &str = "whsec-test";

/// The requests the receiver got: (idempotency key, signature checked, body).
async fn received(server: &wiremock::MockServer) -> Vec<(String, serde_json::Value)> {
    use hmac::Mac as _;
    let mut out = Vec::new();
    for r in server.received_requests().await.unwrap_or_default() {
        let header = |n: &str| {
            r.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let signature = header("x-proverka-signature");
        let (t, v1) = signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .expect("t=…,v1=…");
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(&r.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, expected, "the signature verifies");
        out.push((
            header("idempotency-key"),
            serde_json::from_slice(&r.body).unwrap(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_gets_each_run_s_changes_once_signed_and_retried_until_taken() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let s = sandbox().await;
    let d = dir("watch-webhook");
    let store = d.join("store.sqlite");
    let server = MockServer::start().await;
    // Refused three times (one run's tries), then taken.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    lapsing_last(&s, &store, &d, 2, &server.uri()).await;
    let run_ = |s: &SandboxHandle| {
        let mut c = watch(s, &store, &["run"]);
        c.env("PROVERKA_WEBHOOK_SECRET", SECRET);
        c
    };
    // The baseline tells nobody.
    ok(run_(&s)).await;
    assert!(received(&server).await.is_empty());
    s.advance(proverka_npd::sandbox::LAPSE_AFTER + DAY);
    // Changes found; the receiver refuses every try of this run: the notification is kept.
    let (code, log) = run(run_(&s)).await;
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("is kept"), "{log}");
    assert_eq!(received(&server).await.len(), 3);
    // The next run has nothing due and sends it again: taken.
    let log = ok(run_(&s)).await;
    let got = received(&server).await;
    assert_eq!(got.len(), 4, "{log}");
    assert!(
        got.iter()
            .all(|(key, body)| *key == got[0].0 && *body == got[0].1),
        "the same changes, the same key and body: {got:?}"
    );
    let changes = got[0].1["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{got:?}");
    assert_eq!(changes[0]["what"], "self_employed");
    // Nothing more to tell: nothing more is sent.
    s.advance(DAY + Duration::from_secs(60));
    ok(run_(&s)).await;
    assert_eq!(received(&server).await.len(), 4);
    // A list with a webhook and no secret is refused before anything is paid.
    s.advance(DAY + Duration::from_secs(60));
    let calls = s.calls(Provider::Npd);
    let (code, log) = run(watch(&s, &store, &["run"])).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("PROVERKA_WEBHOOK_SECRET"), "{log}");
    assert_eq!(s.calls(Provider::Npd), calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_resumes_paying_nothing_twice_and_notifies_once() {
    use proverka_sandbox::Fault;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let s = sandbox().await;
    let d = dir("watch-kill");
    let store = d.join("store.sqlite");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    lapsing_last(&s, &store, &d, 12, &server.uri()).await;
    let run_ = |s: &SandboxHandle| {
        let mut c = watch(s, &store, &["run", "--concurrency", "4"]);
        c.env("PROVERKA_WEBHOOK_SECRET", SECRET);
        c
    };
    ok(run_(&s)).await;
    assert_eq!(s.calls(Provider::Npd), 13);
    s.advance(proverka_npd::sandbox::LAPSE_AFTER + DAY);

    s.inject(Provider::Npd, Fault::latency(Duration::from_secs(3)), None);
    let mut child = run_(&s).spawn().unwrap();
    tokio::time::timeout(
        Duration::from_secs(60),
        s.wait_until(|s| s.calls(Provider::Npd) >= 13 + 4),
    )
    .await
    .expect("four calls in flight");
    child.kill().await.unwrap(); // SIGKILL: nothing recorded of the calls in flight
    let in_flight = s.calls(Provider::Npd) - 13;
    s.clear_faults();
    assert!(received(&server).await.is_empty());

    // Taken up again: the subjects in flight may have been billed and are not sent again.
    let (code, log) = run(run_(&s)).await;
    assert_eq!(code, 1, "the subjects in flight stay billed_unknown: {log}");
    assert!(log.contains("taking up run"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 26, "{log}");
    assert!(log.contains(&format!("{in_flight} failed")), "{log}");
    // Again: nothing is due, nothing is paid, nothing is sent twice.
    ok(run_(&s)).await;
    assert_eq!(s.calls(Provider::Npd), 26);
    let got = received(&server).await;
    assert_eq!(got.len(), 1, "one notification for the run: {got:?}");
    let changes = got[0].1["changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        1,
        "only the lapsing subject changed: {got:?}"
    );
    assert_eq!(changes[0]["what"], "self_employed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_date_column_keeps_the_status_on_that_day_and_evidence_shows_every_answer() {
    use proverka_npd::sandbox::{LAPSE_AFTER, LAPSING};
    let s = sandbox().await;
    let d = dir("watch-dated");
    let store = d.join("store.sqlite");
    let paid_on = proverka_core::Date::moscow_date_at(s.now() - DAY);
    // The same contractor twice: once on the day of yesterday's payment, once with no date
    // (today, each time it is asked).
    let input = file(
        &d,
        "payments.csv",
        &format!(
            "ИНН,Дата выплаты\n{LAPSING},{}\n{LAPSING},\n",
            paid_on.to_dmy()
        ),
    );
    add(
        &s,
        &store,
        "payments",
        "npd",
        &input,
        &["--map", "Дата выплаты=date"],
    )
    .await;
    ok(watch(&s, &store, &["run"])).await;
    s.advance(LAPSE_AFTER + DAY);
    ok(watch(&s, &store, &["run"])).await;
    assert_eq!(s.calls(Provider::Npd), 4);
    // Only the undated subject changed: the status on the payment day stays what it was.
    let found = changes(&s, &store, "payments").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "self_employed");

    // Evidence of the payment day: both answers of the dated subject, each with its ledger
    // record and the digest of the bytes it carries.
    let out = watch(
        &s,
        &store,
        &[
            "evidence",
            "--inn",
            LAPSING,
            "--date",
            &paid_on.to_iso(),
            "--format",
            "json",
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subjects = doc["evidence"].as_array().unwrap();
    assert_eq!(
        subjects.len(),
        1,
        "only the subject with answers that day: {doc}"
    );
    let dated = subjects
        .iter()
        .find(|s| {
            s["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p[0] == "date" && p[1] == paid_on.to_iso())
        })
        .expect("the dated subject");
    let answers = dated["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 2, "{dated}");
    for a in answers {
        use sha2::Digest as _;
        let body = a["provider_answer"]["body"].as_str().unwrap();
        let digest: String = sha2::Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(a["body_sha256"], digest);
        assert_eq!(a["provider_answer"]["sha256"], digest);
        let ledger = a["ledger"].as_array().unwrap();
        assert_eq!(ledger.len(), 1, "{a}");
        assert_eq!(ledger[0]["billed"], "charged");
        assert_eq!(ledger[0]["provider"], "npd");
        assert!(a["request_id"].as_str().unwrap().starts_with("watch-"));
    }
    // The printable page.
    let page = d.join("evidence.html");
    ok(watch(
        &s,
        &store,
        &[
            "evidence",
            "--inn",
            LAPSING,
            "--out",
            page.to_str().unwrap(),
        ],
    ))
    .await;
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains(LAPSING),
        "{html}"
    );
    assert_eq!(
        html.matches("<section>").count(),
        4,
        "every answer of both subjects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_waits_for_the_calls_in_flight_and_the_next_run_takes_up_the_rest() {
    use proverka_sandbox::Fault;
    let s = sandbox().await;
    let d = dir("watch-sigint");
    let store = d.join("store.sqlite");
    let mut text = "inn\n".to_owned();
    for i in 0..12 {
        text.push_str(&format!(
            "{}\n",
            proverka_testkit::individual_inn(400_000 + i)
        ));
    }
    let input = file(&d, "inns.csv", &text);
    add(&s, &store, "l", "npd", &input, &[]).await;
    s.inject(Provider::Npd, Fault::latency(Duration::from_secs(1)), None);
    let child = watch(&s, &store, &["run", "--concurrency", "4"])
        .spawn()
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(60),
        s.wait_until(|s| s.calls(Provider::Npd) >= 4),
    )
    .await
    .expect("four calls in flight");
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{log}");
    assert!(log.contains("interrupted after 4 subjects"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 4, "no new call after Ctrl-C: {log}");
    s.clear_faults();
    // The calls in flight were answered and kept: the next run asks only the other eight.
    let log = ok(watch(&s, &store, &["run"])).await;
    assert!(
        log.contains("taking up run") && log.contains("8 subjects asked"),
        "{log}"
    );
    assert_eq!(s.calls(Provider::Npd), 12, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_proxy_a_run_pays_through_it_and_reports_the_same_changes() {
    use proverka_npd::sandbox::{LAPSE_AFTER, LAPSING, PAYER};
    let s = std::sync::Arc::new(sandbox().await);
    // The proxy's days are the simulators' (its engine reads their clock).
    let proxy = start_proxy_on(
        &s,
        &proverka_testkit::own_store(),
        "",
        std::sync::Arc::clone(&s) as std::sync::Arc<dyn proverka_core::Clock>,
    )
    .await;
    let d = dir("watch-proxy");
    let store = d.join("store.sqlite");
    let input = file(&d, "c.csv", &format!("inn\n{LAPSING}\n{PAYER}\n"));
    add(&s, &store, "c", "npd", &input, &[]).await;
    let via = |args: &[&str]| {
        let mut c = watch(&s, &store, args);
        // No provider credential here: the proxy holds it.
        c.env("PROVERKA_PROXY", &proxy)
            .env_remove("PROVERKA_PROVIDERS_NPD_KEY");
        c
    };
    ok(via(&["run"])).await;
    assert_eq!(s.calls(Provider::Npd), 2);
    s.advance(LAPSE_AFTER + DAY);
    let log = ok(via(&["run"])).await;
    assert_eq!(s.calls(Provider::Npd), 4, "{log}");
    assert!(log.contains("1 changes"), "{log}");
    assert_eq!(
        changes(&s, &store, "c").await,
        [(
            "self_employed".to_owned(),
            None,
            Some("true".to_owned()),
            Some("false".to_owned())
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_in_front_still_opens_the_list_and_a_forgotten_one_is_said() {
    use proverka_npd::sandbox::{NON_PAYER, PAYER};
    const NEW: &str = "7272727272727272727272727272727272727272727272727272727272727272";
    let s = sandbox().await;
    let d = dir("watch-rotation");
    let store = d.join("store.sqlite");
    let input = file(&d, "c.csv", &format!("inn\n{PAYER}\n{NON_PAYER}\n"));
    add(&s, &store, "c", "npd", &input, &[]).await;
    ok(watch(&s, &store, &["run"])).await;
    // Rotation: the new key seals, the old one still opens.
    s.advance(DAY + Duration::from_secs(60));
    let mut rotated = watch(&s, &store, &["run"]);
    rotated.env("PROVERKA_CACHE_ENCRYPTION_KEYS", format!("{NEW},{KEY}"));
    let log = ok(rotated).await;
    assert!(log.contains("2 subjects asked"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 4);
    // The old key dropped: what it sealed cannot be read, is said, and nothing is paid for it.
    s.advance(DAY + Duration::from_secs(60));
    let mut forgotten = watch(&s, &store, &["run"]);
    forgotten
        .env_remove("PROVERKA_CACHE_ENCRYPTION_KEY")
        .env("PROVERKA_CACHE_ENCRYPTION_KEYS", NEW);
    let (code, log) = run(forgotten).await;
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("2 subjects cannot be read"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_come_as_csv_in_russian_by_default_and_as_a_workbook() {
    use proverka_npd::sandbox::{LAPSE_AFTER, LAPSING};
    let s = sandbox().await;
    let d = dir("watch-formats");
    let store = d.join("store.sqlite");
    let input = file(&d, "c.csv", &format!("inn\n{LAPSING}\n"));
    add(&s, &store, "c", "npd", &input, &[]).await;
    ok(watch(&s, &store, &["run"])).await;
    s.advance(LAPSE_AFTER + DAY);
    ok(watch(&s, &store, &["run"])).await;
    let csv_out = d.join("changes.csv");
    let mut russian = watch(
        &s,
        &store,
        &["changes", "--list", "c", "--out", csv_out.to_str().unwrap()],
    );
    russian.env_remove("PROVERKA_LANG");
    ok(russian).await;
    let rows = read_csv(&csv_out, b',');
    // UTF-8 with a BOM, as Excel wants it.
    assert!(
        std::fs::read(&csv_out)
            .unwrap()
            .starts_with("\u{feff}".as_bytes())
    );
    assert_eq!(
        rows[0],
        [
            "Время (МСК)",
            "Запуск",
            "Субъект",
            "Что изменилось",
            "Элемент",
            "Было",
            "Стало"
        ]
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][2], format!("ИНН {LAPSING}"));
    assert_eq!((rows[1][5].as_str(), rows[1][6].as_str()), ("да", "нет"));
    // In Russian: the kind of change as the check names it, yes and no.
    assert_eq!(rows[1][3], "Статус самозанятого (НПД)");
    // Nothing since tomorrow.
    let tomorrow = proverka_core::Date::moscow_date_at(s.now() + DAY).to_iso();
    let none = d.join("none.json");
    ok(watch(
        &s,
        &store,
        &[
            "changes",
            "--list",
            "c",
            "--since",
            &tomorrow,
            "--out",
            none.to_str().unwrap(),
        ],
    ))
    .await;
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&none).unwrap()).unwrap();
    assert_eq!(doc["changes"].as_array().unwrap().len(), 0);
    let book = d.join("changes.xlsx");
    ok(watch(
        &s,
        &store,
        &["changes", "--list", "c", "--out", book.to_str().unwrap()],
    ))
    .await;
    let bytes = std::fs::read(&book).unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn npd_subjects_go_to_the_free_check_first_where_configured() {
    use proverka_npd::sandbox::{NON_PAYER, PAYER};
    let s = proverka_sandbox::Sandbox::builder()
        .set("fns", "per_minute", "1000")
        .expect("the free check's simulator has per_minute")
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let d = dir("watch-free");
    let store = d.join("store.sqlite");
    let input = file(&d, "c.csv", &format!("inn\n{PAYER}\n{NON_PAYER}\n"));
    add(&s, &store, "c", "npd", &input, &[]).await;
    let mut free = watch(&s, &store, &["run"]);
    free.env_remove("PROVERKA_PROVIDERS_NPD_KEY")
        .env("PROVERKA_PROVIDERS_FNS_PER_MINUTE", "6000")
        .env("PROVERKA_NPD_SOURCE", "free");
    let log = ok(free).await;
    assert_eq!(
        (s.calls(Provider::Fns), s.calls(Provider::Npd)),
        (2, 0),
        "{log}"
    );
    assert!(log.contains("2 subjects asked, 0 provider calls"), "{log}");
    // Its history says which source answered, and that it cost nothing.
    let out = watch(&s, &store, &["evidence", "--inn", PAYER])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answer = &doc["evidence"][0]["answers"][0];
    assert_eq!(answer["source"], "fns", "{doc}");
    assert_eq!(answer["billed"], "free", "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_proxy_a_list_pays_as_its_own_client_within_its_budget() {
    use proverka_npd::sandbox::{NON_PAYER, PAYER};
    let s = std::sync::Arc::new(sandbox().await);
    // A budget needs every paid provider's price.
    let clients = "[providers.court]\nprice_rub = 2.0\n\
                   [[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = 1.5\n\
                   [[clients]]\nname = \"hr\"\nkey = \"hr-client-key\"\n";
    let proxy = start_proxy_on(
        &s,
        &proverka_testkit::own_store(),
        clients,
        std::sync::Arc::clone(&s) as std::sync::Arc<dyn proverka_core::Clock>,
    )
    .await;
    let d = dir("watch-proxy-client");
    let store = d.join("store.sqlite");
    let input = file(&d, "c.csv", &format!("inn\n{PAYER}\n{NON_PAYER}\n"));
    add(
        &s,
        &store,
        "crm-list",
        "npd",
        &input,
        &["--proxy-key", "crm-client-key"],
    )
    .await;
    add(&s, &store, "hr-list", "npd", &input, &[]).await;
    let via = |list: &str| {
        let mut c = watch(&s, &store, &["run", "--list", list]);
        c.env("PROVERKA_PROXY", &proxy)
            .env("PROVERKA_KEY", "hr-client-key")
            .env_remove("PROVERKA_PROVIDERS_NPD_KEY");
        c
    };
    // The list's own client: its budget holds one call a day; the other subject waits.
    let (code, log) = run(via("crm-list")).await;
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("budget_exceeded"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 1, "{log}");
    // The run's own client has no budget: the same subjects are answered (one from the cache).
    let log = ok(via("hr-list")).await;
    assert!(log.contains("2 subjects asked"), "{log}");
    assert_eq!(s.calls(Provider::Npd), 2, "{log}");
    // The key is kept sealed: not in the store's bytes.
    let bytes = std::fs::read(&store).unwrap();
    assert!(!bytes.windows(14).any(|w| w == b"crm-client-key"));
}
