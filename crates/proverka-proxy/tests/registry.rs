//! The proxy is built from the registry: no file of its source names a provider, by name or
//! by path, so a new provider never needs a proxy edit.

use std::path::Path;

#[test]
fn no_proxy_source_file_names_a_provider() {
    proverka_testkit::neutral::assert_no_source_names_a_provider(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        5,
        &proverka::adapters(),
    );
}
