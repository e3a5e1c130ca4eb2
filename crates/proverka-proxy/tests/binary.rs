//! The `proverka-proxy` binary itself: sandbox mode end to end, SIGTERM, refusing an open
//! listener without client keys.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_proverka-proxy"));
    c.env_clear()
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_mode_serves_hits_and_stops_on_sigterm() {
    let port = proverka_testkit::redis::free_port();
    let mut child = binary()
        .args(["--sandbox", "--listen", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the proxy did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!(
        "{base}/api/fssp.php?type=physical&lastname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2&firstname=%D0%98%D0%B2%D0%B0%D0%BD&birthdate=31.03.1980&region=77"
    );
    let mut seen = Vec::new();
    let mut bodies = Vec::new();
    // Several connections: they land on different worker threads, which share one cache.
    for _ in 0..6 {
        let r = reqwest::Client::new().get(&url).send().await.unwrap();
        seen.push(r.headers()["x-cache"].to_str().unwrap().to_owned());
        bodies.push(r.bytes().await.unwrap());
    }
    assert_eq!(seen[0], "MISS");
    assert!(seen[1..].iter().all(|s| s == "HIT"), "{seen:?}");
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    assert!(
        client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("proverka_provider_calls_total{provider=\"fssp\"} 1")
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn an_open_listener_without_client_keys_refuses_to_start() {
    let out = binary().args(["--listen", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without [[clients]]"));
}
