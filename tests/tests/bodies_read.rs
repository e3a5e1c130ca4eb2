//! How often the proxy reads an answer's body (the registry issue's rule): a drop-in hit
//! reads none, a typed hit reads it once (to render), a miss once to judge and, on the typed
//! route, once more to render. Counted by `proverka_core::bodies_read`, which every adapter's
//! reading goes through; in process through the proxy's service.
//!
//! The only test of its binary: the count is the process's.

use proverka_tests::{InProcess, config_for, fssp_debtor, start_sandbox};

/// Answers `path?query` and returns its `X-Cache` status and how many bodies were read
/// meanwhile (the simulator, in this process too, reads none).
async fn ask(proxy: &InProcess, path: &str, query: &[(&str, String)]) -> (String, u64) {
    let before = proverka_core::bodies_read();
    let reply = proxy.get(path, query).await;
    let read = proverka_core::bodies_read() - before;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    (reply.header("x-cache"), read)
}

/// `query` with the provider's own credential parameter.
fn with(
    query: &[(&'static str, String)],
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut q = query.to_vec();
    q.push((name, value.to_owned()));
    q
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_in_hit_reads_no_body_and_a_typed_miss_reads_it_twice() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, ""));
    let (fssp, typed_fssp) = ("/api/fssp.php", "/v1/fssp/physical");
    let person = fssp_debtor("31.03.1980");
    let drop_in = with(&person, "token", proverka_fssp::sandbox::TOKEN);
    let miss_hit = |status: &str, reads: u64| (status.to_owned(), reads);

    // Drop-in: the miss judges the answer once; the hit serves the stored bytes unread.
    assert_eq!(ask(&proxy, fssp, &drop_in).await, miss_hit("MISS", 1));
    assert_eq!(ask(&proxy, fssp, &drop_in).await, miss_hit("HIT", 0));
    // Typed: a hit renders the stored answer (one read); a miss judges and renders (two).
    assert_eq!(
        ask(&proxy, typed_fssp, &person[1..]).await,
        miss_hit("HIT", 1)
    );
    let other = fssp_debtor("01.01.1990");
    assert_eq!(
        ask(&proxy, typed_fssp, &other[1..]).await,
        miss_hit("MISS", 2)
    );

    // The same for NPD and the court: one rule for every adapter.
    let npd = vec![
        ("inn", proverka_npd::sandbox::PAYER.to_owned()),
        ("date", "2024-02-01".to_owned()),
    ];
    let npd_drop_in = with(&npd, "key", "npd-key");
    let npd_path = "/parser/nalog_npd_api/";
    assert_eq!(
        ask(&proxy, npd_path, &npd_drop_in).await,
        miss_hit("MISS", 1)
    );
    assert_eq!(
        ask(&proxy, npd_path, &npd_drop_in).await,
        miss_hit("HIT", 0)
    );
    assert_eq!(ask(&proxy, "/v1/npd", &npd).await, miss_hit("HIT", 1));
    let court = vec![("address", proverka_court::sandbox::ADDRESS_FOUND.to_owned())];
    assert_eq!(ask(&proxy, "/v1/court", &court).await, miss_hit("MISS", 2));
    let court_drop_in = with(&court, "token", "court-token");
    assert_eq!(
        ask(&proxy, "/api", &court_drop_in).await,
        miss_hit("HIT", 0)
    );
}
