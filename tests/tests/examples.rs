//! The typed API's examples for other habits, run as written against a proxy in sandbox mode:
//! the `curl` + `jq` page (`docs/curl.md`, its output compared with what the page says it
//! prints) and the PHP example (`docs/examples/typed.php`, with Debian's `php-cli`). `curl`,
//! `jq` and `php` are installed by `scripts/ensure-deps.sh`; a missing one fails.

use std::process::{Command, Output};

use proverka_tests::{config_for, repository, shown, start_proxy, start_sandbox};

/// The first fenced block of `fence` (` ```sh `) after `after` in `text`.
fn block<'a>(text: &'a str, after: &str, fence: &str) -> &'a str {
    let rest = &text[text.find(after).unwrap_or_else(|| panic!("no {after:?}"))..];
    let start = rest
        .find(fence)
        .unwrap_or_else(|| panic!("no {fence} after {after:?}"));
    let body = &rest[start + fence.len()..];
    let body = body.strip_prefix('\n').unwrap_or(body);
    &body[..body.find("```").unwrap()]
}

async fn run(command: impl FnOnce() -> Command + Send + 'static) -> Output {
    tokio::task::spawn_blocking(move || {
        command()
            .output()
            .unwrap_or_else(|e| panic!("{e}: run `bash scripts/ensure-deps.sh`"))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_curl_page_prints_what_it_says() {
    let page = std::fs::read_to_string(repository().join("docs/curl.md")).unwrap();
    let script = block(&page, "<!-- tested: curl -->", "```sh").to_owned();
    let printed = block(&page, "What it prints", "```text").to_owned();
    let sandbox = start_sandbox().await;
    let proxy = start_proxy(&config_for(&sandbox, "")).await;
    let dir = std::env::temp_dir().join(format!("proverka-curl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (url, cwd) = (proxy.url.clone(), dir.clone());
    let out = run(move || {
        let mut c = Command::new("bash");
        c.args(["-euo", "pipefail", "-c", &script])
            .env("PROVERKA", url)
            .current_dir(cwd);
        c
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "docs/curl.md failed:\n{}",
        shown(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        printed,
        "docs/curl.md prints something else than it says"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_php_example_prints_what_it_says() {
    let file = repository().join("docs/examples/typed.php");
    let source = std::fs::read_to_string(&file).unwrap();
    let printed: String = source
        .lines()
        .filter_map(|l| l.strip_prefix("// > "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        !printed.is_empty(),
        "typed.php says what it prints in `// > ` lines"
    );
    let sandbox = start_sandbox().await;
    let proxy = start_proxy(&config_for(&sandbox, "")).await;
    let url = proxy.url.clone();
    let out = run(move || {
        let mut c = Command::new("php");
        c.arg(&file).env("PROVERKA_URL", url);
        c
    })
    .await;
    assert!(out.status.success(), "typed.php failed:\n{}", shown(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        printed,
        "{}",
        shown(&out)
    );
}
