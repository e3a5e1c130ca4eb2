//! The typed API's OpenAPI document: the copy committed in `docs/openapi.json` is what the
//! proxy serves at `/v1/openapi.json` (a stale copy fails here; `PROVERKA_UPDATE_DOCS=1`
//! writes it anew, to review and commit), and an independent validator, PyPI's
//! `openapi-spec-validator` (installed into `target/python` by `scripts/ensure-deps.sh`; a
//! missing one fails, it never skips), accepts it.

use std::path::Path;
use std::process::Command;

use proverka_tests::{InProcess, config_for, start_sandbox};

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_document_is_the_served_one_and_a_validator_accepts_it() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, ""));
    let served = proxy.get("/v1/openapi.json", &[]).await.json();
    let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
    let committed = repository().join("docs/openapi.json");
    if std::env::var_os("PROVERKA_UPDATE_DOCS").is_some() {
        std::fs::write(&committed, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/openapi.json is not what the proxy serves: run PROVERKA_UPDATE_DOCS=1 cargo test -p proverka-tests --test openapi, review, commit"
    );
    let validator = repository().join("target/python/bin/openapi-spec-validator");
    let out = Command::new(&validator)
        .arg(&committed)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `bash scripts/ensure-deps.sh` (it installs the validator)",
                validator.display()
            )
        });
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses docs/openapi.json:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
