//! The examples of `docs/cli.md`, run as written: every `<!-- example -->` block is run in a
//! copy of `docs/examples` (against the built-in sandbox, in order), and every
//! `<!-- output: FILE -->` block must be what the commands wrote to FILE (less its byte-order
//! mark), line for line. A documented example that no longer holds fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_proverka");

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The fenced block right after each line that starts with `marker`: (the marker line, the
/// block's text).
fn blocks_after(text: &str, marker: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with(marker) {
            continue;
        }
        let fence = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with("```"))
            .map(|p| i + 1 + p)
            .unwrap_or_else(|| panic!("no block after {line}"));
        let end = lines[fence + 1..]
            .iter()
            .position(|l| l.starts_with("```"))
            .map(|p| fence + 1 + p)
            .unwrap_or_else(|| panic!("an open block after {line}"));
        out.push(((*line).to_owned(), lines[fence + 1..end].join("\n")));
    }
    out
}

#[test]
fn the_examples_of_the_manual_do_what_it_says() {
    let manual = std::fs::read_to_string(docs().join("cli.md")).unwrap();
    let work = std::env::temp_dir().join(format!("proverka-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    for entry in std::fs::read_dir(docs().join("examples")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), work.join(entry.file_name())).unwrap();
    }
    let examples = blocks_after(&manual, "<!-- example -->");
    assert!(examples.len() >= 4, "the manual's examples were not found");
    for (_, command) in &examples {
        let words: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(words[0], "proverka", "{command}");
        let out = Command::new(BIN)
            .args(&words[1..])
            .current_dir(&work)
            .env("XDG_STATE_HOME", work.join("state"))
            .env_remove("PROVERKA_LANG")
            .env_remove("PROVERKA_STORE")
            .env_remove("PROVERKA_PROXY")
            .env_remove("PROVERKA_KEY")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let outputs = blocks_after(&manual, "<!-- output: ");
    assert!(outputs.len() >= 4, "the manual's outputs were not found");
    for (marker, expected) in &outputs {
        let file = marker
            .trim_start_matches("<!-- output: ")
            .trim_end_matches(" -->");
        let written =
            std::fs::read_to_string(work.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let written = written.trim_start_matches('\u{feff}').replace("\r\n", "\n");
        assert_eq!(written.trim_end(), expected.trim_end(), "{file}");
    }
    // The dry run left nothing behind: no output, no store beside it.
    assert!(!work.join("check.csv").exists());
    assert!(!work.join("check.csv.proverka.sqlite").exists());
    // A finished run's store is one whole file: SQLite's write-ahead log was folded in as the
    // command left (and is gone, or empty when the process outran SQLite's last close), so
    // copying the output and its store copies every row's state.
    assert!(work.join("npd.csv.proverka.sqlite").exists());
    let log = std::fs::metadata(work.join("npd.csv.proverka.sqlite-wal")).map_or(0, |m| m.len());
    assert_eq!(log, 0, "the write-ahead log still holds data");
    // And each run left the store before closing it: none is still registered as alive, so
    // a run on another host takes the batch over at once, and a call a run left open would
    // have been settled `unknown` by that run, not by the next one.
    let store = work.join("npd.csv.proverka.sqlite");
    let alive = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = proverka_store::SqlStore::open(store.to_str().unwrap()).unwrap();
        proverka_store::Store::instances(&store).await.unwrap()
    });
    assert!(alive.is_empty(), "runs still registered: {alive:?}");
}
