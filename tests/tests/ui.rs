//! The status page (`/ui`) in a real browser: headless Chromium (Debian package `chromium`,
//! installed by scripts/ensure-deps.sh) renders it, the numbers on the page are checked against
//! `/metrics`, and a screenshot is kept as a test artifact. Its access rules over HTTP.

use std::path::Path;
use std::process::{Command, Output};

use proverka_core::Provider;
use proverka_sandbox::Fault;
use proverka_tests::{config_for, fssp_debtor, get, metrics_text, start_proxy, start_sandbox};

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

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("proverka-ui-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
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
        &[("address", proverka_sandbox::COURT_ADDRESS_FOUND.to_owned())],
    )
    .await;
    let inn = [("inn", proverka_sandbox::NPD_PAYER.to_owned())];
    get(&npd, &inn).await;
    get(&npd, &inn).await;
    get(&format!("{}/v1/npd", proxy.url), &inn).await;

    let url = format!("{}/ui", proxy.url);
    let page = {
        let url = url.clone();
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
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-status.png");
    let _ = std::fs::remove_file(&shot);
    let taken = {
        let shot = shot.clone();
        tokio::task::spawn_blocking(move || {
            chromium(&[
                format!("--screenshot={}", shot.display()),
                "--window-size=1400,600".to_owned(),
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
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
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
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
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
