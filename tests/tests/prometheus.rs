//! The metrics as Prometheus reads them: the exposition passes `promtool check metrics`
//! after every kind of event (hits, misses, provider errors, unreadable answers, budget
//! refusals, a client name that needs escaping, Redis), label sets stay bounded, and the
//! shipped alerting rules pass `promtool check rules` and their own `promtool test rules`.
//! `promtool` is Debian's `prometheus` package (scripts/ensure-deps.sh installs it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proverka_core::Provider;
use proverka_proxy::{Config, Proxy};
use proverka_sandbox::Fault;
use proverka_testkit::redis::RedisServer;
use proverka_tests::{config_for, fssp_debtor, http, redis_cache, start_proxy, start_sandbox};

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/ensure-deps.sh installs it)");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/prometheus")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exposition_passes_promtool_after_every_kind_of_event() {
    let sandbox = start_sandbox().await;
    let redis = RedisServer::start();
    let clients = "[[clients]]\nname = 'crm \"main\" \\\\ desk'\nkey = \"crm-client-key\"\n\
                   [[clients]]\nname = \"poor\"\nkey = \"poor-client-key\"\ndaily_budget_rub = 1.0\n\
                   [[operators]]\nname = \"ops\"\nkey = \"ops-operator-key\"\n";
    let proxy = start_proxy(&config_for(
        &sandbox,
        &format!("{}{clients}", redis_cache(&redis.url())),
    ))
    .await;
    let c = http();
    let fssp = format!("{}/api/fssp.php", proxy.url);
    let npd = format!("{}/parser/nalog_npd_api/", proxy.url);
    let ask = |url: &str, query: Vec<(&'static str, String)>, key: &'static str| {
        c.get(url)
            .query(&query)
            .header("X-Proverka-Key", key)
            .send()
    };
    // A miss, a hit, a provider error, an unreadable answer, a budget refusal.
    ask(&fssp, fssp_debtor("01.02.1981"), "crm-client-key")
        .await
        .unwrap();
    ask(&fssp, fssp_debtor("01.02.1981"), "crm-client-key")
        .await
        .unwrap();
    sandbox.inject(
        Provider::Fssp,
        Fault::ProviderError { code: "404".into() },
        Some(3),
    );
    ask(&fssp, fssp_debtor("02.02.1981"), "crm-client-key")
        .await
        .unwrap();
    sandbox.inject(Provider::Fssp, Fault::Html, Some(1));
    ask(&fssp, fssp_debtor("03.02.1981"), "crm-client-key")
        .await
        .unwrap();
    let refused = ask(
        &npd,
        vec![("inn", proverka_npd::sandbox::PAYER.to_owned())],
        "poor-client-key",
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 402);
    let scrape = |accept: Option<&'static str>| {
        let mut r = c
            .get(format!("{}/metrics", proxy.url))
            .header("X-Proverka-Key", "ops-operator-key");
        if let Some(a) = accept {
            r = r.header("Accept", a);
        }
        r.send()
    };
    let classic = scrape(None).await.unwrap();
    assert!(
        classic.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    let text = classic.text().await.unwrap();
    let (ok, said) = promtool(&["check", "metrics"], Some(&text));
    assert!(ok && said.trim().is_empty(), "promtool: {said}\n{text}");
    for expected in [
        "# TYPE proverka_requests_total counter",
        "proverka_request_duration_seconds_bucket{",
        "proverka_provider_call_duration_seconds_bucket{le=\"0.05\",provider=\"fssp\",outcome=\"answer\"}",
        "outcome=\"provider_error\"",
        "outcome=\"unreadable\"",
        "proverka_provider_errors_total{provider=\"fssp\",code=\"unreadable\"} 1",
        "proverka_build_info{version=\"",
        "proverka_spent_rubles_total{provider=\"fssp\"}",
        "proverka_redis_up 1",
        "proverka_budget_refusals_total{client=\"poor\"} 1",
    ] {
        assert!(text.contains(expected), "{expected} not in\n{text}");
    }
    // Prometheus asks for OpenMetrics and gets it (`# EOF` last, units declared).
    let open = scrape(Some(
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    ))
    .await
    .unwrap();
    assert!(
        open.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let open = open.text().await.unwrap();
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        open.contains("# UNIT proverka_spent_rubles rubles"),
        "{open}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_name_that_needs_escaping_is_escaped() {
    let sandbox = start_sandbox().await;
    let toml = format!(
        "{}\n[[clients]]\nname = 'crm \"main\" \\ desk'\nkey = \"crm-client-key\"\ndaily_budget_rub = 1.0\n[[operators]]\nname = \"ops\"\nkey = \"ops-operator-key\"\n",
        config_for(&sandbox, "")
    );
    let proxy = Proxy::new(Config::from_toml(&toml, &[]).unwrap()).unwrap();
    let request = http::Request::get(format!(
        "/parser/nalog_npd_api/?inn={}",
        proverka_npd::sandbox::PAYER
    ))
    .header("X-Proverka-Key", "crm-client-key")
    .body(Default::default())
    .unwrap();
    assert_eq!(proxy.handle(request).await.status(), 402);
    let metrics = proxy
        .handle(
            http::Request::get("/metrics")
                .header("X-Proverka-Key", "ops-operator-key")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    let text = String::from_utf8(metrics.body().to_vec()).unwrap();
    assert!(
        text.contains(r#"proverka_budget_refusals_total{client="crm \"main\" \\ desk"} 1"#),
        "{text}"
    );
    let (ok, said) = promtool(&["check", "metrics"], Some(&text));
    assert!(ok && said.trim().is_empty(), "promtool: {said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_error_codes_cannot_grow_the_label_set_without_bound() {
    let sandbox = start_sandbox().await;
    let proxy = Proxy::new(
        Config::from_toml(&config_for(&sandbox, "[retry]\nmax_attempts = 1\n"), &[]).unwrap(),
    )
    .unwrap();
    // Forty distinct codes the provider invents, each on its own query.
    for i in 0..40u32 {
        sandbox.inject(
            Provider::Npd,
            Fault::ProviderError {
                code: format!("4{i:04}"),
            },
            Some(1),
        );
        let inn = proverka_testkit::individual_inn(7_701_000_000 + u64::from(i));
        let request = http::Request::get(format!("/parser/nalog_npd_api/?inn={inn}"))
            .body(Default::default())
            .unwrap();
        proxy.handle(request).await;
    }
    let metrics = proxy
        .handle(
            http::Request::get("/metrics")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    let text = String::from_utf8(metrics.body().to_vec()).unwrap();
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("proverka_provider_errors_total{provider=\"npd\""))
        .collect();
    assert_eq!(
        series.len(),
        proverka_proxy::MAX_CODES_PER_PROVIDER + 1,
        "{series:#?}"
    );
    assert!(
        text.contains("proverka_provider_errors_total{provider=\"npd\",code=\"other\"} 8"),
        "{text}"
    );
}

#[test]
fn the_alerting_rules_pass_promtool_and_their_tests() {
    let rules = docs().join("alerts.yml");
    let (ok, said) = promtool(&["check", "rules", rules.to_str().unwrap()], None);
    assert!(ok, "{said}");
    let tests = docs().join("alerts.test.yml");
    let (ok, said) = promtool(&["test", "rules", tests.to_str().unwrap()], None);
    assert!(ok, "{said}");
}
