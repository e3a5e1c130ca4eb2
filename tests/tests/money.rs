//! The money rules end to end (the proxy in process through its service, the sandbox as the
//! providers, a real redis-server where replicas share): one judgement per answer, nothing possibly billed
//! re-sent or cached, budgets held under concurrency, a ledger record per provider call.

use std::time::Duration;

use proverka_core::{Money, Provider};
use proverka_sandbox::{Fault, SandboxHandle};
use proverka_testkit::redis::RedisServer;
use proverka_tests::{
    InProcess, config_for, config_on_store, fssp_balance, fssp_debtor, redis_cache, start_sandbox,
};

/// Retries on, quickly: anything re-sent would show in the call counts.
const FAST_RETRIES: &str = "[retry]\nmax_attempts = 3\nbase_delay_ms = 5\n";

fn spent(sandbox: &SandboxHandle, before: Money) -> Money {
    before.saturating_sub(fssp_balance(sandbox))
}

fn npd_query(inn: &str) -> Vec<(&'static str, String)> {
    vec![("inn", inn.to_owned()), ("date", "2024-03-01".to_owned())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bom_around_the_json_is_an_answer_paid_once_and_cached_with_its_bytes_unchanged() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, FAST_RETRIES));
    let url = "/api/fssp.php";
    let before = fssp_balance(&sandbox);
    sandbox.inject(Provider::Fssp, Fault::Bom, Some(1));
    let r = proxy.get(url, &fssp_debtor("01.02.1981")).await;
    assert_eq!((r.status, r.header("x-cache")), (200, "MISS".into()));
    assert_eq!(r.header("x-proverka-billed"), "");
    let body = r.body.clone();
    assert!(
        body.starts_with(b"\xEF\xBB\xBF{"),
        "drop-in bytes unchanged"
    );
    assert!(body.ends_with(b"}\r\n"));
    let again = proxy.get(url, &fssp_debtor("01.02.1981")).await;
    assert_eq!(again.header("x-cache"), "HIT");
    assert_eq!(again.body, body);
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
    assert_eq!(sandbox.billed(Provider::Fssp), 1);
    assert_eq!(spent(&sandbox, before), Money::from_kopecks(80));
    // The balance gauge comes from the same one judgement of the answer.
    let metrics = proxy.metrics().await;
    let gauge: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("proverka_provider_balance_rubles{provider=\"fssp\"} "))
        .unwrap_or_else(|| panic!("no FSSP balance in {metrics}"))
        .parse()
        .unwrap();
    assert_eq!(
        gauge,
        fssp_balance(&sandbox).kopecks() as f64 / 100.0,
        "{metrics}"
    );

    // NPD and the typed route read through the BOM too.
    sandbox.inject(Provider::Npd, Fault::Bom, Some(1));
    let typed = proxy
        .get("/v1/npd", &npd_query(proverka_npd::sandbox::PAYER))
        .await;
    assert_eq!(typed.status, 200);
    let v = typed.json();
    assert_eq!(v["result"]["self_employed"], true, "{v}");
    assert_eq!(v["charge"]["kind"], "charged", "{v}");
    assert_eq!(sandbox.calls(Provider::Npd), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn possibly_billed_answers_are_sent_once_never_cached_and_marked() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, FAST_RETRIES));
    let url = "/api/fssp.php";
    // FSSP faults that bill (or may): each must cost exactly one call per client request.
    let cases = [
        ("truncated", Fault::TruncatedAfterBilling, 80),
        ("message only", Fault::MessageOnly, 80),
        ("html captcha", Fault::Html, 0),
    ];
    for (i, (name, fault, price)) in cases.into_iter().enumerate() {
        sandbox.reset();
        let birth = format!("0{}.03.1982", i + 1);
        let before = fssp_balance(&sandbox);
        sandbox.inject(Provider::Fssp, fault, Some(1));
        let r = proxy.get(url, &fssp_debtor(&birth)).await;
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.header("x-proverka-billed"), "unknown", "{name}");
        assert_eq!(r.header("x-cache"), "MISS", "{name}");
        assert_eq!(sandbox.calls(Provider::Fssp), 1, "{name}: never re-sent");
        assert_eq!(
            spent(&sandbox, before),
            Money::from_kopecks(price),
            "{name}"
        );
        // Not cached: the next request is a new call, on the client's decision.
        let r = proxy.get(url, &fssp_debtor(&birth)).await;
        assert_eq!(r.header("x-cache"), "MISS", "{name}: never cached");
        assert_eq!(sandbox.calls(Provider::Fssp), 2, "{name}");
    }
    // The typed route says it too.
    sandbox.inject(Provider::Fssp, Fault::TruncatedAfterBilling, Some(1));
    let r = proxy
        .get("/v1/fssp/physical", &fssp_debtor("09.03.1982")[1..])
        .await;
    assert_eq!(r.status, 502);
    let v: serde_json::Value = r.json();
    assert_eq!(v["charge"]["kind"], "unknown", "{v}");

    // NPD `success = 1` without `found`: billed (the page), not an answer, not re-sent.
    sandbox.reset();
    let npd = "/parser/nalog_npd_api/";
    sandbox.inject(Provider::Npd, Fault::SuccessOneWithoutFound, Some(1));
    let r = proxy
        .get(npd, &npd_query(proverka_npd::sandbox::PAYER))
        .await;
    assert_eq!(r.header("x-proverka-billed"), "charged");
    assert_eq!(r.text(), r#"{"success":1}"#);
    assert_eq!(
        (sandbox.calls(Provider::Npd), sandbox.billed(Provider::Npd)),
        (1, 1)
    );
    let r = proxy
        .get(npd, &npd_query(proverka_npd::sandbox::PAYER))
        .await;
    assert_eq!(r.header("x-cache"), "MISS");
    assert_eq!(r.text(), r#"{"found":1,"success":1}"#);
    assert_eq!(sandbox.calls(Provider::Npd), 2);

    let metrics = proxy.metrics().await;
    assert!(
        metrics.contains("proverka_billed_unknown_total{provider=\"fssp\"} 4"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_after_sending_is_never_re_sent_and_a_gateway_error_is() {
    let sandbox = start_sandbox().await;
    let config = config_for(&sandbox, FAST_RETRIES)
        .replace("[providers.npd]\n", "[providers.npd]\ntimeout_secs = 1\n");
    let proxy = InProcess::new(&config);
    let npd = "/parser/nalog_npd_api/";
    sandbox.inject(Provider::Npd, Fault::Timeout, Some(1));
    let r = proxy
        .get(npd, &npd_query(proverka_npd::sandbox::NON_PAYER))
        .await;
    assert_eq!(r.status, 504);
    assert_eq!(r.header("x-proverka-billed"), "unknown");
    let v: serde_json::Value = r.json();
    assert_eq!(v["charge"]["kind"], "unknown", "{v}");
    assert_eq!(
        sandbox.calls(Provider::Npd),
        1,
        "a timeout after sending is not re-sent"
    );

    // A gateway's 503 page never reached the provider's billing: re-sent, then answered.
    sandbox.inject(Provider::Npd, Fault::Http5xx { status: 503 }, Some(1));
    let r = proxy
        .get(npd, &npd_query(proverka_npd::sandbox::PAYER))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"{"found":1,"success":1}"#);
    assert_eq!(sandbox.calls(Provider::Npd), 3);
}

/// Many distinct paid queries under a small budget, in waves of concurrent requests spread
/// over `proxies`: the provider never bills the client more than the budget, and every
/// refusal cost no call. Waves let settled reservations free room for later queries.
async fn concurrent_distinct_queries_under_a_budget(
    sandbox: &SandboxHandle,
    proxies: &[InProcess],
    budget: Money,
) {
    sandbox.inject(
        Provider::Fssp,
        Fault::latency(Duration::from_millis(30)),
        None,
    );
    let before = fssp_balance(sandbox);
    let mut statuses = Vec::new();
    for wave in 0..4 {
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let proxy = proxies[i % proxies.len()].clone();
                let mut q = fssp_debtor(&format!("{:02}.{:02}.1983", i + 1, wave + 1));
                q.push(("token", "crm-client-key".to_owned()));
                tokio::spawn(async move { proxy.get("/api/fssp.php", &q).await.status })
            })
            .collect();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 402).count();
    assert_eq!(ok + refused, statuses.len(), "{statuses:?}");
    let billed = spent(sandbox, before);
    assert!(
        billed <= budget,
        "billed {billed} over a budget of {budget}"
    );
    assert!(ok >= 1 && refused >= 1, "{statuses:?}");
    assert_eq!(
        sandbox.calls(Provider::Fssp),
        ok as u64,
        "a refusal costs no call"
    );
    assert_eq!(billed, Money::from_kopecks(80 * ok as i64));
}

fn budget_clients(budget: &str) -> String {
    format!("[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = {budget}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_under_concurrency_on_one_replica() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, &budget_clients("3.0")));
    concurrent_distinct_queries_under_a_budget(
        &sandbox,
        std::slice::from_ref(&proxy),
        Money::from_kopecks(300),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_under_concurrency_on_two_replicas_sharing_redis_and_a_store() {
    let sandbox = start_sandbox().await;
    let redis = RedisServer::start();
    let extra = format!("{}\n{}", redis_cache(&redis.url()), budget_clients("3.0"));
    let store = proverka_testkit::own_store();
    let (a, b) = (
        InProcess::new(&config_on_store(&sandbox, &store, &extra)),
        InProcess::new(&config_on_store(&sandbox, &store, &extra)),
    );
    concurrent_distinct_queries_under_a_budget(
        &sandbox,
        &[a.clone(), b.clone()],
        Money::from_kopecks(300),
    )
    .await;
    // The spend is one figure for both replicas.
    let spend = |proxy: InProcess| async move {
        proxy
            .get_with("/v1/spend", &[], &[("X-Proverka-Key", "crm-client-key")])
            .await
            .json()
    };
    let (sa, sb) = (spend(a.clone()).await, spend(b.clone()).await);
    assert_eq!(sa, sb);
    let calls = sandbox.calls(Provider::Fssp);
    assert_eq!(sa["clients"]["crm"]["fssp"]["calls"], calls, "{sa}");
    assert_eq!(
        sa["total_rub"],
        Money::from_kopecks(80 * calls as i64).to_string(),
        "{sa}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_and_joined_flights_cost_nothing_against_a_budget() {
    let sandbox = start_sandbox().await;
    // Enough for exactly one FSSP reservation (1.40).
    let proxy = InProcess::new(&config_for(&sandbox, &budget_clients("1.5")));
    let url = "/api/fssp.php";
    sandbox.inject(
        Provider::Fssp,
        Fault::latency(Duration::from_millis(300)),
        None,
    );
    let mut q = fssp_debtor("05.05.1985");
    q.push(("token", "crm-client-key".to_owned()));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (proxy, q) = (proxy.clone(), q.clone());
            tokio::spawn(async move { proxy.get(url, &q).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200, "joiners pay nothing");
    }
    let r = proxy.get(url, &q).await;
    assert_eq!((r.status, r.header("x-cache")), (200, "HIT".into()));
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
    // 0.80 of 1.50 spent: another distinct query (up to 1.40) is refused, free.
    let mut other = fssp_debtor("06.05.1985");
    other.push(("token", "crm-client-key".to_owned()));
    assert_eq!(proxy.get(url, &other).await.status, 402);
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_call_leaves_one_ledger_line_without_secrets_or_personal_data() {
    let sandbox = start_sandbox().await;
    let path = std::env::temp_dir().join(format!("proverka-ledger-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let extra = format!("ledger_path = \"{}\"\n{FAST_RETRIES}", path.display());
    let proxy = InProcess::new(&config_for(&sandbox, &extra));
    let fssp = "/api/fssp.php";
    let npd = "/parser/nalog_npd_api/";
    proxy.get(fssp, &fssp_debtor("07.07.1987")).await;
    proxy.get(fssp, &fssp_debtor("07.07.1987")).await; // a hit: no call, no line
    sandbox.inject(Provider::Npd, Fault::SuccessZero, Some(1)); // free, re-sent: two lines
    proxy
        .get(npd, &npd_query(proverka_npd::sandbox::PAYER))
        .await;
    sandbox.inject(Provider::Fssp, Fault::TruncatedAfterBilling, Some(1));
    proxy.get(fssp, &fssp_debtor("08.07.1987")).await;
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len() as u64,
        sandbox.calls(Provider::Fssp) + sandbox.calls(Provider::Npd),
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
    let billed: Vec<_> = lines
        .iter()
        .map(|l| l["billed"].as_str().unwrap())
        .collect();
    assert_eq!(billed, ["charged", "free", "charged", "unknown"], "{text}");
    assert_eq!(lines[0]["price_rub"], "0.80");
    assert_eq!(lines[0]["kind"], "physical");
    assert_eq!(lines[1]["resent"], true);
    assert_eq!(lines[2]["attempt"], 2);
    assert_eq!(
        lines[3]["price_rub"], "1.40",
        "unknown counts the reserved maximum"
    );
    for secret_or_person in [
        proverka_fssp::sandbox::TOKEN,
        "npd-key",
        "Иванов",
        "Иван",
        "07.07.1987",
        proverka_npd::sandbox::PAYER,
    ] {
        assert!(
            !text.contains(secret_or_person),
            "{secret_or_person} in {text}"
        );
    }
    let spend = proxy.get("/v1/spend", &[]).await.json();
    assert_eq!(
        spend["clients"]["anonymous"]["fssp"]["billed_unknown"], 1,
        "{spend}"
    );
    assert_eq!(spend["clients"]["anonymous"]["npd"]["calls"], 2, "{spend}");
    assert_eq!(
        spend["clients"]["anonymous"]["npd"]["spent_rub"], "1.50",
        "{spend}"
    );
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_budget_with_no_known_price_refuses_to_start() {
    let sandbox = start_sandbox().await;
    let text = config_for(&sandbox, &budget_clients("10.0")).replace("price_rub = 2.0\n", "");
    let config = proverka_proxy::Config::from_toml(&text, &[]).unwrap();
    let e = proverka_proxy::Proxy::new(config).unwrap_err().to_string();
    assert!(e.contains("providers.court.price_rub"), "{e}");
    assert!(e.contains("PROVERKA_PROVIDERS_COURT_PRICE_RUB"), "{e}");
}
