//! The workspace's layout rules, read from the sources: no two modules of a crate import each
//! other, directly or around a circle (the registry issue's rule; `app` ↔ `routes` was one);
//! one layout per adapter (a crate is an adapter when its `src/adapter.rs` implements
//! `Adapter`): the same file holds the same thing in every provider crate, so a reader who
//! knows one knows them all; no module ties itself to another with a glob import.
//!
//! A module here is a top-level module of a crate (`src/app.rs` with `src/app/…`); an edge
//! `a → b` is a mention of `crate::b` anywhere in `a`'s files. What a module takes from its own
//! children or parent (`super::`) stays inside it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    out
}

/// The top-level module a file of `src` belongs to (`None` for the crate root and binaries).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (!matches!(name.as_str(), "lib" | "main" | "bin")).then_some(name)
}

/// The modules each module mentions as `crate::<module>`.
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = module_of(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (i, _) in text.match_indices("crate::") {
            // `proverka_core::` and the like are other crates: only a bare `crate::` counts.
            let before = text[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let to: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if to != from && modules.contains(&to) {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

/// A circle of modules, if the graph has one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_modules_of_a_crate_import_each_other() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let graph = edges(&src);
        if let Some(found) = circle(&graph) {
            panic!(
                "{}: modules import each other: {}",
                src.display(),
                found.join(" → ")
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 9,
        "only {checked} crates found under {}",
        crates.display()
    );
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("app", vec!["routes", "budget"]),
        ("routes", vec!["call"]),
        ("call", vec!["app"]),
        ("budget", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        circle(&graph).unwrap(),
        ["app", "routes", "call", "app"].map(str::to_owned)
    );
    let mut acyclic = graph;
    acyclic.get_mut("call").unwrap().clear();
    assert_eq!(circle(&acyclic), None);
}

/// Every source, build and configuration file of the workspace (not `target/`), relative to
/// the workspace root.
fn workspace_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            workspace_files(root, &path, out);
        } else {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

/// Whether `text` names `word` (any case) as a word of its own (`proverka_fns`, `Fns::`,
/// `"fns"` count; `defns` does not).
fn names(text: &str, word: &str) -> bool {
    let lower = text.to_lowercase();
    lower.match_indices(word).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

/// The registry's promise, held for the fifth provider (`fns`, the tax service's free check):
/// a provider is its own crate (its simulator included), one `Provider` variant, its registry
/// entry (the `proverka` crate: the line, the feature, the free-source pairing), and docs, the
/// example configuration and tests. No other code names it: not the proxy, the sandbox, the
/// cache, the command line or another adapter.
#[test]
fn the_fifth_provider_is_named_only_where_a_provider_is_added() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap();
    let mut files = Vec::new();
    workspace_files(&root, &root, &mut files);
    let allowed = |path: &Path| {
        let p = path.to_string_lossy();
        p.starts_with("crates/proverka-fns/")
            || p == "crates/proverka-core/src/provider.rs"
            || p.starts_with("crates/proverka/")
            || matches!(
                p.as_ref(),
                "Cargo.toml" | "Cargo.lock" | "proverka.example.toml"
            )
            || p.ends_with(".md")
            || p.starts_with("docs/")
            || p.contains("/fixtures/")
            || p.starts_with("tests/")
            || p.contains("/tests/")
            // The Python client's generated code, from docs/openapi.json (as the docs are).
            || matches!(
                p.as_ref(),
                "clients/python/src/proverka_client/models.py"
                    | "clients/python/src/proverka_client/operations.py"
            )
            // The release artifacts' as-installed test asks each provider's route, as tests do.
            || p == "scripts/test-artifacts.sh"
    };
    let mut read = 0;
    let named: Vec<String> = files
        .iter()
        .filter(|f| !allowed(f))
        .filter_map(|f| {
            let text = std::fs::read_to_string(root.join(f)).ok()?;
            read += 1;
            names(&text, "fns").then(|| f.display().to_string())
        })
        .collect();
    assert!(
        read > 100,
        "only {read} files read under {}",
        root.display()
    );
    assert!(
        named.is_empty(),
        "the fifth provider is named outside its crate, the enum and the registry: {named:?}"
    );
}

#[test]
fn a_name_is_found_as_a_word_only() {
    assert!(names("use proverka_fns::FnsQuery;", "fns"));
    assert!(names("Provider::Fns =>", "fns"));
    assert!(names("pace:fns", "fns"));
    assert!(!names("defns and fnsx", "fns"));
}

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
    ("impl Simulator for", "sandbox.rs"),
    ("pub(crate) fn checks()", "checks.rs"),
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
    "checks.rs",
    "sandbox.rs",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
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

/// The codes of a `code_table!` block, as written in its rows: each row's first literal (a
/// number, or a text in quotes); a row naming its code by a constant has none.
fn table_codes(error_rs: &str) -> Vec<String> {
    let Some(start) = error_rs.find("code_table! {") else {
        return Vec::new();
    };
    let block = &error_rs[start..];
    let block = &block[..block.find("\n}\n").unwrap_or(block.len())];
    block
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('('))
        .filter_map(|row| {
            let row = row.trim_start_matches('(');
            let row = row.strip_prefix("Documented::row(").unwrap_or(row);
            if let Some(text) = row.strip_prefix('"') {
                return text.find('"').map(|end| format!("\"{}\"", &text[..end]));
            }
            let number: String = row.chars().take_while(char::is_ascii_digit).collect();
            (!number.is_empty()).then_some(number)
        })
        .collect()
}

/// The lines of `text` that state something: its code, and the doc comments of its error
/// enums' variants (`pub enum … { … }`); other comments are left out.
fn written_code(text: &str) -> String {
    let mut out = String::new();
    let mut in_enum = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("pub enum ") {
            in_enum = true;
        } else if line == "}" {
            in_enum = false;
        }
        if in_enum || !trimmed.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// An error code is written once: in its row of the crate's code table. The variant's doc
/// comment and message show it from there, so a code the page changes is changed in one place.
#[test]
fn every_error_code_is_written_once() {
    let mut checked = 0;
    for krate in adapter_crates() {
        let path = krate.join("src/error.rs");
        let text = std::fs::read_to_string(&path).unwrap();
        // What the unit tests spell out is not the crate's source of the code; a comment
        // may cite a code as an example, except on the error's own variants.
        let whole = &text[..text.find("#[cfg(test)]").unwrap_or(text.len())];
        let source = written_code(whole);
        let source = source.as_str();
        let codes = table_codes(source);
        for code in &codes {
            checked += 1;
            // 107 stands in two rows of FSSP's table (two meanings): twice, then.
            let rows = codes.iter().filter(|c| *c == code).count();
            let bare = code.trim_matches('"');
            let written = if code.starts_with('"') {
                source.matches(bare).count()
            } else {
                // A number counts where it stands alone (40301, not 403011 or 0.40301).
                source
                    .match_indices(bare)
                    .filter(|(i, _)| {
                        let before = source[..*i].chars().next_back();
                        let after = source[i + bare.len()..].chars().next();
                        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
                            && !after.is_some_and(|c| c.is_ascii_digit())
                    })
                    .count()
            };
            assert_eq!(
                written,
                rows,
                "{}: code {code} is written {written} times",
                path.display()
            );
        }
    }
    assert!(
        checked >= 40,
        "only {checked} codes found in the adapters' tables"
    );
}

#[test]
fn a_code_written_twice_is_found() {
    let text = "/// 40301 — bad key\nproverka_core::code_table! {\n    const C: CodeTable<E, i64> = [\n        (40301, E::BadKey),\n        (\"x.y\", E::Other),\n    ];\n}\n";
    assert_eq!(table_codes(text), ["40301", "\"x.y\""]);
}
