//! The sandbox is built from the registry: no file of its source names a provider, by name or
//! by path, so a new provider's simulator (in its own crate) never needs a sandbox edit.

use std::path::Path;

use proverka_core::RoutePath;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap().to_lowercase(),
            ));
        }
    }
}

#[test]
fn no_sandbox_source_file_names_a_provider() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() >= 3, "the sandbox's sources were not found");
    let adapters = proverka::adapters();
    assert!(!adapters.is_empty());
    for adapter in adapters {
        let name = adapter.provider().as_str();
        let mut needles = vec![name.to_owned()];
        let accounts = adapter.account_routes().into_iter().map(|a| a.path);
        let paths = adapter
            .upstream_paths()
            .into_iter()
            .map(|(RoutePath::Exact(p) | RoutePath::Prefix(p))| p)
            .chain(accounts);
        for p in paths {
            // `/api/` alone is too short to be telling; longer paths are a provider's own.
            if p.trim_matches('/').len() > 3 {
                needles.push(p.trim_end_matches('/').to_lowercase());
            }
        }
        for (file, text) in &files {
            for needle in &needles {
                assert!(
                    !text.contains(needle.as_str()),
                    "{file} names provider {name} ({needle:?}): it must come from the registry"
                );
            }
        }
    }
}

#[test]
fn every_provider_of_the_registry_is_simulated() {
    for adapter in proverka::adapters() {
        let simulator = adapter.simulator();
        assert!(
            simulator
                .as_ref()
                .is_some_and(|s| s.provider() == adapter.provider()),
            "{} has no simulator of its own",
            adapter.provider()
        );
    }
}
