//! The sandbox is built from the registry: no file of its source names a provider, by name or
//! by path, so a new provider's simulator (in its own crate) never needs a sandbox edit.

use std::path::Path;

#[test]
fn no_sandbox_source_file_names_a_provider() {
    proverka_testkit::neutral::assert_no_source_names_a_provider(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        3,
        &proverka::adapters(),
    );
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
