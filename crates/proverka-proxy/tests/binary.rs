//! The `proverka-proxy` binary itself: sandbox mode end to end, SIGTERM, refusing an open
//! listener without client keys.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{LOG_FILTER, binary, drain, exits_successfully, listening, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_mode_serves_hits_and_stops_on_sigterm() {
    let store = proverka_testkit::own_store_path();
    let mut command = binary();
    command
        .env("PROVERKA_STORE_PATH", &store)
        .args(["--sandbox", "--listen", "127.0.0.1:0"]);
    let (child, base) = start(command).await;
    let client = reqwest::Client::new();
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
    exits_successfully(child, Duration::from_secs(20)).await;
    // The store is one whole file as the process leaves (SQLite's write-ahead log folded in:
    // gone, or empty when the process outran SQLite's last close): that file alone, copied
    // elsewhere, holds the ledger of the call just paid.
    let mut log = store.clone().into_os_string();
    log.push("-wal");
    let log = std::fs::metadata(&log).map_or(0, |m| m.len());
    assert_eq!(log, 0, "the write-ahead log still holds data");
    let alone = proverka_testkit::own_store_path();
    std::fs::copy(&store, &alone).unwrap();
    let copy = proverka_store::SqlStore::open(alone.to_str().unwrap()).unwrap();
    let day = |offset: i64| {
        let now = std::time::SystemTime::now();
        let at = if offset < 0 {
            now - Duration::from_secs(86_400)
        } else {
            now + Duration::from_secs(86_400)
        };
        proverka_core::Date::moscow_date_at(at)
    };
    let spend = proverka_store::Store::spend(
        &copy,
        &proverka_store::SpendQuery {
            from: day(-1),
            to: day(1),
            tenant: None,
        },
    )
    .await
    .unwrap();
    let calls: Vec<(String, i64)> = spend
        .iter()
        .map(|r| (r.provider.clone(), r.calls))
        .collect();
    assert_eq!(calls, [("fssp".to_owned(), 1)], "{spend:?}");
    // It left the store before closing it: no process of it is still registered as alive.
    let alive = proverka_store::Store::instances(&copy).await.unwrap();
    assert!(alive.is_empty(), "still registered: {alive:?}");
}

#[test]
fn an_open_listener_without_client_keys_refuses_to_start() {
    let out = binary().args(["--listen", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without [[clients]]"));
}

/// SIGTERM under load: every worker stops accepting at once, the requests in progress are
/// answered, and the paid calls in flight finish and are stored in Redis before the exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_paid_answer() {
    use proverka_core::Provider;
    let sandbox = proverka_sandbox::Sandbox::builder()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    sandbox.inject(
        Provider::Fssp,
        proverka_sandbox::Fault::latency(Duration::from_millis(1500)),
        None,
    );
    let redis = proverka_testkit::redis::RedisServer::start();
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let mut command = binary();
    command
        .env("PROVERKA_LISTEN", "127.0.0.1:0")
        .env("PROVERKA_SHUTDOWN_GRACE_SECS", "30")
        .env("PROVERKA_CACHE_REDIS_URL", redis.url())
        .env("PROVERKA_CACHE_ENCRYPTION_KEY", key)
        .env("PROVERKA_PROVIDERS_FSSP_BASE_URL", sandbox.url())
        .env(
            "PROVERKA_PROVIDERS_FSSP_TOKEN",
            proverka_fssp::sandbox::TOKEN,
        )
        .env("PROVERKA_PROVIDERS_FSSP_MAX_CONCURRENCY", "32");
    let (child, base) = start(command).await;
    let query = |i: usize| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("type", "physical")
            .append_pair("lastname", "Иванов")
            .append_pair("firstname", "Иван")
            .append_pair("birthdate", &format!("{:02}.01.1970", i + 1))
            .append_pair("region", "77")
            .finish()
    };
    let requests: Vec<_> = (0..18)
        .map(|i| {
            let url = format!("{base}/api/fssp.php");
            tokio::spawn(async move {
                // One client each: separate connections, spread over the worker threads.
                let r = reqwest::Client::new()
                    .get(format!("{url}?{}", query(i)))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    // Every call in flight at the provider, then SIGTERM.
    // (The sandbox is in this process: woken by its counter, no sleep, no polling.)
    tokio::time::timeout(
        Duration::from_secs(60),
        sandbox.wait_until(|s| s.calls(Provider::Fssp) >= 18),
    )
    .await
    .expect("calls did not start");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for r in requests {
        let (status, body) = r.await.unwrap();
        assert_eq!(status, 200, "a request in progress was answered");
        assert!(body.contains("records"), "{body}");
    }
    exits_successfully(child, Duration::from_secs(40)).await;
    // Every paid answer is in Redis: a new proxy serves all 18 as hits.
    let toml = format!(
        "{}listen = \"127.0.0.1:0\"\n[cache]\nredis_url = \"{}\"\nencryption_key = \"{key}\"\n[providers.fssp]\nbase_url = \"{}\"\ntoken = \"{}\"\n",
        proverka_testkit::own_store(),
        redis.url(),
        sandbox.url(),
        proverka_fssp::sandbox::TOKEN
    );
    let proxy =
        proverka_proxy::Proxy::new(proverka_proxy::Config::from_toml(&toml, &[]).unwrap()).unwrap();
    for i in 0..18 {
        let request = http::Request::get(format!("/api/fssp.php?{}", query(i)))
            .body(bytes_body())
            .unwrap();
        let r = proxy.handle(request).await;
        assert_eq!(
            r.headers()["x-cache"],
            "HIT",
            "answer {i} was stored before the exit"
        );
    }
    assert_eq!(sandbox.billed(Provider::Fssp), 18);
}

fn bytes_body() -> hyper::body::Bytes {
    hyper::body::Bytes::new()
}

/// At the open-files limit `accept` fails at once, again and again: the loop must back off
/// (5 ms doubling to 1 s), not spin on both cores, and serve again once files free up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_failures_back_off_instead_of_spinning() {
    let mut command = Command::new("sh");
    command
        .args([
            "-c",
            &format!(
                "ulimit -n 64 && exec {} --sandbox --listen 127.0.0.1:0",
                env!("CARGO_BIN_EXE_proverka-proxy")
            ),
        ])
        .env_clear()
        .env("RUST_LOG", LOG_FILTER)
        .env("PROVERKA_STORE_PATH", proverka_testkit::own_store_path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let (base, log) = listening(&mut child).await;
    // The log is read to its end (a closed pipe would make the proxy's writes fail).
    let mut log = drain(log);
    let addr = base.trim_start_matches("http://").to_owned();
    // More connections than file descriptors left: accept starts failing (EMFILE).
    let mut held = Vec::new();
    for _ in 0..80 {
        if let Ok(s) = tokio::net::TcpStream::connect(&addr).await {
            held.push(s);
        }
    }
    // Wait (on the log, not the clock) until the backoff has grown to 320 ms: a loop that
    // retried at once would log thousands of failures before, or none at all.
    let counting = async {
        let mut failures = 0;
        while let Some(line) = log.recv().await {
            if line.contains("accept failed") {
                failures += 1;
                if line.contains("backoff_ms=320") {
                    return Some(failures);
                }
            }
        }
        None
    };
    let failures = tokio::time::timeout(Duration::from_secs(30), counting)
        .await
        .expect("the backoff never reached 320 ms")
        .expect("the proxy's log ended");
    // One accept loop per worker thread (one per core), each with its own backoff: 5, 10, …,
    // 320 ms is seven failures each.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    assert!(
        failures <= 8 * workers,
        "{failures} accept failures before a 320 ms backoff"
    );
    // Files free again: served again. The request waits in the listen queue (a failed
    // `accept` leaves it there) until a backoff ends and a descriptor is free.
    drop(held);
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        reqwest::get(format!("{base}/healthz")),
    )
    .await
    .expect("not served again once files were free")
    .unwrap();
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

/// A log collector that goes away (stderr closed) does not take the proxy down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_does_not_stop_the_proxy() {
    let mut child = binary()
        .env("RUST_LOG", "info")
        .args(["--sandbox", "--listen", "127.0.0.1:0"])
        .spawn()
        .unwrap();
    let (base, log) = listening(&mut child).await;
    drop(log); // every log line from now on fails to write
    for _ in 0..5 {
        let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(child.try_wait().unwrap().is_none(), "the proxy exited");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn check_config_says_what_it_would_do_and_exits() {
    let dir = std::env::temp_dir().join(format!("proverka-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "listen = \"127.0.0.1:0\"\n[providers.npd]\nkey = \"npd-secret-key\"\nsource = \"free-then-paid\"\n",
    )
    .unwrap();
    let out = binary()
        .stdout(Stdio::piped())
        .args(["--check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("configuration OK"), "{text}");
    assert!(
        text.contains("call npd at https://service.api-assist.com/ with the configured credential"),
        "{text}"
    );
    assert!(text.contains("free source fns"), "{text}");
    assert!(
        !text.contains("npd-secret-key"),
        "a secret was printed: {text}"
    );
    // Bad: an open listener without client keys, an unknown provider, a bad value.
    for (name, toml, says) in [
        (
            "open.toml",
            "listen = \"0.0.0.0:8080\"\n",
            "without [[clients]]",
        ),
        ("unknown.toml", "[providers.nosuch]\n", "[providers.nosuch]"),
        (
            "source.toml",
            "[providers.court]\nsource = \"free\"\n",
            "providers.court.source",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, toml).unwrap();
        let out = binary()
            .stdout(Stdio::piped())
            .args(["--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_line_refuses_what_it_cannot_use() {
    // A flag without its value is an error, not a silent default.
    let out = binary()
        .stdout(Stdio::piped())
        .arg("--config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
    let out = binary()
        .stdout(Stdio::piped())
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = binary()
        .stdout(Stdio::piped())
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    // The version and the commit it was built from.
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("proverka-proxy {} ({commit})", env!("CARGO_PKG_VERSION"))
    );
}

/// Waits for a log line containing `text` (an event in the log, not a poll).
async fn logged(lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>, text: &str) -> String {
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.recv().await {
            if line.contains(text) {
                return line;
            }
        }
        panic!("the log ended before {text:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("{text:?} was never logged"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_clients_and_keeps_the_cache() {
    let dir = std::env::temp_dir().join(format!("proverka-sighup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.toml");
    let clients = "[[clients]]\nname = \"crm\"\nkey = \"crm-client-key\"\n";
    std::fs::write(&path, format!("listen = \"127.0.0.1:0\"\n{clients}")).unwrap();
    let mut command = binary();
    command.args(["--sandbox", "--config"]).arg(&path);
    let mut child = command.spawn().unwrap();
    let (base, log) = listening(&mut child).await;
    let mut log = drain(log);
    let client = reqwest::Client::new();
    let ask = |key: &'static str| {
        client
            .get(format!(
                "{base}/parser/nalog_npd_api/?inn={}",
                proverka_npd::sandbox::PAYER
            ))
            .header("X-Proverka-Key", key)
            .send()
    };
    let first = ask("crm-client-key").await.unwrap();
    assert_eq!(first.headers()["x-cache"], "MISS");
    assert_eq!(ask("hr-client-key").await.unwrap().status(), 401);

    // A new client, and a new listen address (which needs a restart).
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:1\"\n{clients}[[clients]]\nname = \"hr\"\nkey = \"hr-client-key\"\n"
        ),
    )
    .unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let reloaded = logged(&mut log, "configuration reloaded").await;
    assert!(reloaded.contains("clients"), "{reloaded}");
    let restart = logged(&mut log, "a restart is needed").await;
    assert!(restart.contains("listen"), "{restart}");

    // The new client is in, and the answer paid before the reload is still a hit.
    let second = ask("hr-client-key").await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["x-cache"], "HIT");

    // A broken file changes nothing.
    std::fs::write(&path, "listen = [broken\n").unwrap();
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    logged(&mut log, "reload refused").await;
    assert_eq!(ask("hr-client-key").await.unwrap().status(), 200);

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    exits_successfully(child, Duration::from_secs(30)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--check-config` names a secret file others can read (and starts anyway: containers mount
/// secrets readable), never its content.
#[test]
fn check_config_warns_of_a_secret_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(format!("proverka-check-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("npd-key");
    std::fs::write(&secret, "npd-secret-value\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = binary()
        .env("PROVERKA_PROVIDERS_NPD_KEY_FILE", &secret)
        .arg("--check-config")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: PROVERKA_PROVIDERS_NPD_KEY_FILE")
            && err.contains(&secret.display().to_string())
            && err.contains("mode 644"),
        "{err}"
    );
    assert!(!err.contains("npd-secret-value"));
}
