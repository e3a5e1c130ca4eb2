//! Reloading without losing the cache: a re-read configuration's clients, budgets and prices
//! apply at once; what needs a restart is reported and not applied; a reload that would let
//! a budget be overrun changes nothing. In process through the proxy's service.

use proverka_core::Provider;
use proverka_proxy::{Config, Proxy, StartError};
use proverka_tests::{config_for, config_on_store, start_sandbox};

async fn npd(proxy: &Proxy, inn: &str, key: &str) -> (u16, String) {
    let response = proxy
        .handle(
            http::Request::get(format!("/parser/nalog_npd_api/?inn={inn}&date=2024-02-01"))
                .header("X-Proverka-Key", key)
                .body(Default::default())
                .unwrap(),
        )
        .await;
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    (response.status().as_u16(), cache)
}

/// A second INN (the sandbox answers any valid one).
const OTHER_INN: &str = "500100732259";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_budgets_and_prices_apply_and_the_cache_stays() {
    let sandbox = start_sandbox().await;
    let store = proverka_testkit::own_store();
    let before = format!(
        "{}[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n",
        config_on_store(&sandbox, &store, "")
    );
    let proxy = Proxy::new(Config::from_toml(&before, &[]).unwrap()).unwrap();
    let payer = proverka_npd::sandbox::PAYER;
    assert_eq!(
        npd(&proxy, payer, "crm-client-key").await,
        (200, "MISS".into())
    );
    assert_eq!(sandbox.calls(Provider::Npd), 1);

    // The new file: crm's key rotated and given a budget of 1.00 RUB, a new client, NPD at
    // 0.50 RUB instead of 1.50, and a new listen address (needs a restart).
    let after = config_on_store(&sandbox, &store, "")
        .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:9\"")
        .replace("price_rub = 1.5", "price_rub = 0.5")
        + "[[clients]]\nname = \"crm\"\nkey = \"crm-rotated-key\"\ndaily_budget_rub = 1.0\n\
           [[clients]]\nname = \"hr\"\nkey = \"hr-client-key\"\n";
    let reloaded = proxy
        .reload(Config::from_toml(&after, &[]).unwrap())
        .unwrap();
    assert_eq!(
        reloaded.applied,
        ["clients", "providers.npd.price_rub"],
        "{reloaded:?}"
    );
    assert_eq!(reloaded.needs_restart, ["listen"], "{reloaded:?}");

    // The old key is gone, the new ones work, and the cache is the same: a hit, no call.
    assert_eq!(npd(&proxy, payer, "crm-client-key").await.0, 401);
    assert_eq!(
        npd(&proxy, payer, "crm-rotated-key").await,
        (200, "HIT".into())
    );
    assert_eq!(
        npd(&proxy, payer, "hr-client-key").await,
        (200, "HIT".into())
    );
    assert_eq!(sandbox.calls(Provider::Npd), 1);
    // The new price is the one budgets reserve: at 1.50 a budget of 1.00 would refuse this.
    assert_eq!(
        npd(&proxy, OTHER_INN, "crm-rotated-key").await,
        (200, "MISS".into())
    );
    assert_eq!(sandbox.calls(Provider::Npd), 2);
    // A second paid answer at 0.50 fills the 1.00 budget; a third distinct query is refused.
    assert_eq!(
        npd(
            &proxy,
            &proverka_testkit::individual_inn(7_701_000_042),
            "crm-rotated-key"
        )
        .await
        .0,
        200
    );
    assert_eq!(
        npd(
            &proxy,
            &proverka_testkit::individual_inn(7_701_000_043),
            "crm-rotated-key"
        )
        .await
        .0,
        402
    );
    assert_eq!(sandbox.calls(Provider::Npd), 3);

    // The same file again: nothing to apply, nothing to restart for beyond what was reported.
    let again = proxy
        .reload(Config::from_toml(&after, &[]).unwrap())
        .unwrap();
    assert!(again.applied.is_empty(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_would_let_a_budget_be_overrun_changes_nothing() {
    let sandbox = start_sandbox().await;
    let before = format!(
        "{}[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = 10.0\n",
        config_for(&sandbox, "")
    );
    let proxy = Proxy::new(Config::from_toml(&before, &[]).unwrap()).unwrap();
    // NPD loses its price: a budget could not be held.
    let broken = before.replace("price_rub = 1.5\n", "");
    let refused = proxy.reload(Config::from_toml(&broken, &[]).unwrap());
    assert!(
        matches!(refused, Err(StartError::UnknownPrice { .. })),
        "{refused:?}"
    );
    assert_eq!(
        npd(&proxy, proverka_npd::sandbox::PAYER, "crm-client-key").await,
        (200, "MISS".into())
    );
}

/// logrotate renames the ledger export and sends SIGHUP: the next call goes into a new file at
/// the configured path, none more into the renamed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_export_follows_logrotate() {
    let sandbox = start_sandbox().await;
    let dir = std::env::temp_dir().join(format!("proverka-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = dir.join("ledger.jsonl");
    let toml = config_for(
        &sandbox,
        &format!("ledger_path = \"{}\"\n", ledger.display()),
    );
    let proxy = Proxy::new(Config::from_toml(&toml, &[]).unwrap()).unwrap();
    let ask = |inn: &'static str| {
        let proxy = proxy.clone();
        async move {
            let request = http::Request::get(format!("/v1/npd?inn={inn}&date=2024-03-01"))
                .body(Default::default())
                .unwrap();
            proxy.handle(request).await.status()
        }
    };
    let lines = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!(ask(proverka_npd::sandbox::PAYER).await, 200);
    assert_eq!(lines(&ledger), 1);
    let rotated = dir.join("ledger.jsonl.1");
    std::fs::rename(&ledger, &rotated).unwrap();
    proxy
        .reload(Config::from_toml(&toml, &[]).unwrap())
        .unwrap();
    assert_eq!(ask(proverka_npd::sandbox::NON_PAYER).await, 200);
    assert_eq!(lines(&rotated), 1, "nothing more into the renamed file");
    assert_eq!(lines(&ledger), 1, "the new call in a new file at the path");
}
