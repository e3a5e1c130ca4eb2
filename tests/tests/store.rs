//! Money state on the store of record, end to end (the proxy in process, the sandbox as the
//! providers, a real PostgreSQL and redis-server where replicas share them): budgets that
//! belong to a client's id across renames, two replicas on one PostgreSQL, Redis refusing its
//! password, and PostgreSQL stopped under load.

use std::time::Duration;

use proverka_core::{Money, Provider};
use proverka_proxy::{Config, Proxy};
use proverka_sandbox::{Fault, SandboxHandle};
use proverka_testkit::individual_inn as inn;
use proverka_testkit::postgres::PostgresServer;
use proverka_testkit::redis::{RedisServer, free_port};
use proverka_tests::{InProcess, config_on_store, start_sandbox};

const KEY: &str = "crm-client-key";

/// A client `crm` with a daily budget, named `name`.
fn client(name: &str, budget: &str) -> String {
    format!("[[clients]]\nname = \"{name}\"\nkey = \"{KEY}\"\ndaily_budget_rub = {budget}\n")
}

/// An NPD query for a distinct INN on a past date (price 1.50 in the tests' configuration).
fn npd(n: u64) -> Vec<(&'static str, String)> {
    vec![("inn", inn(n)), ("date", "2024-03-01".to_owned())]
}

async fn ask(proxy: &InProcess, n: u64) -> u16 {
    proxy
        .get_with("/v1/npd", &npd(n), &[("X-Proverka-Key", KEY)])
        .await
        .status
}

async fn spend(proxy: &InProcess) -> serde_json::Value {
    proxy
        .get_with("/v1/spend", &[], &[("X-Proverka-Key", KEY)])
        .await
        .json()
}

/// Billed NPD rubles at the sandbox (1.50 each, as configured).
fn billed_rub(sandbox: &SandboxHandle) -> Money {
    Money::from_kopecks(150 * sandbox.billed(Provider::Npd) as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_client_keeps_its_day() {
    let sandbox = start_sandbox().await;
    let store = proverka_testkit::own_store();
    let toml = |name: &str| config_on_store(&sandbox, &store, &client(name, "3.0"));
    let proxy = InProcess(std::sync::Arc::new(
        Proxy::new(Config::from_toml(&toml("crm"), &[]).unwrap()).unwrap(),
    ));
    assert_eq!(ask(&proxy, 1).await, 200);
    assert_eq!(ask(&proxy, 2).await, 200);
    assert_eq!(ask(&proxy, 3).await, 402);
    let reloaded = proxy
        .0
        .reload(Config::from_toml(&toml("crm-renamed"), &[]).unwrap())
        .unwrap();
    assert_eq!(reloaded.applied, ["clients"], "{reloaded:?}");
    // Same key, new name: the same tenant, the same day.
    assert_eq!(ask(&proxy, 4).await, 402);
    assert_eq!(sandbox.calls(Provider::Npd), 2);
    assert_eq!(billed_rub(&sandbox), Money::from_kopecks(300));
    let s = spend(&proxy).await;
    assert_eq!(s["total_rub"], "3.00", "{s}");
    assert_eq!(s["clients"]["crm-renamed"]["npd"]["calls"], 2, "{s}");
}

/// Two replicas on one PostgreSQL, asked at once for distinct queries: one budget, exact;
/// with Redis configured behind a wrong password neither replica is ready, and the budget
/// still holds (the store of record decides, not each replica's count).
async fn two_replicas_hold_one_budget(extra: &str, expect_ready: bool) {
    let pg = PostgresServer::start();
    let url = pg.create_database("money");
    let sandbox = start_sandbox().await;
    sandbox.inject(
        Provider::Npd,
        Fault::latency(Duration::from_millis(20)),
        None,
    );
    let store = format!("store_url = \"{url}\"\n");
    let config = config_on_store(
        &sandbox,
        &store,
        &format!("{extra}{}", client("crm", "3.0")),
    );
    let (a, b) = (InProcess::new(&config), InProcess::new(&config));
    for replica in [&a, &b] {
        let ready = replica.get("/readyz", &[]).await;
        assert_eq!(ready.status == 200, expect_ready, "{}", ready.text());
    }
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let replica = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { ask(&replica, 100 + n).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let paid = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(paid, 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 402).count(), 10);
    assert_eq!(sandbox.calls(Provider::Npd), 2, "a refusal costs no call");
    assert_eq!(billed_rub(&sandbox), Money::from_kopecks(300));
    // Both replicas read the same figures from the store.
    let (sa, sb) = (spend(&a).await, spend(&b).await);
    assert_eq!(sa, sb);
    assert_eq!(sa["total_rub"], "3.00", "{sa}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_hold_one_budget() {
    two_replicas_hold_one_budget("", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_redis_password_is_not_ready_and_the_budget_still_holds() {
    let redis = RedisServer::start_with(free_port(), &["--requirepass", "the-right-one"]);
    let cache = format!(
        "[cache]\nredis_url = \"redis://:a-wrong-one@127.0.0.1:{}/\"\nencryption_key = \"{}\"\n",
        redis.port(),
        proverka_tests::TEST_ENCRYPTION_KEY
    );
    two_replicas_hold_one_budget(&cache, false).await;
}

/// Asks `/readyz` until it says `ready`, each ask as soon as the last one answered.
async fn ready(proxy: &InProcess, ready: bool) {
    let wait = async { while (proxy.get("/readyz", &[]).await.status == 200) != ready {} };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| panic!("/readyz never said ready = {ready}"));
}

/// PostgreSQL stopped while paid calls are in flight and more arrive: no provider call goes
/// out without its intent in the store, cached answers are still served, the replica is not
/// ready; PostgreSQL back, the replica recovers by itself (no restart) and every call made is
/// in the ledger, settled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_refuses_unrecorded_calls_and_recovers() {
    let mut pg = PostgresServer::start();
    let url = pg.create_database("money");
    let sandbox = start_sandbox().await;
    let store = format!("store_url = \"{url}\"\n");
    let proxy = InProcess::new(&config_on_store(&sandbox, &store, &client("crm", "1000")));
    ready(&proxy, true).await;
    for n in 1..=5 {
        assert_eq!(ask(&proxy, n).await, 200);
    }
    // Calls in flight when PostgreSQL stops: they were recorded before they left.
    sandbox.inject(
        Provider::Npd,
        Fault::latency(Duration::from_millis(400)),
        None,
    );
    let in_flight: Vec<_> = (10..16)
        .map(|n| {
            let p = proxy.clone();
            tokio::spawn(async move { ask(&p, n).await })
        })
        .collect();
    tokio::time::timeout(
        Duration::from_secs(30),
        sandbox.wait_until(|s| s.calls(Provider::Npd) >= 11),
    )
    .await
    .expect("the calls in flight reached the provider");
    pg.stop();
    // Load while it is down: hits answer, new queries are refused before any call.
    let load: Vec<_> = (0..40)
        .map(|i| {
            let p = proxy.clone();
            tokio::spawn(async move {
                let n = if i % 2 == 0 { 1 + i % 5 } else { 100 + i };
                (n, ask(&p, n).await)
            })
        })
        .collect();
    for t in load {
        let (n, status) = t.await.unwrap();
        if n <= 5 {
            assert_eq!(
                status, 200,
                "a cached answer is served while the store is down"
            );
        } else {
            assert_eq!(
                status, 503,
                "a new query is refused while the store is down"
            );
        }
    }
    for t in in_flight {
        assert_eq!(
            t.await.unwrap(),
            200,
            "a call recorded before it left is answered"
        );
    }
    assert_eq!(
        sandbox.calls(Provider::Npd),
        11,
        "no call without its intent"
    );
    let refused = proxy
        .get_with("/v1/npd", &npd(500), &[("X-Proverka-Key", KEY)])
        .await;
    assert_eq!(refused.json()["error"], "store_unavailable");
    assert_eq!(refused.header("x-proverka-billed"), "free");
    ready(&proxy, false).await;

    pg.restart();
    ready(&proxy, true).await;
    sandbox.clear_faults();
    assert_eq!(ask(&proxy, 500).await, 200);
    assert_eq!(sandbox.calls(Provider::Npd), 12);
    // Every call is in the ledger and settled: the ones whose settlement waited for the store
    // were written when it came back.
    let settled = async {
        loop {
            let s = spend(&proxy).await;
            if s["clients"]["crm"]["npd"]["calls"] == 12
                && s["clients"]["crm"]["npd"]["billed_unknown"] == 0
            {
                return s;
            }
        }
    };
    let s = tokio::time::timeout(Duration::from_secs(30), settled)
        .await
        .expect("the waiting settlements were written");
    assert_eq!(s["total_rub"], "18.00", "{s}");
}
