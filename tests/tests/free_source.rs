//! The free NPD source: the tax service's own check asked first (`source = "free-then-paid"`),
//! api-assist when its queue is long or it refuses; both fill one cache entry. In process
//! through the proxy's service; the sandbox stands in for both providers.

use proverka_core::Provider;
use proverka_proxy::{Config, Proxy};
use proverka_sandbox::{Fault, Sandbox, SandboxHandle};
use serde_json::Value;

/// Valid 12-digit INNs of individuals (check digits computed), each its own query.
fn inns(n: usize) -> Vec<String> {
    (0..n as u64)
        .map(|i| proverka_testkit::individual_inn(7_701_000_123 + i))
        .collect()
}

async fn sandbox(fns_per_minute: usize) -> SandboxHandle {
    Sandbox::builder()
        .simulator(proverka_fns::sandbox::FnsSimulator::new(fns_per_minute))
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

/// A proxy in front of `sandbox` with `npd` (the NPD section's extra lines) and `fns` (the
/// free source's).
fn proxy(sandbox: &SandboxHandle, npd: &str, fns: &str) -> Proxy {
    let url = sandbox.url();
    let toml = format!(
        "{}[providers.npd]\nbase_url = \"{url}\"\nkey = \"npd-key\"\nprice_rub = 1.5\n{npd}\n\
         [providers.fns]\nbase_url = \"{url}\"\n{fns}\n",
        proverka_testkit::own_store()
    );
    Proxy::new(Config::from_toml(&toml, &[]).unwrap()).unwrap()
}

struct Reply {
    status: u16,
    source: Option<String>,
    cache: String,
    body: Value,
}

async fn ask(proxy: &Proxy, path: &str, inn: &str) -> Reply {
    let request = http::Request::get(format!("{path}?inn={inn}&date=2024-02-01"))
        .body(Default::default())
        .unwrap();
    let response = proxy.handle(request).await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Reply {
        status: response.status().as_u16(),
        source: header("x-proverka-source"),
        cache: header("x-cache").unwrap_or_default(),
        body: serde_json::from_slice(response.body()).unwrap_or(Value::Null),
    }
}

const NPD: &str = "/parser/nalog_npd_api/";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_limit_every_npd_query_is_answered_free() {
    let sandbox = sandbox(1000).await;
    let proxy = proxy(&sandbox, "source = \"free-then-paid\"", "per_minute = 6000");
    for inn in inns(5) {
        let r = ask(&proxy, NPD, &inn).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.source.as_deref(), Some("fns"));
        // api-assist's shape, whichever source answered.
        assert_eq!(r.body["success"], 1, "{:?}", r.body);
        assert!(r.body["found"] == 0 || r.body["found"] == 1, "{:?}", r.body);
    }
    assert_eq!(sandbox.calls(Provider::Fns), 5);
    assert_eq!(sandbox.calls(Provider::Npd), 0, "nothing was paid");
    assert_eq!(sandbox.billed(Provider::Npd), 0);
    // The sandbox's known payer, answered free, then from the cache with its source.
    let payer = proverka_npd::sandbox::PAYER;
    let first = ask(&proxy, NPD, payer).await;
    assert_eq!(
        (first.body["found"].clone(), first.cache.as_str()),
        (1.into(), "MISS")
    );
    let again = ask(&proxy, NPD, payer).await;
    assert_eq!(again.cache, "HIT");
    assert_eq!(again.source.as_deref(), Some("fns"));
    // The typed route shares the entry and names the source.
    let typed = ask(&proxy, "/v1/npd", payer).await;
    assert_eq!(typed.cache, "HIT");
    assert_eq!(typed.body["source"], "fns");
    assert_eq!(
        typed.body["result"]["self_employed"], true,
        "{:?}",
        typed.body
    );
    assert_eq!(sandbox.calls(Provider::Fns), 6);
    let metrics = proxy_metrics(&proxy).await;
    assert!(
        metrics.contains("proverka_source_answers_total{provider=\"npd\",source=\"fns\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("proverka_saved_by_free_source_rubles_total{provider=\"npd\"} 9.0"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_the_limit_the_overflow_goes_paid_and_each_answer_names_its_source() {
    let sandbox = sandbox(1000).await;
    // Two calls a minute: the second free turn is 30 s away, past the 10 s limit.
    let proxy = proxy(&sandbox, "source = \"free-then-paid\"", "per_minute = 2");
    let mut sources = Vec::new();
    for inn in inns(3) {
        let r = ask(&proxy, NPD, &inn).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        sources.push(r.source.unwrap_or_default());
    }
    assert_eq!(sources, ["fns", "api-assist", "api-assist"]);
    assert_eq!(sandbox.calls(Provider::Fns), 1);
    assert_eq!(sandbox.billed(Provider::Npd), 2);
    // The paid answer fills the same entry: asked again, nobody is called.
    let again = ask(&proxy, NPD, &inns(3)[2]).await;
    assert_eq!(
        (again.cache.as_str(), again.source.as_deref()),
        ("HIT", Some("api-assist"))
    );
    assert_eq!(sandbox.calls(Provider::Npd), 2);
    assert_eq!(proxy.metrics().provider_calls(Provider::Fns), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limited_switches_to_paid_without_an_error_and_rests_the_free_source() {
    // The service answers one call a minute from this address; the proxy would pace faster.
    let sandbox = sandbox(1).await;
    let proxy = proxy(&sandbox, "source = \"free-then-paid\"", "per_minute = 6000");
    let queries = inns(3);
    let first = ask(&proxy, NPD, &queries[0]).await;
    assert_eq!(first.source.as_deref(), Some("fns"));
    // `limited`: no error for the caller, api-assist answers.
    let second = ask(&proxy, NPD, &queries[1]).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.source.as_deref(), Some("api-assist"));
    assert_eq!(second.body["success"], 1);
    assert_eq!(sandbox.calls(Provider::Fns), 2);
    // The refusal rested the free source: the next query goes paid without asking it.
    let third = ask(&proxy, NPD, &queries[2]).await;
    assert_eq!(third.source.as_deref(), Some("api-assist"));
    assert_eq!(sandbox.calls(Provider::Fns), 2);
    assert_eq!(sandbox.billed(Provider::Npd), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_switches_to_paid_without_an_error() {
    let sandbox = sandbox(1000).await;
    sandbox.inject(
        Provider::Fns,
        Fault::ProviderError {
            code: "taxpayer.status.service.unavailable.error".into(),
        },
        None,
    );
    let proxy = proxy(&sandbox, "source = \"free-then-paid\"", "per_minute = 6000");
    let r = ask(&proxy, NPD, &inns(1)[0]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.source.as_deref(), Some("api-assist"));
    assert_eq!(
        (sandbox.calls(Provider::Fns), sandbox.billed(Provider::Npd)),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_paid_never_calls_the_free_service() {
    let sandbox = sandbox(1000).await;
    for npd in ["", "source = \"paid\""] {
        sandbox.reset();
        let proxy = proxy(&sandbox, npd, "per_minute = 6000");
        for inn in inns(3) {
            let r = ask(&proxy, NPD, &inn).await;
            assert_eq!(r.status, 200);
            // Nothing changes unless asked: not even a header.
            assert_eq!(r.source, None);
        }
        assert_eq!(sandbox.calls(Provider::Fns), 0, "{npd:?}");
        assert_eq!(sandbox.billed(Provider::Npd), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_free_only_asks_the_free_service_and_says_when_it_fails() {
    let sandbox = sandbox(1000).await;
    let proxy = proxy(&sandbox, "source = \"free\"", "per_minute = 6000");
    let r = ask(&proxy, NPD, &inns(1)[0]).await;
    assert_eq!(r.source.as_deref(), Some("fns"));
    sandbox.inject(
        Provider::Fns,
        Fault::ProviderError {
            code: "taxpayer.status.service.unavailable.error".into(),
        },
        None,
    );
    let failed = ask(&proxy, NPD, &inns(2)[1]).await;
    assert_eq!(failed.status, 502, "{:?}", failed.body);
    assert_eq!(failed.body["charge"]["kind"], "free", "{:?}", failed.body);
    assert_eq!(sandbox.calls(Provider::Npd), 0, "never the paid provider");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_service_on_its_own_typed_route() {
    let sandbox = sandbox(1000).await;
    let proxy = proxy(&sandbox, "", "per_minute = 6000");
    let r = ask(&proxy, "/v1/fns", proverka_npd::sandbox::NON_PAYER).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["result"]["self_employed"], false, "{:?}", r.body);
    assert_eq!(r.body["charge"]["kind"], "free");
    // Refused before the network with the service's own code: a date before the regime.
    let request = http::Request::get(format!(
        "/v1/fns?inn={}&date={}",
        proverka_npd::sandbox::PAYER,
        proverka_fns::sandbox::TOO_EARLY
    ))
    .body(Default::default())
    .unwrap();
    let refused = proxy.handle(request).await;
    assert_eq!(refused.status(), 400);
    let body: Value = serde_json::from_slice(refused.body()).unwrap();
    assert_eq!(
        body["error"]["provider_body"]["code"], "validation.failed",
        "{body}"
    );
    assert_eq!(sandbox.calls(Provider::Fns), 1);
    assert_eq!(
        proxy.metrics().provider_calls(Provider::Fns),
        1,
        "the refusal cost no call"
    );
}

#[test]
fn source_is_refused_on_a_provider_without_a_free_source() {
    let e = Config::from_toml("[providers.court]\nsource = \"free-then-paid\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("providers.court.source"), "{e}");
    let e = Config::from_toml("[providers.npd]\nsource = \"sometimes\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("source") || e.contains("variant"), "{e}");
    let ok = Config::from_toml(
        "[providers.npd]\nsource = \"free-then-paid\"\nfree_max_wait_secs = 3\n",
        &[(
            "PROVERKA_PROVIDERS_FNS_PER_MINUTE".to_owned(),
            "4".to_owned(),
        )],
    )
    .unwrap();
    assert_eq!(ok.provider(Provider::Fns).per_minute, Some(4));
}

async fn proxy_metrics(proxy: &Proxy) -> String {
    let response = proxy
        .handle(
            http::Request::get("/metrics")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    String::from_utf8_lossy(response.body()).into_owned()
}
