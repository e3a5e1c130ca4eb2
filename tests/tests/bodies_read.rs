//! How often the proxy reads an answer's body (the registry issue's rule): a drop-in hit
//! reads none, a typed hit reads it once (to render), a miss once to judge and, on the typed
//! route, once more to render. Counted by `proverka_core::bodies_read`, which every adapter's
//! reading goes through; in process through the proxy's service.
//!
//! The only test of its binary: the count is the process's.

use proverka_proxy::{Config, Proxy};
use proverka_tests::{config_for, start_sandbox};

/// Answers `uri` and returns its `X-Cache` status and how many bodies were read meanwhile
/// (the simulator, in this process too, reads none).
async fn ask(proxy: &Proxy, uri: &str) -> (String, u64) {
    let before = proverka_core::bodies_read();
    let response = proxy
        .handle(http::Request::get(uri).body(Default::default()).unwrap())
        .await;
    let read = proverka_core::bodies_read() - before;
    assert!(
        response.status().is_success(),
        "{uri}: {}",
        response.status()
    );
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (cache, read)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_in_hit_reads_no_body_and_a_typed_miss_reads_it_twice() {
    let sandbox = start_sandbox().await;
    let proxy = Proxy::new(Config::from_toml(&config_for(&sandbox, ""), &[]).unwrap()).unwrap();
    let token = proverka_sandbox::FSSP_TOKEN;
    let person = "lastname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2&firstname=%D0%98%D0%B2%D0%B0%D0%BD&region=77";
    let drop_in = |birthdate: &str| {
        format!("/api/fssp.php?type=physical&{person}&birthdate={birthdate}&token={token}")
    };
    let typed = |birthdate: &str| format!("/v1/fssp/physical?{person}&birthdate={birthdate}");

    // Drop-in: the miss judges the answer once; the hit serves the stored bytes unread.
    assert_eq!(
        ask(&proxy, &drop_in("31.03.1980")).await,
        ("MISS".into(), 1)
    );
    assert_eq!(ask(&proxy, &drop_in("31.03.1980")).await, ("HIT".into(), 0));
    // Typed: a hit renders the stored answer (one read); a miss judges and renders (two).
    assert_eq!(ask(&proxy, &typed("31.03.1980")).await, ("HIT".into(), 1));
    assert_eq!(ask(&proxy, &typed("01.01.1990")).await, ("MISS".into(), 2));

    // The same for NPD and the court: one rule for every adapter.
    let npd = format!("inn={}&date=2024-02-01", proverka_sandbox::NPD_PAYER);
    assert_eq!(
        ask(&proxy, &format!("/parser/nalog_npd_api/?{npd}&key=npd-key")).await,
        ("MISS".into(), 1)
    );
    assert_eq!(
        ask(&proxy, &format!("/parser/nalog_npd_api/?{npd}&key=npd-key")).await,
        ("HIT".into(), 0)
    );
    assert_eq!(
        ask(&proxy, &format!("/v1/npd?{npd}")).await,
        ("HIT".into(), 1)
    );
    let court = "address=%D0%9A%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C%2C%20%D0%9C%D0%BE%D1%81%D0%BA%D0%BE%D0%B2%D1%81%D0%BA%D0%B0%D1%8F%201";
    assert_eq!(
        ask(&proxy, &format!("/v1/court?{court}")).await,
        ("MISS".into(), 2)
    );
    assert_eq!(
        ask(&proxy, &format!("/api?{court}&token=court-token")).await,
        ("HIT".into(), 0)
    );
}
