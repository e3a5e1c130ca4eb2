//! One layout per adapter: the same file holds the same thing in every provider crate (a crate
//! is an adapter when its `src/adapter.rs` implements `Adapter`), so a reader who knows one knows them all; and
//! no module of the workspace ties itself to another with a glob import.

use std::path::{Path, PathBuf};

/// What stands where in an adapter crate: a line starting with the first, in this file only.
const PLACES: &[(&str, &str)] = &[
    ("pub const SPEC: ProviderSpec", "client.rs"),
    ("proverka_core::client!", "client.rs"),
    ("impl Adapter for", "adapter.rs"),
    ("impl Lookup for", "lookup.rs"),
    ("pub const PATH", "lookup.rs"),
    ("pub const ACCOUNT_PATH", "lookup.rs"),
    ("pub struct ValidationError", "error.rs"),
    ("proverka_core::code_table!", "error.rs"),
    ("pub type Error =", "error.rs"),
    ("pub fn parse(raw: &RawAnswer)", "model.rs"),
];

/// The files every adapter has.
const FILES: &[&str] = &[
    "lib.rs",
    "client.rs",
    "query.rs",
    "lookup.rs",
    "model.rs",
    "error.rs",
    "adapter.rs",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn adapter_crates() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p.join("src/adapter.rs"))
                .is_ok_and(|t| t.contains("impl Adapter for"))
        })
        .collect();
    out.sort();
    out
}

/// Where each of `PLACES` stands in the adapter `src`, wrongly: `(file, what, where it belongs)`.
fn misplaced(src: &Path) -> Vec<(String, &'static str, &'static str)> {
    let mut wrong = Vec::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for (what, home) in PLACES {
            let found = text.lines().any(|l| l.trim_start().starts_with(what));
            if found && rel != *home {
                wrong.push((rel.clone(), *what, *home));
            }
        }
    }
    wrong
}

#[test]
fn every_adapter_keeps_the_same_thing_in_the_same_file() {
    let crates = adapter_crates();
    assert!(crates.len() >= 5, "adapters found: {crates:?}");
    for krate in crates {
        let src = krate.join("src");
        for file in FILES {
            assert!(
                src.join(file).is_file(),
                "{} has no {file}",
                krate.display()
            );
        }
        let wrong = misplaced(&src);
        assert!(wrong.is_empty(), "{}: {wrong:?}", krate.display());
        let spec = std::fs::read_to_string(src.join("client.rs")).unwrap();
        assert!(
            spec.contains("pub const SPEC: ProviderSpec"),
            "{}: no SPEC",
            krate.display()
        );
        // One way to judge an answer: `Lookup::judge`, no function of the crate's own beside it.
        for file in rust_files(&src) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.lines().any(|l| l.starts_with("pub fn judge(")),
                "{}: a public judge function beside Lookup::judge",
                file.display()
            );
        }
    }
}

#[test]
fn a_misplaced_item_is_found() {
    let dir = std::env::temp_dir().join(format!("adapter-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("query.rs"), "pub struct ValidationError {}\n").unwrap();
    std::fs::write(dir.join("lookup.rs"), "pub const PATH: &str = \"/\";\n").unwrap();
    let wrong = misplaced(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        wrong,
        [(
            "query.rs".to_owned(),
            "pub struct ValidationError",
            "error.rs"
        )]
    );
}

#[test]
fn no_module_imports_its_parent_or_child_with_a_glob() {
    // `use super::*;` belongs to `mod tests` only: elsewhere it ties two files both ways.
    let mut globbed = Vec::new();
    for dir in ["crates", "benches/src", "tests/src"] {
        for file in rust_files(&root().join(dir)) {
            let rel = file.strip_prefix(root()).unwrap().display().to_string();
            if rel.contains("/tests/") || rel.contains("/benches/") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
            if before_tests
                .lines()
                .any(|l| l.trim_start().starts_with("use super::*;"))
            {
                globbed.push(rel);
            }
        }
    }
    assert!(globbed.is_empty(), "glob imports of a parent: {globbed:?}");
}
