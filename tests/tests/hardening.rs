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
