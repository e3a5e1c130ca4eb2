//! The Python client (`clients/python`, package `proverka-client`) against a proxy in sandbox
//! mode: its pytest suite (typed answers sync and async, errors that carry `billed` and
//! `retryable`, the generated code fresh against `docs/openapi.json`), and the README's
//! Python example as a user would paste it. Run with the Python of `target/python`, where
//! `scripts/ensure-deps.sh` installs what the client needs (a missing one fails, never skips).

use std::process::Command;

use proverka_tests::{config_for, repository, shown, start_proxy, start_sandbox};

fn python() -> Command {
    let python = repository().join("target/python/bin/python");
    assert!(
        python.exists(),
        "{}: run `bash scripts/ensure-deps.sh` (it makes the environment)",
        python.display()
    );
    let mut command = Command::new(python);
    command
        .env("PYTHONPATH", repository().join("clients/python/src"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_own_tests_pass_against_the_sandbox() {
    let sandbox = start_sandbox().await;
    let proxy = start_proxy(&config_for(&sandbox, "")).await;
    let tests = repository().join("clients/python/tests");
    let out = tokio::task::spawn_blocking(move || {
        python()
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(&tests)
            .env("PROVERKA_URL", &proxy.url)
            .env("PROVERKA_SANDBOX_URL", sandbox.url())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "pytest failed:\n{}", shown(&out));
    let text = shown(&out);
    assert!(text.contains(" passed"), "{text}");
}

/// The README's Python example (between `<!-- python-example -->` markers), run as written,
/// with its address pointed at this test's proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_python_example_runs() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let block = readme
        .split("<!-- python-example -->")
        .nth(1)
        .expect("README.md has a <!-- python-example --> block");
    let code: String = block
        .lines()
        .skip_while(|l| !l.starts_with("```python"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        (3..=6).contains(&code.lines().count()),
        "the example is short:\n{code}"
    );
    assert!(code.contains("http://127.0.0.1:8080"), "{code}");
    let sandbox = start_sandbox().await;
    let proxy = start_proxy(&config_for(&sandbox, "")).await;
    let code = code.replace("http://127.0.0.1:8080", &proxy.url);
    let out = tokio::task::spawn_blocking(move || python().arg("-c").arg(&code).output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "the example failed:\n{}", shown(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "True charged MISS",
        "{}",
        shown(&out)
    );
}
