//! Hardening end to end (issue 15): the proxy on loopback in front of the sandbox, real
//! redis-servers where Redis matters.

use proverka_core::Provider;
use proverka_tests::{config_for, fssp_debtor, http, start_proxy, start_sandbox};

async fn get_with(
    url: &str,
    query: &[(&str, String)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut r = http().get(url).query(query);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_clients_allowed_to_refresh_can_make_the_proxy_pay_again() {
    let sandbox = start_sandbox().await;
    let clients = "[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n\
                   [[clients]]\nname = \"ops\"\nkey = \"ops-client-key\"\nmay_refresh = true\n";
    let proxy = start_proxy(&config_for(&sandbox, clients)).await;
    let url = format!("{}/api/fssp.php", proxy.url);
    let q = fssp_debtor("03.03.1983");
    let crm = |cc: &'static str| [("X-Proverka-Key", "crm-client-key"), ("Cache-Control", cc)];
    let first = get_with(&url, &q, &[("X-Proverka-Key", "crm-client-key")]).await;
    assert_eq!(header(&first, "x-cache"), "MISS");
    // may_refresh defaults to false: no-cache, max-age=0 and a max-age below the answer's age
    // are all ignored, and the answer says so.
    for cc in ["no-cache", "max-age=0", "max-age=0, no-cache"] {
        let r = get_with(&url, &q, &crm(cc)).await;
        assert_eq!(
            (header(&r, "x-cache"), header(&r, "x-proverka-refresh")),
            ("HIT".to_owned(), "denied".to_owned()),
            "{cc}"
        );
    }
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
    // A client allowed to refresh does.
    let r = get_with(
        &url,
        &q,
        &[
            ("X-Proverka-Key", "ops-client-key"),
            ("Cache-Control", "max-age=0"),
        ],
    )
    .await;
    assert_eq!(
        (header(&r, "x-cache"), header(&r, "x-proverka-refresh")),
        ("MISS".to_owned(), String::new())
    );
    assert_eq!(sandbox.calls(Provider::Fssp), 2);
}

fn redis_cli(redis: &proverka_testkit::redis::RedisServer, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port().to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_encrypted_at_rest_by_default_and_bound_to_its_key() {
    let sandbox = start_sandbox().await;
    let redis = proverka_testkit::redis::RedisServer::start();
    // Redis without an encryption key: refused, unless plaintext is asked for on purpose.
    let plain = config_for(
        &sandbox,
        &format!("[cache]\nredis_url = \"{}\"\n", redis.url()),
    );
    let e = proverka_proxy::Config::from_toml(&plain, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("encryption_key") && e.contains("allow_plaintext"),
        "{e}"
    );
    let on_purpose = [(
        "PROVERKA_CACHE_ALLOW_PLAINTEXT".to_owned(),
        "true".to_owned(),
    )];
    assert!(proverka_proxy::Config::from_toml(&plain, &on_purpose).is_ok());

    let extra = format!(
        "[cache]\nredis_url = \"{}\"\nencryption_key = \"{}\"\n",
        redis.url(),
        proverka_tests::TEST_ENCRYPTION_KEY
    );
    let proxy = start_proxy(&config_for(&sandbox, &extra)).await;
    let url = format!("{}/api/fssp.php", proxy.url);
    let values = || {
        let mut v: Vec<String> = redis_cli(&redis, &["--scan", "--pattern", "proverka:*:v"])
            .lines()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    get_with(&url, &fssp_debtor("04.04.1984"), &[]).await;
    let first = values();
    assert_eq!(first.len(), 1);
    get_with(&url, &fssp_debtor("05.04.1984"), &[]).await;
    let second: Vec<String> = values()
        .into_iter()
        .filter(|v| !first.contains(v))
        .collect();
    assert_eq!(second.len(), 1);
    // Nothing readable at rest: no name, no birth date.
    let raw = redis_cli(&redis, &["GET", &first[0]]);
    assert!(
        !raw.contains("Иванов") && !raw.contains("ФИО") && !raw.contains("1984"),
        "{raw}"
    );
    // One person's entry copied under another's key name is a miss, never served.
    assert_eq!(
        redis_cli(&redis, &["COPY", &first[0], &second[0], "REPLACE"]).trim(),
        "1"
    );
    let fresh = start_proxy(&config_for(&sandbox, &extra)).await; // an empty memory tier
    let calls = sandbox.calls(Provider::Fssp);
    let r = get_with(
        &format!("{}/api/fssp.php", fresh.url),
        &fssp_debtor("05.04.1984"),
        &[],
    )
    .await;
    assert_eq!(header(&r, "x-cache"), "MISS");
    assert_eq!(sandbox.calls(Provider::Fssp), calls + 1);
}
