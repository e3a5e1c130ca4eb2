//! Helpers of the `proverka` binary's end-to-end tests: the sandbox, a folder per test, the
//! binary pointed at the sandbox, batches, tables.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use proverka_core::Provider;
use proverka_sandbox::{Sandbox, SandboxHandle};
use proverka_testkit::individual_inn as inn;

pub const BIN: &str = env!("CARGO_BIN_EXE_proverka");

pub async fn sandbox() -> SandboxHandle {
    Sandbox::builder().start("127.0.0.1:0").await.unwrap()
}

/// A fresh directory for one test's files.
pub fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("proverka-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary, pointed at the sandbox as the providers (direct mode).
pub fn proverka(s: &SandboxHandle) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    let url = s.url();
    for p in ["FSSP", "COURT", "NPD", "FNS"] {
        c.env(format!("PROVERKA_PROVIDERS_{p}_BASE_URL"), &url);
    }
    c.env(
        "PROVERKA_PROVIDERS_FSSP_TOKEN",
        proverka_fssp::sandbox::TOKEN,
    )
    .env("PROVERKA_PROVIDERS_COURT_TOKEN", "court-token")
    .env("PROVERKA_PROVIDERS_NPD_KEY", "npd-key")
    .env("PROVERKA_PROVIDERS_COURT_PRICE_RUB", "2.00")
    .env("PROVERKA_PROVIDERS_NPD_PRICE_RUB", "1.50")
    .env_remove("PROVERKA_PROXY")
    .env_remove("PROVERKA_KEY")
    .env_remove("PROVERKA_NPD_SOURCE")
    .env_remove("PROVERKA_PROVIDERS_FNS_PER_MINUTE")
    .env_remove("PROVERKA_STORE")
    // The tests that read result columns by their English names; tests/lists.rs reads the
    // Russian default.
    .env("PROVERKA_LANG", "en")
    // One-off checks keep their store in this user's state folder: the tests' own.
    .env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join(format!("proverka-cli-state-{}", std::process::id())),
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    c
}

pub async fn run(mut c: tokio::process::Command) -> (i32, String) {
    let out = c.output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn batch(c: &mut tokio::process::Command, input: &Path, check: &str, out: &Path) {
    c.args(["batch", "--yes", "--check", check, "--input"])
        .arg(input)
        .arg("--out")
        .arg(out);
}

pub fn read_csv(path: &Path, delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

pub fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

/// Waits until the sandbox has billed `n` NPD calls (on its counter, not on a clock).
pub async fn billed_npd(s: &SandboxHandle, n: u64) {
    tokio::time::timeout(
        Duration::from_secs(60),
        s.wait_until(|s| s.billed(Provider::Npd) >= n),
    )
    .await
    .unwrap_or_else(|_| panic!("the sandbox never billed {n} NPD calls"));
}

pub fn npd_list(d: &Path, n: u64) -> PathBuf {
    let input = d.join("inns.csv");
    let mut text = "inn,date\n".to_owned();
    for i in 0..n {
        text.push_str(&format!("{},2024-02-01\n", inn(100_000 + i)));
    }
    std::fs::write(&input, text).unwrap();
    input
}

/// A proxy in process on a free loopback port, in front of `s` for NPD (price 1.50) with
/// `store` (a top-level TOML line) and `extra` TOML after the NPD section; its URL.
pub async fn start_proxy(s: &SandboxHandle, store: &str, extra: &str) -> String {
    start_proxy_on(
        s,
        store,
        extra,
        std::sync::Arc::new(proverka_core::SystemClock),
    )
    .await
}

/// [`start_proxy`], its engine reading time from `clock` (the sandbox's, to see its days).
pub async fn start_proxy_on(
    s: &SandboxHandle,
    store: &str,
    extra: &str,
    clock: std::sync::Arc<dyn proverka_core::Clock>,
) -> String {
    let toml = format!(
        "{store}listen = \"127.0.0.1:0\"\n[providers.npd]\nbase_url = \"{}\"\nkey = \"npd-key\"\nprice_rub = 1.5\n{extra}",
        s.url()
    );
    let proxy = proverka_proxy::Proxy::with_clock(
        proverka_proxy::Config::from_toml(&toml, &[]).unwrap(),
        clock,
    )
    .unwrap();
    let (listener, addr) = proxy.bind().await.unwrap();
    tokio::spawn(proxy.serve(listener, std::future::pending()));
    format!("http://{addr}")
}

/// `proverka` as a person runs it: in Russian, the default.
pub fn ru(s: &proverka_sandbox::SandboxHandle) -> tokio::process::Command {
    let mut c = proverka(s);
    c.env_remove("PROVERKA_LANG");
    c
}

/// openpyxl's view of a workbook: per sheet, its name and each cell as `[type, value]`
/// (`n` number, `s` text, `d` date, `f` formula), row by row.
pub fn openpyxl(path: &Path) -> serde_json::Value {
    let script = r#"
import json, sys, datetime, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in book.worksheets:
    rows = []
    for row in ws.iter_rows():
        cells = []
        for c in row:
            v = c.value
            if isinstance(v, datetime.datetime):
                v = v.date().isoformat()
            cells.append([c.data_type, v])
        rows.append(cells)
    widths = {k: d.width for k, d in ws.column_dimensions.items() if d.width}
    out.append({"name": ws.title, "rows": rows, "widths": widths})
print(json.dumps(out, ensure_ascii=False))
"#;
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("Debian's python3 with python3-openpyxl (scripts/ensure-deps.sh installs it)");
    assert!(
        out.status.success(),
        "openpyxl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The sheets' names of an openpyxl workbook, in order.
pub fn sheet_names(book: &serde_json::Value) -> Vec<&str> {
    book.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

/// The cells of a column by its header in an openpyxl sheet.
pub fn sheet_column(sheet: &serde_json::Value, name: &str) -> Vec<serde_json::Value> {
    let rows = sheet["rows"].as_array().unwrap();
    let i = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c[1] == name)
        .unwrap_or_else(|| panic!("no column {name}: {}", rows[0]));
    rows[1..].iter().map(|r| r[i].clone()).collect()
}
