//! The free source's queue forgets callers who hung up (on a real socket): a request whose
//! client disconnected while it waited for its turn gives the turn back at once, nothing is
//! sent for it, and the next live caller waits what it would have without them.

use std::time::Duration;

use proverka_core::Provider;
use proverka_sandbox::Sandbox;
use proverka_tests::{http, metrics_text, start_proxy};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

/// One free call a minute: a turn every 60 s.
const INTERVAL_SECS: f64 = 60.0;

/// Valid 12-digit INNs of individuals, each its own query.
fn inn(i: u64) -> String {
    proverka_testkit::individual_inn(7_702_000_321 + i)
}

/// A request for `inn` on an open connection of its own, left waiting (the caller has not
/// hung up while the stream lives).
async fn waiting_request(base: &str, inn: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /v1/npd?inn={inn}&date=2024-02-01 HTTP/1.1\r\nHost: {addr}\r\nConnection: keep-alive\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// The value of the metric line starting `name` (0 when absent).
fn value(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

const COUNT: &str = "proverka_free_queue_wait_seconds_count{provider=\"fns\"}";
const SUM: &str = "proverka_free_queue_wait_seconds_sum{provider=\"fns\"}";
const GIVEN_BACK: &str = "proverka_free_queue_given_back_total{provider=\"fns\"}";

/// `/metrics` once `metric` has reached `at_least` (the queue's state, not a clock).
async fn metrics_when(base: &str, metric: &str, at_least: f64) -> String {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let text = metrics_text(base).await;
            // Asked again as soon as each answer comes: no sleep.
            if value(&text, metric) >= at_least {
                return text;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{metric} never reached {at_least}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_who_hung_up_do_not_delay_the_next_live_one() {
    let sandbox = Sandbox::builder()
        .simulator(proverka_fns::sandbox::FnsSimulator::new(1000))
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let url = sandbox.url();
    let proxy = start_proxy(&format!(
        "{}listen = \"127.0.0.1:0\"\n\
         [providers.npd]\nbase_url = \"{url}\"\nkey = \"npd-key\"\nprice_rub = 1.5\nsource = \"free\"\n\
         [providers.fns]\nbase_url = \"{url}\"\nper_minute = 1\n",
        proverka_testkit::own_store()
    ))
    .await;
    let base = proxy.url.clone();

    // The first caller takes the turn that starts now, and is answered by the free source.
    let first = http()
        .get(format!("{base}/v1/npd"))
        .query(&[("inn", inn(0)), ("date", "2024-02-01".to_owned())])
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(sandbox.calls(Provider::Fns), 1);

    // Twenty callers queue behind it (turns 1 to 20 minutes away), then hang up.
    let mut left = Vec::new();
    for i in 1..=20 {
        left.push(waiting_request(&base, &inn(i)).await);
    }
    let queued = metrics_when(&base, COUNT, 21.0).await;
    let waited = value(&queued, SUM);
    assert!(
        waited > 20.0 * 19.0 / 2.0 * INTERVAL_SECS,
        "twenty turns queued one after another: {waited} s in all"
    );
    drop(left);
    let given_back = metrics_when(&base, GIVEN_BACK, 20.0).await;
    assert_eq!(value(&given_back, GIVEN_BACK), 20.0);

    // The next live caller waits at most one interval after the first call, as if the twenty
    // had never come (with their turns kept it would wait 21 minutes).
    let live = waiting_request(&base, &inn(21)).await;
    let after = metrics_when(&base, COUNT, 22.0).await;
    let live_wait = value(&after, SUM) - waited;
    assert!(
        (0.0..=INTERVAL_SECS).contains(&live_wait),
        "the live caller's turn is {live_wait} s away"
    );
    // Nothing was sent for the callers who left, and nothing paid.
    drop(live);
    metrics_when(&base, GIVEN_BACK, 21.0).await;
    assert_eq!(sandbox.calls(Provider::Fns), 1);
    assert_eq!(sandbox.calls(Provider::Npd), 0);
    proxy.shutdown().await;
}
