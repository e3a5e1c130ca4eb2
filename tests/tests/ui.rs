//! The status page (`/ui`) in a real browser: headless Chromium (Debian package `chromium`,
//! installed by scripts/ensure-deps.sh) renders it, the numbers on the page are checked against
//! `/metrics`, and a screenshot is kept as a test artifact. Its access rules over HTTP.

use std::path::Path;
use std::process::{Command, Output};

use proverka_core::{Date, Money, Provider};
use proverka_sandbox::Fault;
use proverka_store::Store as _;
use proverka_tests::{
    config_for, config_on_store, fssp_debtor, get, http, metrics_text, start_proxy, start_sandbox,
};

/// Headless Chromium with the page's scripts run to rest (virtual time waits for fetches).
fn chromium(args: &[String]) -> Output {
    let profile = tempdir("chromium-profile");
    Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--virtual-time-budget=8000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium (Debian package chromium; scripts/ensure-deps.sh installs it)")
}

/// A fresh folder: one per call, so two Chromiums started at once by two tests of this
/// process (`cargo test` runs them on threads) never share a profile (the second would exit at
/// once, the profile being in use).
fn tempdir(name: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("proverka-ui-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The page at `url` as Chromium renders it once its scripts have run (the DOM as text).
async fn rendered(url: &str) -> String {
    let page = {
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || chromium(&["--dump-dom".to_owned(), url]))
            .await
            .unwrap()
    };
    let dom = String::from_utf8_lossy(&page.stdout).into_owned();
    assert!(
        page.status.success() && dom.contains("id=\"providers\""),
        "chromium: {}\n{dom}",
        String::from_utf8_lossy(&page.stderr)
    );
    dom
}

/// A screenshot of `url` at `size` (`WIDTHxHEIGHT` as `W,H`), kept with the test's artifacts
/// as `name`: a PNG of more than `at_least` bytes.
async fn screenshot(url: String, name: &str, size: &str, at_least: usize) {
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_file(&shot);
    let taken = {
        let (shot, size) = (shot.clone(), size.to_owned());
        tokio::task::spawn_blocking(move || {
            chromium(&[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={size}"),
                url,
            ])
        })
        .await
        .unwrap()
    };
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&taken.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > at_least,
        "{}",
        png.len()
    );
}

/// The text of the element with `id` in the rendered DOM.
fn cell(dom: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} on the page:\n{dom}"));
    let rest = &dom[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end].to_owned()
}

/// The value of one series of `/metrics` (0 when absent).
fn series(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A provider's requests by cache status, over its drop-in and typed routes.
fn requests(metrics: &str, provider: &str, cache: &str) -> f64 {
    [provider.to_owned(), format!("v1.{provider}")]
        .iter()
        .map(|route| {
            series(
                metrics,
                &format!("proverka_requests_total{{route=\"{route}\",cache=\"{cache}\"}}"),
            )
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_what_the_metrics_count() {
    let sandbox = start_sandbox().await;
    let proxy = start_proxy(&config_for(&sandbox, "[retry]\nmax_attempts = 1\n")).await;
    let fssp = format!("{}/api/fssp.php", proxy.url);
    let npd = format!("{}/parser/nalog_npd_api/", proxy.url);
    // FSSP: a miss and a hit (its balance reported), and a provider error.
    get(&fssp, &fssp_debtor("01.02.1981")).await;
    get(&fssp, &fssp_debtor("01.02.1981")).await;
    sandbox.inject(
        Provider::Fssp,
        Fault::ProviderError { code: "503".into() },
        Some(1),
    );
    get(&fssp, &fssp_debtor("02.02.1981")).await;
    // Court: a miss (its quota reported). NPD: a miss and two hits, one on the typed route.
    get(
        &format!("{}/api", proxy.url),
        &[("address", proverka_court::sandbox::ADDRESS_FOUND.to_owned())],
    )
    .await;
    let inn = [("inn", proverka_npd::sandbox::PAYER.to_owned())];
    get(&npd, &inn).await;
    get(&npd, &inn).await;
    get(&format!("{}/v1/npd", proxy.url), &inn).await;

    let url = format!("{}/ui", proxy.url);
    let dom = rendered(&url).await;
    let metrics = metrics_text(&proxy.url).await;

    for provider in ["fssp", "court", "npd"] {
        let by = |cache: &str| requests(&metrics, provider, cache);
        let queries = by("HIT") + by("MISS") + by("COALESCED") + by("STALE") + by("-");
        assert_eq!(
            cell(&dom, &format!("{provider}-requests")),
            queries.to_string()
        );
        let free = by("HIT") + by("COALESCED") + by("STALE");
        let ratio = free / (free + by("MISS"));
        assert_eq!(
            cell(&dom, &format!("{provider}-hit-ratio")),
            format!("{:.1} %", 100.0 * ratio),
            "{provider}"
        );
        let labels = format!("{{provider=\"{provider}\"}}");
        assert_eq!(
            cell(&dom, &format!("{provider}-provider-calls")),
            series(&metrics, &format!("proverka_provider_calls_total{labels}")).to_string()
        );
        assert_eq!(
            cell(&dom, &format!("{provider}-spent")),
            format!(
                "{:.2}",
                series(&metrics, &format!("proverka_spent_rubles_total{labels}"))
            )
        );
        assert_eq!(
            cell(&dom, &format!("{provider}-saved")),
            format!(
                "{:.2}",
                series(&metrics, &format!("proverka_saved_rubles_total{labels}"))
                    + series(
                        &metrics,
                        &format!("proverka_saved_by_free_source_rubles_total{labels}")
                    )
            )
        );
    }
    // The counts themselves, so the comparison above compared something.
    assert_eq!(cell(&dom, "npd-requests"), "3");
    assert_eq!(cell(&dom, "npd-hit-ratio"), "66.7 %");
    assert_eq!(cell(&dom, "fssp-provider-calls"), "2");
    assert_eq!(
        cell(&dom, "fssp-balance"),
        format!(
            "{:.2}",
            series(
                &metrics,
                "proverka_provider_balance_rubles{provider=\"fssp\"}"
            )
        )
    );
    assert_eq!(
        cell(&dom, "court-quota"),
        series(&metrics, "proverka_provider_quota_left{provider=\"court\"}").to_string()
    );
    assert!(cell(&dom, "fssp-errors").contains("503"), "{dom}");
    assert_eq!(cell(&dom, "redis"), "not configured");
    assert_eq!(cell(&dom, "failed"), "");

    // A screenshot, kept with the test's artifacts.
    screenshot(url, "ui-status.png", "1400,600", 10_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_is_self_contained_and_behind_the_operator_keys() {
    let sandbox = start_sandbox().await;
    let proxy = start_proxy(&format!(
        "{}[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n\
         [[operators]]\nname = \"ops\"\nkey = \"ops-client-key\"\n",
        config_for(&sandbox, "")
    ))
    .await;
    let c = reqwest::Client::new();
    let ui = format!("{}/ui", proxy.url);
    let refused = c.get(&ui).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(
        c.get(&ui)
            .basic_auth("anyone", Some("wrong-key"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        c.get(&ui)
            .basic_auth("anyone", Some("crm-client-key"))
            .send()
            .await
            .unwrap()
            .status(),
        403,
        "a client's key is not an operator's"
    );
    let page = c
        .get(&ui)
        .basic_auth("anyone", Some("ops-client-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    // No other site may frame the operator's page (clickjacking): CSP and the older header.
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    // Nothing loaded from elsewhere: no URL, no src, no link.
    for outside in ["http://", "https://", "src=", "<link", "@import"] {
        assert!(!html.contains(outside), "{outside} in the page");
    }
    let status = format!("{}/v1/status", proxy.url);
    assert_eq!(c.get(&status).send().await.unwrap().status(), 401);
    let json: serde_json::Value = c
        .get(&status)
        .header("X-Proverka-Key", "ops-client-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["redis"], "not_configured");
    assert!(json["providers"].as_array().unwrap().len() >= 4, "{json}");
}

/// `/v1/status` as an operator sees it.
async fn status_json(url: &str, key: &str) -> serde_json::Value {
    http()
        .get(format!("{url}/v1/status"))
        .header("X-Proverka-Key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The value of an attribute of the element with `id` in the rendered DOM.
fn attribute(dom: &str, id: &str, name: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page"));
    let tag = &dom[dom[..at].rfind('<').unwrap()..];
    let tag = &tag[..tag.find('>').unwrap()];
    let marker = format!(" {name}=\"");
    let start = tag
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} on #{id}: {tag}"))
        + marker.len();
    tag[start..start + tag[start..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_tells_an_operator_what_to_do_and_what_it_cost() {
    let sandbox = start_sandbox().await;
    let store_path = proverka_testkit::own_store_path();
    // Three days ago another replica answered 4 court queries from the cache (8 RUB saved).
    let three_days_ago = Date::moscow_date_at(
        std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 86_400),
    );
    {
        let store = proverka_store::SqlStore::open(&store_path.display().to_string()).unwrap();
        store
            .add_savings(&[proverka_store::Saving {
                day: three_days_ago,
                provider: "court".into(),
                answers: 4,
                saved: Money::from_kopecks(800),
            }])
            .await
            .unwrap();
    }
    let proxy = start_proxy(&config_on_store(
        &sandbox,
        &format!("store_path = {:?}\n", store_path.display().to_string()),
        "[retry]\nmax_attempts = 1\n\
         [[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\ndaily_budget_rub = 3.0\n\
         [[clients]]\nname = \"hr\"\nkey = \"hr-client-key\"\n\
         [[operators]]\nname = \"ops\"\nkey = \"ops-operator-key\"\n",
    ))
    .await;
    let ask = |path: &str, key: &'static str, query: Vec<(&'static str, String)>| {
        let url = format!("{}{path}", proxy.url);
        async move {
            http()
                .get(url)
                .header("X-Proverka-Key", key)
                .query(&query)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let npd = "/parser/nalog_npd_api/";
    let inn = |n: u64| vec![("inn", proverka_testkit::individual_inn(n))];
    // crm: two paid NPD answers (3.00 of its 3.00), one hit, then a third refused by budget.
    assert_eq!(ask(npd, "crm-client-key", inn(1)).await, 200);
    assert_eq!(ask(npd, "crm-client-key", inn(1)).await, 200);
    assert_eq!(ask(npd, "crm-client-key", inn(2)).await, 200);
    assert_eq!(ask(npd, "crm-client-key", inn(3)).await, 402);
    // hr: an FSSP query the page refuses (no lastname), FSSP's "test period over", NPD's
    // success = 0.
    let mut no_lastname = fssp_debtor("01.02.1981");
    no_lastname.retain(|(k, _)| *k != "lastname");
    assert_eq!(
        ask("/api/fssp.php", "hr-client-key", no_lastname).await,
        200
    );
    sandbox.inject(
        Provider::Fssp,
        Fault::ProviderError { code: "5".into() },
        Some(1),
    );
    ask("/api/fssp.php", "hr-client-key", fssp_debtor("03.03.1983")).await;
    sandbox.inject(Provider::Npd, Fault::SuccessZero, Some(1));
    ask(npd, "hr-client-key", inn(4)).await;

    // The hit reaches the store's savings within the engine's next flush (a second): wait
    // for that state, not for a time.
    let today = Date::moscow_date_at(std::time::SystemTime::now()).to_iso();
    let npd_saved = |status: &serde_json::Value| {
        status["history"]["providers"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["provider"] == "npd"))
            .map(|p| p["saved_rub"][29].clone())
    };
    // Asked again as soon as each answer comes (no sleep): the flush is the engine's.
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let status = status_json(&proxy.url, "ops-operator-key").await;
            if npd_saved(&status) == Some("1.50".into()) {
                return status;
            }
        }
    })
    .await
    .expect("the hit's saving reached the store");
    assert_eq!(status["history"]["days"][29], today.as_str(), "{status}");

    let url = proxy
        .url
        .replacen("http://", "http://ops:ops-operator-key@", 1)
        + "/ui";
    let dom = rendered(&url).await;
    assert_eq!(cell(&dom, "failed"), "", "{dom}");

    // Times: Moscow's, 24-hour, from the server.
    let now = cell(&dom, "now-moscow");
    assert!(now.starts_with(&format!("{today} ")), "{now}");
    let clock = &now[11..];
    assert!(
        clock.len() == 8
            && clock
                .split(':')
                .all(|p| p.len() == 2 && p.parse::<u8>().is_ok()),
        "{now}"
    );
    assert!(
        !dom.contains(" AM<") && !dom.contains(" PM<"),
        "a 12-hour clock on the page"
    );

    // Errors with their meaning and what to do (newest first).
    let row_of = |code: &str| {
        (0..20)
            .find(|i| cell(&dom, &format!("error-{i}-code")) == code)
            .unwrap_or_else(|| panic!("no error {code} on the page:\n{dom}"))
    };
    let fssp = row_of("5");
    assert_eq!(cell(&dom, &format!("error-{fssp}-provider")), "fssp");
    assert_eq!(
        cell(&dom, &format!("error-{fssp}-meaning")),
        "Закончился период тестирования"
    );
    assert_eq!(
        cell(&dom, &format!("error-{fssp}-advice")),
        proverka_core::Remedy::TopUp.advice()
    );
    let zero = row_of("success=0");
    assert!(cell(&dom, &format!("error-{zero}-meaning")).contains("success = 0"));
    assert_eq!(
        cell(&dom, &format!("error-{zero}-advice")),
        proverka_core::Remedy::RetryLater.advice()
    );
    let time = cell(&dom, &format!("error-{fssp}-time"));
    assert!(
        time.len() == 8
            && time
                .split(':')
                .all(|p| p.len() == 2 && p.parse::<u8>().is_ok()),
        "{time}"
    );

    // Budgets per client, from the store.
    assert_eq!(cell(&dom, "client-0-name"), "crm");
    assert_eq!(cell(&dom, "client-0-budget"), "3.00");
    assert_eq!(cell(&dom, "client-0-spent"), "3.00");
    assert_eq!(cell(&dom, "client-0-reserved"), "0.00");
    assert_eq!(cell(&dom, "client-0-left"), "0.00");
    assert_eq!(cell(&dom, "client-1-name"), "hr");
    assert_eq!(cell(&dom, "client-1-left"), "unlimited");

    // Refused locally, by reason; latency of the latest calls.
    assert_eq!(cell(&dom, "npd-refused"), "budget 1");
    assert_eq!(cell(&dom, "fssp-refused"), "invalid 1");
    let npd_status = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "npd")
        .unwrap()
        .clone();
    assert_eq!(npd_status["latency"]["calls"], 3, "{npd_status}");
    for q in ["p50", "p99"] {
        let shown = cell(&dom, &format!("npd-{q}"));
        let ms = npd_status["latency"][format!("{q}_ms")].as_f64().unwrap();
        assert_eq!(shown, format!("{ms:.1} ms"));
    }
    assert_eq!(cell(&dom, "alfa-p50"), "—");

    // 30 days of rubles, from the store: today's NPD spend and saving, the court's saving of
    // three days ago written by "another replica", nothing for a provider with no rubles.
    assert_eq!(
        attribute(&dom, &format!("bar-npd-{today}-spent"), "data-rub"),
        "3.00"
    );
    assert_eq!(
        attribute(&dom, &format!("bar-npd-{today}-saved"), "data-rub"),
        "1.50"
    );
    let earlier = three_days_ago.to_iso();
    assert_eq!(
        attribute(&dom, &format!("bar-court-{earlier}-saved"), "data-rub"),
        "8.00"
    );
    // The tallest bar of a chart is its maximum; an empty day has no height.
    let height = |id: &str| attribute(&dom, id, "height").parse::<f64>().unwrap();
    assert!(height(&format!("bar-court-{earlier}-saved")) > 100.0);
    assert_eq!(height(&format!("bar-court-{today}-saved")), 0.0);
    assert!(height(&format!("bar-npd-{today}-spent")) > height(&format!("bar-npd-{today}-saved")));
    assert!(!dom.contains("id=\"chart-alfa\""));
    assert_eq!(dom.matches("id=\"bar-npd-").count(), 60);

    // And as a person sees it: a full-page screenshot of the same state.
    screenshot(url, "ui-operator.png", "1400,1400", 20_000).await;
}
