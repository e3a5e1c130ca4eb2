//! Two replicas sharing a Redis over TLS (`rediss://`, a private CA in `redis_ca_file`):
//! what one paid for, the other serves; `/readyz` sees Redis up. A real `redis-server` with
//! TLS on loopback (proverka-testkit makes its certificates with `openssl`).

use proverka_core::Provider;
use proverka_testkit::redis::TlsRedisServer;
use proverka_tests::{config_for, get, header, redis_cache, start_proxy, start_sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_answers_over_tls() {
    let sandbox = start_sandbox().await;
    let redis = TlsRedisServer::start();
    let cache = format!(
        "{}redis_ca_file = \"{}\"\n",
        redis_cache(&redis.url()),
        redis.ca_pem().display()
    );
    let a = start_proxy(&config_for(&sandbox, &cache)).await;
    let b = start_proxy(&config_for(&sandbox, &cache)).await;
    let ready: serde_json::Value = reqwest::get(format!("{}/readyz", a.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["redis"], "up", "{ready}");
    let inn = [("inn", proverka_npd::sandbox::PAYER.to_owned())];
    let first = get(&format!("{}/parser/nalog_npd_api/", a.url), &inn).await;
    assert_eq!(header(&first, "x-cache"), "MISS");
    let second = get(&format!("{}/parser/nalog_npd_api/", b.url), &inn).await;
    assert_eq!(header(&second, "x-cache"), "HIT");
    assert_eq!(sandbox.calls(Provider::Npd), 1);
}
