//! The `proverka-proxy` binary restarted on one store of record: budgets hold across SIGTERM
//! and kill -9.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::{binary, exits_successfully, start};

/// The documented first deployment (one replica, no Redis) with a budget: the day's spend is
/// in the store of record, so no restart (SIGTERM or kill -9, one of them with a paid call in
/// flight) gives a client more than its budget, and `/v1/spend` says so after each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_across_restarts_by_sigterm_and_kill_9() {
    use proverka_core::Provider;
    let sandbox = proverka_sandbox::Sandbox::builder()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("proverka-restarts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.toml");
    let store = proverka_testkit::own_store_path();
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:0\"\n[providers.npd]\nbase_url = \"{}\"\nkey = \"npd-key\"\nprice_rub = 1.5\n\
             [providers.court]\nprice_rub = 2.0\n\
             [[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = 4.5\n",
            sandbox.url()
        ),
    )
    .unwrap();
    // Every start on the same store (a file in the state directory, as the unit has it).
    let launch = || {
        let mut c = binary();
        c.env("PROVERKA_STORE_PATH", &store)
            .arg("--config")
            .arg(&path);
        start(c)
    };
    let client = reqwest::Client::new();
    let ask = |base: &str, n: u64| {
        client
            .get(format!("{base}/v1/npd"))
            .query(&[
                ("inn", proverka_testkit::individual_inn(n)),
                ("date", "2024-03-01".to_owned()),
            ])
            .header("X-Proverka-Key", "crm-client-key")
            .send()
    };
    let spend = |base: String| {
        let client = client.clone();
        async move {
            client
                .get(format!("{base}/v1/spend"))
                .header("X-Proverka-Key", "crm-client-key")
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let signal = |child: &Child, name: &str| {
        let sent = Command::new("kill")
            .args([name, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };

    // Two paid answers (3.00 of 4.50), then SIGTERM.
    let (child, base) = launch().await;
    assert_eq!(ask(&base, 1).await.unwrap().status(), 200);
    assert_eq!(ask(&base, 2).await.unwrap().status(), 200);
    signal(&child, "-TERM");
    exits_successfully(child, Duration::from_secs(40)).await;

    // A third call is in flight when the proxy is killed: it may have been billed.
    let (mut child, base) = launch().await;
    assert_eq!(spend(base.clone()).await["total_rub"], "3.00");
    sandbox.inject(
        Provider::Npd,
        proverka_sandbox::Fault::latency(Duration::from_secs(30)),
        Some(1),
    );
    let in_flight = tokio::spawn(ask(&base, 3));
    tokio::time::timeout(
        Duration::from_secs(30),
        sandbox.wait_until(|s| s.calls(Provider::Npd) >= 3),
    )
    .await
    .expect("the third call reached the provider");
    signal(&child, "-KILL");
    let _ = child.wait();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the connection died with the proxy"
    );

    // After the kill the call in flight counts at its reservation: the budget is full.
    let (mut child, base) = launch().await;
    let refused = ask(&base, 4).await.unwrap();
    assert_eq!(refused.status(), 402);
    let s = spend(base.clone()).await;
    assert_eq!(s["total_rub"], "3.00", "{s}");
    assert_eq!(s["clients"]["crm"]["npd"]["calls"], 3, "{s}");
    assert_eq!(s["clients"]["crm"]["npd"]["billed_unknown"], 1, "{s}");
    signal(&child, "-KILL");
    let _ = child.wait();

    // And after yet another restart.
    let (child, base) = launch().await;
    assert_eq!(ask(&base, 5).await.unwrap().status(), 402);
    signal(&child, "-TERM");
    exits_successfully(child, Duration::from_secs(40)).await;
    assert_eq!(
        sandbox.calls(Provider::Npd),
        3,
        "three calls across four starts"
    );
    assert!(
        sandbox.billed(Provider::Npd) <= 3,
        "at most 4.50 RUB billed on a 4.50 RUB budget"
    );
}
