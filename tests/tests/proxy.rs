//! The proxy end to end, the sandbox as the providers, real redis-servers: routing, client
//! keys, budgets, provider errors and the typed API in process through its service; on real
//! sockets what is about sockets (a client that hangs up, shutdown, load, bursts over HTTP).

use proverka_core::ProviderRefusal as _;
use std::collections::HashMap;
use std::time::Duration;

use proverka_core::Provider;
use proverka_core::status_day::StatusOnDay as _;
use proverka_sandbox::Fault;
use proverka_testkit::redis::RedisServer;
use proverka_tests::{
    InProcess, config_for, config_on_store, fssp_debtor, get, header, http, metrics_text,
    redis_cache, start_proxy, start_sandbox,
};

/// Path, query, expected status, expected body.
type InvalidCase = (String, Vec<(&'static str, String)>, u16, String);

async fn cold_burst(
    urls: &[String],
    query: Vec<(&'static str, String)>,
    n: usize,
) -> (HashMap<String, usize>, Vec<Vec<u8>>) {
    let client = http();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, url, query) = (
                client.clone(),
                format!("{}/api/fssp.php", urls[i % urls.len()]),
                query.clone(),
            );
            tokio::spawn(async move {
                let r = client.get(url).query(&query).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let status = header(&r, "x-cache");
                (status, r.bytes().await.unwrap().to_vec())
            })
        })
        .collect();
    let mut statuses = HashMap::new();
    let mut bodies = Vec::new();
    for t in tasks {
        let (s, b) = t.await.unwrap();
        *statuses.entry(s).or_insert(0) += 1;
        bodies.push(b);
    }
    (statuses, bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_cold_identical_queries_one_provider_call_one_and_two_proxies() {
    let sandbox = start_sandbox().await;
    sandbox.inject(Provider::Fssp, Fault::latency(Duration::from_secs(3)), None);
    let proxy = start_proxy(&config_for(&sandbox, "")).await;
    let (statuses, bodies) = cold_burst(
        std::slice::from_ref(&proxy.url),
        fssp_debtor("31.03.1980"),
        200,
    )
    .await;
    assert_eq!(sandbox.calls(Provider::Fssp), 1, "{statuses:?}");
    assert_eq!(statuses.get("MISS"), Some(&1));
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "200 identical bodies"
    );
    assert_eq!(proxy.proxy.metrics().provider_calls(Provider::Fssp), 1);

    // Two proxy replicas sharing one Redis.
    let redis = RedisServer::start();
    let extra = format!("{}\nlock_ttl_secs = 2", redis_cache(&redis.url()));
    let (a, b) = (
        start_proxy(&config_for(&sandbox, &extra)).await,
        start_proxy(&config_for(&sandbox, &extra)).await,
    );
    let (statuses, bodies) = cold_burst(
        &[a.url.clone(), b.url.clone()],
        fssp_debtor("01.01.1970"),
        200,
    )
    .await;
    assert_eq!(
        sandbox.calls(Provider::Fssp),
        2,
        "one more call for both replicas: {statuses:?}"
    );
    assert!(bodies.iter().all(|x| *x == bodies[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_does_not_cancel_the_paid_call() {
    let sandbox = start_sandbox().await;
    sandbox.inject(
        Provider::Fssp,
        Fault::latency(Duration::from_millis(1500)),
        Some(1),
    );
    let proxy = start_proxy(&config_for(&sandbox, "")).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/api/fssp.php", proxy.url);
    assert!(
        impatient
            .get(&url)
            .query(&fssp_debtor("02.02.1982"))
            .send()
            .await
            .is_err()
    );
    // The flight goes on without its caller: the next asker joins it (or, once it has ended,
    // finds its answer), and the one after is a plain hit. One call in all.
    let joined = get(&url, &fssp_debtor("02.02.1982")).await;
    assert!(
        matches!(header(&joined, "x-cache").as_str(), "COALESCED" | "HIT"),
        "{}",
        header(&joined, "x-cache")
    );
    let r = get(&url, &fssp_debtor("02.02.1982")).await;
    assert_eq!(header(&r, "x-cache"), "HIT");
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_proxy_finds_earlier_answers_in_redis_and_shutdown_keeps_calls_in_flight() {
    let sandbox = start_sandbox().await;
    let redis = RedisServer::start();
    let extra = redis_cache(&redis.url());
    let first = start_proxy(&config_for(&sandbox, &extra)).await;
    let url = |p: &proverka_tests::RunningProxy| format!("{}/api/fssp.php", p.url);
    assert_eq!(
        header(
            &get(&url(&first), &fssp_debtor("03.03.1983")).await,
            "x-cache"
        ),
        "MISS"
    );
    // A call in flight when SIGTERM comes finishes and is stored before exit.
    sandbox.inject(
        Provider::Fssp,
        Fault::latency(Duration::from_millis(1500)),
        Some(1),
    );
    let before = sandbox.calls(Provider::Fssp);
    let in_flight = {
        let u = url(&first);
        tokio::spawn(async move { http().get(u).query(&fssp_debtor("04.04.1984")).send().await })
    };
    // The call has reached the provider (its count, not a clock).
    tokio::time::timeout(
        Duration::from_secs(30),
        sandbox.wait_until(|s| s.calls(Provider::Fssp) > before),
    )
    .await
    .expect("the call in flight reached the provider");
    first.shutdown().await;
    let _ = in_flight.await;

    let second = start_proxy(&config_for(&sandbox, &extra)).await;
    for birth in ["03.03.1983", "04.04.1984"] {
        let r = get(&url(&second), &fssp_debtor(birth)).await;
        assert_eq!(header(&r, "x-cache"), "HIT", "{birth}");
    }
    assert_eq!(sandbox.calls(Provider::Fssp), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dying_under_load_causes_no_5xx_and_is_reported() {
    let sandbox = start_sandbox().await;
    let mut redis = RedisServer::start();
    let extra = redis_cache(&redis.url());
    let proxy = start_proxy(&config_for(&sandbox, &extra)).await;
    let ready = |p: String| async move {
        http()
            .get(format!("{p}/readyz"))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    assert_eq!(ready(proxy.url.clone()).await["redis"], "up");
    let mut statuses = Vec::new();
    for i in 0..60 {
        if i == 20 {
            redis.stop();
        }
        let r = http()
            .get(format!("{}/parser/nalog_npd_api/", proxy.url))
            .query(&[
                ("inn", proverka_npd::sandbox::PAYER),
                ("date", &format!("2024-01-{:02}", 1 + i % 28)),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");
    let r = ready(proxy.url.clone()).await;
    assert_eq!(
        (r["ready"].clone(), r["redis"].clone()),
        (serde_json::json!(true), serde_json::json!("down"))
    );
    let metrics = metrics_text(&proxy.url).await;
    assert!(metrics.contains("proverka_redis_up 0"));
    redis.restart();
    // Waits on the state readyz reports, asking again as soon as it answers (each ask is a
    // round trip; bounded generously, never timed).
    let back = tokio::time::timeout(Duration::from_secs(60), async {
        while ready(proxy.url.clone()).await["redis"] != "up" {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(back.is_ok(), "readyz reports Redis back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_queries_get_the_provider_s_own_error_for_free() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, ""));
    let fssp = |pairs: &[(&str, &str)]| {
        proverka::fssp::FsspQuery::from_pairs(pairs)
            .unwrap_err()
            .provider_body()
    };
    let mut cases: Vec<InvalidCase> = Vec::new();
    for bad in [
        vec![
            ("type", "physical"),
            ("lastname", "Ив@нов"),
            ("firstname", "Иван"),
            ("birthdate", "01.01.1990"),
            ("region", "77"),
        ],
        vec![
            ("type", "physical"),
            ("firstname", "Иван"),
            ("birthdate", "01.01.1990"),
            ("region", "77"),
        ],
        vec![
            ("type", "physical"),
            ("lastname", "Иванов"),
            ("firstname", "Иван"),
            ("region", "77"),
        ],
        vec![
            ("type", "physical"),
            ("lastname", "Иванов"),
            ("firstname", "Иван"),
            ("birthdate", "31.02.1990"),
            ("region", "77"),
        ],
        vec![
            ("type", "physical"),
            ("lastname", "Иван"),
            ("firstname", "иван"),
            ("birthdate", "01.01.1990"),
            ("region", "77"),
        ],
        vec![("type", "inn"), ("inn", "7707083890"), ("region", "-1")],
        vec![
            ("type", "id"),
            ("number", "1/2"),
            ("region", "77"),
            ("typeid", "9"),
        ],
        vec![("lastname", "Иванов")],
    ] {
        let body = fssp(&bad);
        cases.push((
            "/api/fssp.php".into(),
            bad.into_iter().map(|(k, v)| (k, v.to_owned())).collect(),
            200,
            body,
        ));
    }
    cases.push((
        "/api".into(),
        vec![("coords", "55.7;49.1".into())],
        200,
        proverka::court::CourtQuery::from_pairs(&[("coords", "55.7;49.1")])
            .unwrap_err()
            .provider_body(),
    ));
    cases.push((
        "/api".into(),
        vec![],
        200,
        proverka::court::CourtQuery::from_pairs(&[])
            .unwrap_err()
            .provider_body(),
    ));
    cases.push((
        "/parser/nalog_npd_api/".into(),
        vec![("inn", "7707083893".into())],
        400,
        proverka::npd::NpdQuery::parse("7707083893", None)
            .unwrap_err()
            .provider_body(),
    ));
    cases.push((
        "/parser/nalog_npd_api/".into(),
        vec![
            ("inn", proverka_npd::sandbox::PAYER.into()),
            ("date", "2999-01-01".into()),
        ],
        400,
        proverka::npd::NpdQuery::parse(proverka_npd::sandbox::PAYER, Some("2999-01-01"))
            .unwrap_err()
            .provider_body(),
    ));
    cases.push((
        "/api/semp/v1/selfemployed/registries/add-selfemployed/not%20a%20path%20segment".into(),
        vec![],
        400,
        proverka::alfa::RegistryQuery::new("not%20a%20path%20segment")
            .unwrap_err()
            .provider_body(),
    ));
    for (path, query, status, body) in cases {
        let r = proxy
            .get_with(&path, &query, &[("Authorization", "Bearer b")])
            .await;
        assert_eq!(r.status, status, "{path} {query:?}");
        assert_eq!(r.text(), body, "{path} {query:?}");
    }
    for p in Provider::ALL {
        assert_eq!(sandbox.calls(p), 0, "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_pass_through_uncached_and_npd_success_zero_is_retried() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, "[retry]\nbase_delay_ms = 10\n"));
    let url = "/api/fssp.php";
    sandbox.inject(
        Provider::Fssp,
        Fault::ProviderError { code: "503".into() },
        Some(1),
    );
    let r = proxy.get(url, &fssp_debtor("05.05.1985")).await;
    assert_eq!(
        r.text(),
        r#"{"error":"503","message":"TOKEN_NOT_REGISTERED_IN_THE_SYSTEM"}"#
    );
    let r = proxy.get(url, &fssp_debtor("05.05.1985")).await;
    assert_eq!(r.header("x-cache"), "MISS", "the error was not cached");
    assert_eq!(sandbox.calls(Provider::Fssp), 2);

    // 456 MAX_LIMIT is free and retryable: retried within the same request.
    sandbox.inject(
        Provider::Fssp,
        Fault::ProviderError { code: "456".into() },
        Some(1),
    );
    let r = proxy.get(url, &fssp_debtor("06.06.1986")).await;
    assert!(r.text().contains("records"));
    assert_eq!(sandbox.calls(Provider::Fssp), 4);

    let npd = "/parser/nalog_npd_api/";
    let q = vec![
        ("inn", proverka_npd::sandbox::PAYER.to_owned()),
        ("date", "2024-02-01".to_owned()),
    ];
    sandbox.inject(Provider::Npd, Fault::SuccessZero, Some(2));
    let r = proxy.get(npd, &q).await;
    assert_eq!(r.text(), r#"{"found":1,"success":1}"#);
    assert_eq!(
        sandbox.calls(Provider::Npd),
        3,
        "two success=0 retried, then the answer"
    );
    sandbox.inject(Provider::Npd, Fault::SuccessZero, None);
    let q2 = vec![
        ("inn", proverka_npd::sandbox::NON_PAYER.to_owned()),
        ("date", "2024-02-01".to_owned()),
    ];
    assert_eq!(proxy.get(npd, &q2).await.text(), r#"{"success":0}"#);
    assert_eq!(
        proxy.get(npd, &q2).await.header("x-cache"),
        "MISS",
        "success=0 is never cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_and_client_keys() {
    let sandbox = start_sandbox().await;
    let clients = "[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = 2.0\n\
                   [[clients]]\nname = \"poor\"\nkey = \"poor-client-key\"\ndaily_budget_rub = 1.0\n\
                   [[operators]]\nname = \"ops\"\nkey = \"ops-operator-key\"\n";
    let proxy = InProcess::new(&config_for(&sandbox, clients));
    let url = "/api/fssp.php";
    let with_key = |key: &str, birth: &str| {
        let mut q = fssp_debtor(birth);
        q.push(("token", key.to_owned()));
        q
    };
    assert_eq!(proxy.get(url, &fssp_debtor("07.07.1987")).await.status, 401);
    assert_eq!(
        proxy
            .get(url, &with_key("wrong-key-123", "07.07.1987"))
            .await
            .status,
        401
    );
    // FSSP costs up to 1.40: the "poor" client cannot afford one.
    let r = proxy
        .get(url, &with_key("poor-client-key", "07.07.1987"))
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(sandbox.calls(Provider::Fssp), 0);
    // crm: 0.80 spent, then a second paid query would pass 2.00.
    assert_eq!(
        proxy
            .get(url, &with_key("crm-client-key", "07.07.1987"))
            .await
            .status,
        200
    );
    let r = proxy
        .get(url, &with_key("crm-client-key", "08.08.1988"))
        .await;
    assert_eq!(r.status, 402);
    assert!(r.text().contains("budget_exceeded"));
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
    // Hits cost nothing, even for a client with no budget left.
    let r = proxy
        .get(url, &with_key("poor-client-key", "07.07.1987"))
        .await;
    assert_eq!((r.status, r.header("x-cache")), (200, "HIT".to_owned()));
    let header_key = proxy
        .get_with(
            url,
            &fssp_debtor("07.07.1987"),
            &[("X-Proverka-Key", "crm-client-key")],
        )
        .await;
    assert_eq!(header_key.status, 200);
    // With keys configured, /metrics needs an operator's: a client's is refused.
    let forbidden = proxy
        .get_with("/metrics", &[], &[("X-Proverka-Key", "crm-client-key")])
        .await;
    assert_eq!(forbidden.status, 403);
    let metrics = proxy
        .get_with("/metrics", &[], &[("X-Proverka-Key", "ops-operator-key")])
        .await
        .text();
    assert!(metrics.contains("proverka_budget_refusals_total{client=\"poor\"} 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_through_tokens_partition_the_cache_and_alfa_bearers_are_the_callers() {
    let sandbox = start_sandbox().await;
    let url = sandbox.url();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\n[providers.fssp]\nbase_url = \"{url}\"\n[providers.alfa]\nbase_url = \"{url}\"\n"
    );
    let proxy = InProcess::new(&toml);
    let fssp = "/api/fssp.php";
    let q = |token: &str| {
        let mut q = fssp_debtor("09.09.1989");
        q.push(("token", token.to_owned()));
        q
    };
    let r = proxy.get(fssp, &fssp_debtor("09.09.1989")).await;
    assert_eq!(
        r.text(),
        r#"{"error":"502","message":"MISSING_REQUIRED_TOKEN_PARAMETER"}"#
    );
    let a = "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let b = "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    assert_eq!(proxy.get(fssp, &q(a)).await.header("x-cache"), "MISS");
    assert_eq!(proxy.get(fssp, &q(a)).await.header("x-cache"), "HIT");
    assert_eq!(
        proxy.get(fssp, &q(b)).await.header("x-cache"),
        "MISS",
        "another token, another partition"
    );
    let alfa = format!(
        "/api/semp/v1/selfemployed/registries/add-selfemployed/{}",
        proverka_alfa::sandbox::REQUEST_ID
    );
    let with = |bearer: &str| {
        let (proxy, alfa) = (proxy.clone(), alfa.clone());
        let authorization = format!("Bearer {bearer}");
        async move {
            proxy
                .get_with(&alfa, &[], &[("Authorization", authorization.as_str())])
                .await
        }
    };
    let first = with("bearer-one").await;
    assert_eq!(first.header("x-cache"), "MISS");
    assert_eq!(with("bearer-one").await.header("x-cache"), "HIT");
    let rejected = with(proverka_alfa::sandbox::INVALID_BEARER).await;
    assert_eq!(
        rejected.status, 401,
        "an unknown bearer is a miss, and the bank refuses it"
    );
    assert_eq!(proxy.get(&alfa, &[]).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_api_openapi_and_cache_control() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, ""));
    let r = proxy
        .get("/v1/fssp/physical", &fssp_debtor("10.10.1990")[1..])
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["cache"].as_str(), v["result"]["kind"].as_str()),
        (Some("MISS"), Some("debtors"))
    );
    assert!(
        v["result"]["records"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    let r = proxy
        .get(
            "/v1/court",
            &[("address", proverka_court::sandbox::ADDRESS_FOUND.to_owned())],
        )
        .await;
    assert!(r.json()["result"]["court_fs"]["title"].is_string());
    let r = proxy
        .get(
            "/v1/npd",
            &[("inn", proverka_npd::sandbox::PAYER.to_owned())],
        )
        .await;
    assert_eq!(r.json()["result"]["self_employed"], true);
    let r = proxy
        .get_with(
            &format!("/v1/alfa/registries/{}", proverka_alfa::sandbox::REQUEST_ID),
            &[],
            &[("Authorization", "Bearer x")],
        )
        .await;
    assert_eq!(r.json()["result"]["listStatus"], "NEW");
    let bad = proxy
        .get("/v1/fssp/physical", &[("lastname", "Ив@нов".to_owned())])
        .await;
    assert_eq!(bad.status, 400);
    let doc = proxy.get("/v1/openapi.json", &[]).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/fssp/physical"]["get"].is_object());

    let url = "/api/fssp.php";
    let q = fssp_debtor("11.11.1991");
    assert_eq!(proxy.get(url, &q).await.header("x-cache"), "MISS");
    let with_cache_control = |value: &'static str| {
        let (proxy, q) = (proxy.clone(), q.clone());
        async move { proxy.get_with(url, &q, &[("Cache-Control", value)]).await }
    };
    let forced = with_cache_control("no-cache").await;
    assert_eq!(forced.header("x-cache"), "MISS");
    // max-age=0: any answer already has an age above zero, so it is fetched anew.
    let young = with_cache_control("max-age=0").await;
    assert_eq!(young.header("x-cache"), "MISS");
    let any_age = with_cache_control("max-age=3600").await;
    assert_eq!(any_age.header("x-cache"), "HIT");
    assert!(any_age.header("age").parse::<u64>().is_ok());
    assert_eq!(sandbox.calls(Provider::Fssp), 4);
    let long = "x".repeat(5000);
    assert_eq!(proxy.get(url, &[("lastname", long)]).await.status, 414);
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_are_shared_by_replicas_on_one_store() {
    let sandbox = start_sandbox().await;
    let redis = RedisServer::start();
    let extra = format!(
        "{}\n[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = 2.0\n",
        redis_cache(&redis.url())
    );
    let store = proverka_testkit::own_store();
    let (a, b) = (
        InProcess::new(&config_on_store(&sandbox, &store, &extra)),
        InProcess::new(&config_on_store(&sandbox, &store, &extra)),
    );
    let query = |birth: &str| {
        let mut q = fssp_debtor(birth);
        q.push(("token", "crm-client-key".to_owned()));
        q
    };
    // 0.80 spent through replica A …
    assert_eq!(
        a.get("/api/fssp.php", &query("12.01.1981")).await.status,
        200
    );
    // … so replica B refuses a query that could cost 1.40 more (2.20 > 2.00).
    let r = b.get("/api/fssp.php", &query("13.01.1981")).await;
    assert_eq!(r.status, 402);
    assert_eq!(sandbox.calls(Provider::Fssp), 1);
}
