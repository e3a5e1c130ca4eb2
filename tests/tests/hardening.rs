//! Hardening end to end (issue 15): the proxy on loopback in front of the sandbox, real
//! redis-servers where Redis matters.

use proverka_core::Provider;
use proverka_tests::{
    config_for, fssp_debtor, header, http, metrics_text, redis_cache, start_proxy, start_sandbox,
};

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

    let extra = redis_cache(&redis.url());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_get_is_served_and_metrics_need_an_operator_key() {
    let sandbox = start_sandbox().await;
    let clients = "[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n\
                   [[operators]]\nname = \"ops\"\nkey = \"ops-operator-key\"\n";
    let proxy = start_proxy(&config_for(&sandbox, clients)).await;
    let url = format!("{}/api/fssp.php", proxy.url);
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::HEAD,
    ] {
        let r = http()
            .request(method.clone(), &url)
            .query(&fssp_debtor("06.06.1986"))
            .header("X-Proverka-Key", "crm-client-key")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(header(&r, "allow"), "GET");
    }
    assert_eq!(
        sandbox.calls(Provider::Fssp),
        0,
        "nothing paid for another method"
    );
    let metrics = |auth: Option<(&'static str, &'static str)>| {
        let url = format!("{}/metrics", proxy.url);
        async move {
            let mut r = http().get(url);
            if let Some((k, v)) = auth {
                r = r.header(k, v);
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(metrics(None).await, 401);
    assert_eq!(
        metrics(Some(("X-Proverka-Key", "wrong-key-123"))).await,
        401
    );
    assert_eq!(
        metrics(Some(("X-Proverka-Key", "crm-client-key"))).await,
        403,
        "a client key is not an operator's"
    );
    assert_eq!(
        metrics(Some(("X-Proverka-Key", "ops-operator-key"))).await,
        200
    );
    assert_eq!(
        metrics(Some(("Authorization", "Bearer ops-operator-key"))).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_live_on_their_own_listener() {
    let sandbox = start_sandbox().await;
    let port = proverka_testkit::redis::free_port();
    let extra = format!(
        "metrics_listen = \"127.0.0.1:{port}\"\n[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n"
    );
    let proxy = start_proxy(&config_for(&sandbox, &extra)).await;
    let (listener, _) = proxy.proxy.bind_metrics().await.unwrap().unwrap();
    tokio::spawn(
        proxy
            .proxy
            .clone()
            .serve_metrics(listener, std::future::pending()),
    );
    let get = |url: String| async move { http().get(url).send().await.unwrap().status().as_u16() };
    assert_eq!(
        get(format!("http://127.0.0.1:{port}/metrics")).await,
        200,
        "no key there"
    );
    assert_eq!(get(format!("http://127.0.0.1:{port}/readyz")).await, 200);
    assert_eq!(
        get(format!("http://127.0.0.1:{port}/api/fssp.php")).await,
        404,
        "nothing else there"
    );
    let main = http()
        .get(format!("{}/metrics", proxy.url))
        .header("X-Proverka-Key", "crm-client-key")
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404, "metrics left the main listener");
}

/// A raw TCP exchange with the proxy: what slow, idle and oversized clients do.
async fn raw(url: &str) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_oversized_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sandbox = start_sandbox().await;
    let extra =
        "[http]\nheader_read_timeout_secs = 2\nmax_header_bytes = 8192\nmax_connections = 4\n";
    let proxy = start_proxy(&config_for(&sandbox, extra)).await;
    // Headers larger than the bound: 431 and the connection closed (not buffered without end).
    let mut big = raw(&proxy.url).await;
    let mut head = "GET /healthz HTTP/1.1\r\nHost: x\r\n".to_owned();
    for i in 0..400 {
        head.push_str(&format!("X-Filler-{i}: {}\r\n", "a".repeat(100)));
    }
    head.push_str("\r\n");
    let _ = big.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = big.read_to_end(&mut answer).await;
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A half-sent request, and an idle keep-alive connection: both closed by the server
    // (the read ends) once the header timeout passes; no test clock: we wait for the close.
    let mut slow = raw(&proxy.url).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut idle = raw(&proxy.url).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    for (name, stream) in [("half-sent", &mut slow), ("idle", &mut idle)] {
        let closed = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        })
        .await;
        assert!(closed.is_ok(), "{name} connection never closed");
    }
    // The connection cap: with 4 open, the fifth waits; it is served once one closes.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = raw(&proxy.url).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        held.push(s);
    }
    let mut fifth = raw(&proxy.url).await;
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Not accepted while four are open: no answer comes (an uncapped server answers at once).
    let early =
        tokio::time::timeout(std::time::Duration::from_millis(300), fifth.read(&mut buf)).await;
    assert!(early.is_err(), "a fifth connection was served past the cap");
    drop(held.pop());
    let n = fifth.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_memory_bound_and_an_upstream_body_cap() {
    let sandbox = start_sandbox().await;
    let config = config_for(
        &sandbox,
        "[cache]\nmemory_mb = 1\n[retry]\nmax_attempts = 3\nbase_delay_ms = 5\n",
    )
    .replace(
        "[providers.fssp]\n",
        "[providers.fssp]\nmax_body_bytes = 65536\n",
    );
    let proxy = start_proxy(&config).await;
    let url = format!("{}/api/fssp.php", proxy.url);
    let metrics = || async { metrics_text(&proxy.url).await };
    // An answer over max_body_bytes: refused unread, one call, possibly billed, not cached.
    sandbox.inject(
        Provider::Fssp,
        proverka_sandbox::Fault::Oversized { bytes: 1_000_000 },
        Some(1),
    );
    let r = get_with(&url, &fssp_debtor("07.07.1977"), &[]).await;
    assert_eq!(r.status(), 502);
    assert_eq!(header(&r, "x-proverka-billed"), "unknown");
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("provider_answer_too_large")
    );
    assert_eq!(sandbox.calls(Provider::Fssp), 1, "never re-sent");
    let r = get_with(&url, &fssp_debtor("07.07.1977"), &[]).await;
    assert_eq!(header(&r, "x-cache"), "MISS", "never cached");
    // The cache-size metric tells the truth right away.
    assert!(metric(&metrics().await, "proverka_cache_bytes") > 0.0);
    // Hits that differ only in an ignored parameter: the memo of validated queries stays
    // within its share of memory_mb (a sixteenth: 64 KiB here).
    let client = http();
    for i in 0..400 {
        let mut q = fssp_debtor("07.07.1977");
        q.push(("ignored", i.to_string()));
        let r = client.get(&url).query(&q).send().await.unwrap();
        assert_eq!(header(&r, "x-cache"), "HIT");
    }
    let memo = metric(&metrics().await, "proverka_memo_bytes");
    assert!(memo > 0.0 && memo <= 65536.0, "memo holds {memo} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_calls_in_progress_are_bounded() {
    let sandbox = start_sandbox().await;
    sandbox.inject(
        Provider::Npd,
        proverka_sandbox::Fault::latency(std::time::Duration::from_millis(400)),
        None,
    );
    let proxy = start_proxy(&config_for(&sandbox, "[cache]\nmax_flights = 2\n")).await;
    let url = format!("{}/parser/nalog_npd_api/", proxy.url);
    let ask = |inn: &'static str| {
        let url = url.clone();
        async move {
            http()
                .get(url)
                .query(&[("inn", inn), ("date", "2024-02-01")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (a, b) = (
        tokio::spawn(ask(proverka_npd::sandbox::PAYER)),
        tokio::spawn(ask(proverka_npd::sandbox::NON_PAYER)),
    );
    // Wait until both are at the provider, then a third distinct query finds no room.
    while sandbox.calls(Provider::Npd) < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(ask("773301212336").await, 503);
    assert_eq!((a.await.unwrap(), b.await.unwrap()), (200, 200));
    assert_eq!(
        sandbox.calls(Provider::Npd),
        2,
        "the refused one cost nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_redis_degrades_readiness_and_nobody_pays_blindly() {
    let sandbox = start_sandbox().await;
    let redis = proverka_testkit::redis::RedisServer::start();
    let extra = redis_cache(&redis.url());
    let (a, b) = (
        start_proxy(&config_for(&sandbox, &extra)).await,
        start_proxy(&config_for(&sandbox, &extra)).await,
    );
    // A Redis at its maxmemory with noeviction: a limit below what it already holds (a fresh
    // server holds about a megabyte), so every write is refused (OOM) whatever the buffers.
    assert_eq!(
        redis_cli(&redis, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]).trim(),
        "OK"
    );
    assert_eq!(
        redis_cli(&redis, &["CONFIG", "SET", "maxmemory", "100000"]).trim(),
        "OK"
    );
    let warnings = a.proxy.redis_warnings().await;
    assert!(
        warnings.iter().any(|w| w.contains("noeviction")),
        "{warnings:?}"
    );
    assert!(redis_cli(&redis, &["SET", "probe", "1"]).contains("OOM"));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let url = format!("{}/api/fssp.php", if i % 2 == 0 { &a.url } else { &b.url });
            tokio::spawn(async move {
                let r = http()
                    .get(url)
                    .query(&fssp_debtor("08.08.1988"))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("cache_degraded"), "{body}");
    }
    assert_eq!(
        sandbox.calls(Provider::Fssp),
        0,
        "nobody paid without the lock"
    );
    let ready = http()
        .get(format!("{}/readyz", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["redis"],
        "degraded"
    );
    let metrics = metrics_text(&a.url).await;
    assert!(metrics.contains("proverka_redis_degraded 1"), "{metrics}");
    // Room again: the same query is paid once, and readiness comes back.
    redis_cli(&redis, &["CONFIG", "SET", "maxmemory", "0"]);
    let r = http()
        .get(format!("{}/api/fssp.php", a.url))
        .query(&fssp_debtor("08.08.1988"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
    let ready = http()
        .get(format!("{}/readyz", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}
