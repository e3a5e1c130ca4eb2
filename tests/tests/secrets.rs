//! Distinctive secrets never appear in logs, /metrics, error bodies, Redis keys or values.

use std::process::Command;
use std::time::Duration;

use proverka_core::Provider;
use proverka_sandbox::Fault;
use proverka_testkit::redis::RedisServer;
use proverka_tests::{http, start_proxy, start_sandbox};

const FSSP_TOKEN: &str = "SeCrEtFSSP0123456789abcdefghijkl";
const COURT_TOKEN: &str = "SeCrEt-court-token-4815";
const NPD_KEY: &str = "SeCrEt-npd-key-1623";
const CLIENT_KEY: &str = "SeCrEt-client-key-4242";
const OPERATOR_KEY: &str = "SeCrEt-operator-key-7777";
const BEARER: &str = "SeCrEt-alfa-bearer-1111";
const ENCRYPTION_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_personal_data_appear_nowhere() {
    let logs = proverka_tests::CapturedLogs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let sandbox = start_sandbox().await;
    let redis = RedisServer::start();
    let url = sandbox.url();
    let toml = format!(
        "{}listen = \"127.0.0.1:0\"\n[cache]\nredis_url = \"{}\"\nencryption_key = \"{ENCRYPTION_KEY}\"\n\
         [providers.fssp]\nbase_url = \"{url}\"\ntoken = \"{FSSP_TOKEN}\"\n\
         [providers.court]\nbase_url = \"{url}\"\ntoken = \"{COURT_TOKEN}\"\n\
         [providers.npd]\nbase_url = \"{url}\"\nkey = \"{NPD_KEY}\"\n\
         [providers.alfa]\nbase_url = \"{url}\"\n\
         [[clients]]\nname = \"crm\"\nkey = \"{CLIENT_KEY}\"\n\
         [[operators]]\nname = \"ops\"\nkey = \"{OPERATOR_KEY}\"\n",
        proverka_testkit::own_store(),
        redis.url()
    );
    let proxy = start_proxy(&toml).await;
    let c = http();
    let mut bodies = String::new();
    let key = ("X-Proverka-Key", CLIENT_KEY);
    let debtor = [
        ("type", "physical"),
        ("lastname", "Иванов"),
        ("firstname", "Иван"),
        ("birthdate", "31.03.1980"),
        ("region", "77"),
    ];
    // Answers, errors, faults, validation failures, the typed API: every path that logs.
    for fault in [
        None,
        Some(Fault::Html),
        Some(Fault::Reset),
        Some(Fault::ProviderError { code: "503".into() }),
    ] {
        if let Some(f) = fault {
            sandbox.inject(Provider::Fssp, f, Some(1));
        }
        let r = c
            .get(format!("{}/api/fssp.php", proxy.url))
            .query(&debtor)
            .header(key.0, key.1)
            .header("Cache-Control", "no-cache")
            .send()
            .await
            .unwrap();
        bodies.push_str(&r.text().await.unwrap());
    }
    for (path, query) in [
        (
            "/api/fssp.php",
            vec![
                ("type", "physical"),
                ("lastname", "Ив@нов"),
                ("token", CLIENT_KEY),
            ],
        ),
        ("/api", vec![("address", "Казань, Московская 1")]),
        (
            "/parser/nalog_npd_api/",
            vec![("inn", proverka_npd::sandbox::PAYER)],
        ),
        ("/v1/npd", vec![("inn", "540304378235")]),
    ] {
        let r = c
            .get(format!("{}{path}", proxy.url))
            .query(&query)
            .header(key.0, key.1)
            .send()
            .await
            .unwrap();
        bodies.push_str(&r.text().await.unwrap());
    }
    let alfa = format!(
        "{}/api/semp/v1/selfemployed/registries/add-selfemployed/{}",
        proxy.url,
        proverka_alfa::sandbox::REQUEST_ID
    );
    bodies.push_str(
        &c.get(&alfa)
            .header(key.0, key.1)
            .header("Authorization", format!("Bearer {BEARER}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    sandbox.inject(Provider::Alfa, Fault::Timeout, Some(1));
    let unauthorized = c
        .get(format!("{}/api/fssp.php", proxy.url))
        .query(&[("token", "wrong")])
        .send()
        .await
        .unwrap();
    bodies.push_str(&unauthorized.text().await.unwrap());
    // Every provider call has ended and been stored (its state, not a clock).
    let metrics = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let text = c
                .get(format!("{}/metrics", proxy.url))
                .header(key.0, OPERATOR_KEY)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            // Asked again as soon as each answer comes: no sleep.
            if text.contains("\nproverka_provider_calls_in_flight 0\n") {
                return text;
            }
        }
    })
    .await
    .expect("the provider calls ended");

    let keys = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "--scan"])
        .output()
        .unwrap();
    let keys = String::from_utf8_lossy(&keys.stdout).into_owned();
    assert!(!keys.trim().is_empty(), "answers were stored in Redis");
    let mut values = Vec::new();
    for k in keys.lines() {
        let v = Command::new("redis-cli")
            .args(["-p", &redis.port().to_string(), "--no-raw", "GET", k])
            .output()
            .unwrap();
        values.extend_from_slice(&v.stdout);
    }
    let values = String::from_utf8_lossy(&values).into_owned();
    let logs = logs.text();
    assert!(
        logs.contains("\"route\":\"fssp\""),
        "the request lines were captured"
    );

    for secret in [
        FSSP_TOKEN,
        COURT_TOKEN,
        NPD_KEY,
        CLIENT_KEY,
        BEARER,
        ENCRYPTION_KEY,
    ] {
        for (place, text) in [
            ("logs", &logs),
            ("metrics", &metrics),
            ("bodies", &bodies),
            ("redis keys", &keys),
            ("redis values", &values),
        ] {
            assert!(!text.contains(secret), "{secret} found in {place}");
        }
    }
    for personal in ["Иванов", "ИВАНОВ", "540304378234", "31.03.1980"] {
        for (place, text) in [
            ("logs", &logs),
            ("metrics", &metrics),
            ("redis keys", &keys),
        ] {
            assert!(!text.contains(personal), "{personal} found in {place}");
        }
    }
    // Values at rest are encrypted: not even the provider's body text is readable.
    assert!(!values.contains("debtor_name") && !values.contains("records"));
}
