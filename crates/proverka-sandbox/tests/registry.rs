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

/// What the proxy answers a caller without a credential (the provider's spec) is what the
/// sandbox answers such a call on the provider's own path: the page's reply, written once in
/// the spec, for every provider that takes a credential.
#[tokio::test]
async fn a_call_without_its_credential_is_refused_as_the_spec_says() {
    use proverka_core::{CredentialStyle, PageReply, RoutePath};
    let sandbox = proverka_sandbox::Sandbox::builder()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for adapter in proverka::adapters() {
        let spec = adapter.spec();
        if spec.credential == CredentialStyle::None {
            assert_eq!(spec.missing_credential, None, "{}", spec.provider);
            continue;
        }
        let PageReply { status, body } = spec.missing_credential.unwrap_or_else(|| {
            panic!(
                "{} takes a credential: its reply without one",
                spec.provider
            )
        });
        let path = match adapter.upstream_paths()[0] {
            RoutePath::Exact(path) => path.to_owned(),
            RoutePath::Prefix(prefix) => format!("{prefix}6f0b1c2d-1111-4222-8333-944455556666"),
        };
        let reply = http
            .get(format!(
                "{}{path}?inn=540304378234&address=Kazan",
                sandbox.url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), status, "{}", spec.provider);
        let sent: serde_json::Value =
            serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        let page: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(sent, page, "{}", spec.provider);
    }
    assert_eq!(
        proverka::adapters()
            .iter()
            .map(|a| sandbox.billed(a.provider()))
            .sum::<u64>(),
        0,
        "a refused call is never billed"
    );
}
