//! Checks that a front end is built from the registry: none of its sources names a provider,
//! by name or by one of its own paths (the proxy's and the sandbox's `tests/registry.rs`).

use std::path::Path;
use std::sync::Arc;

use proverka_core::{Adapter, RoutePath};

/// Every `.rs` file under `dir`, with its text in lowercase.
fn lowercase_sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            lowercase_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            out.push((path.display().to_string(), text.to_lowercase()));
        }
    }
}

/// What would name `adapter`'s provider in a source: its name, and each of its own paths
/// (routes, upstream paths, account endpoints) longer than `/api/`, which is too short to be
/// telling.
fn needles(adapter: &dyn Adapter) -> Vec<String> {
    let routes = adapter.routes();
    let paths = routes
        .drop_in
        .iter()
        .copied()
        .chain([routes.typed])
        .chain(adapter.upstream_paths())
        .map(|(RoutePath::Exact(p) | RoutePath::Prefix(p))| p)
        .chain(adapter.account_routes().into_iter().map(|a| a.path));
    let mut out = vec![adapter.provider().as_str().to_owned()];
    out.extend(
        paths
            .filter(|p| p.trim_matches('/').len() > 3)
            .map(|p| p.trim_end_matches('/').to_lowercase()),
    );
    out
}

/// Fails naming the first `.rs` file under `dir` that names one of `adapters`' providers.
///
/// # Panics
/// When a source names a provider, or `dir` holds fewer than `at_least` sources (the folder
/// was not found, and the check would pass on nothing).
pub fn assert_no_source_names_a_provider(
    dir: &Path,
    at_least: usize,
    adapters: &[Arc<dyn Adapter>],
) {
    let mut files = Vec::new();
    lowercase_sources(dir, &mut files);
    assert!(
        files.len() >= at_least,
        "only {} sources under {}",
        files.len(),
        dir.display()
    );
    assert!(!adapters.is_empty(), "no provider to look for");
    for adapter in adapters {
        let name = adapter.provider();
        for needle in needles(adapter.as_ref()) {
            for (file, text) in &files {
                assert!(
                    !text.contains(needle.as_str()),
                    "{file} names provider {name} ({needle:?}): it must come from the registry"
                );
            }
        }
    }
}
