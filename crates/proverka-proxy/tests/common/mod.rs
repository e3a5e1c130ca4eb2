//! Helpers of the tests that run the `proverka-proxy` binary: start it, wait on its log, stop it.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

/// The proxy's log after its "listening" line.
pub(crate) type Log = std::io::Lines<BufReader<ChildStderr>>;

/// Reads the child's log until its "listening" line (an event, not a poll: the socket is
/// bound and queues connections from then on) and returns the base URL it names with the
/// rest of the log.
pub(crate) async fn listening(child: &mut Child) -> (String, Log) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let reading = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        for line in lines.by_ref() {
            let line = line.ok()?;
            if line.contains("proverka-proxy listening") {
                let addr = line.split("addr=").nth(1)?.split_whitespace().next()?;
                return Some((format!("http://{addr}"), lines));
            }
        }
        None
    });
    tokio::time::timeout(Duration::from_secs(60), reading)
        .await
        .expect("the proxy never logged that it listens")
        .unwrap()
        .expect("the proxy's log ended before it listened")
}

/// Reads the rest of the log to its end on a thread of its own (a pipe nobody reads would
/// block the proxy's writes) and hands it over line by line.
pub(crate) fn drain(log: Log) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (line, lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for l in log.map_while(Result::ok) {
            let _ = line.send(l);
        }
    });
    lines
}

/// Starts the proxy and returns it with its base URL once it listens; its log is drained.
pub(crate) async fn start(mut command: Command) -> (Child, String) {
    let mut child = command.spawn().unwrap();
    let (base, log) = listening(&mut child).await;
    drop(drain(log));
    (child, base)
}

/// Waits for the child's exit (blocking `wait` on a blocking thread: no polling) and
/// asserts it was a success.
pub(crate) async fn exits_successfully(mut child: Child, within: Duration) {
    let status = tokio::time::timeout(within, tokio::task::spawn_blocking(move || child.wait()))
        .await
        .expect("no exit after SIGTERM")
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

pub(crate) fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_proverka-proxy"));
    c.env_clear()
        // Warnings, and the "listening" line the tests wait on.
        .env("RUST_LOG", LOG_FILTER)
        .env("PROVERKA_STORE_PATH", proverka_testkit::own_store_path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

pub(crate) const LOG_FILTER: &str = "warn,proverka_proxy=info";
