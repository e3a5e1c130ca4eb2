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
/// provider's simulator answers such a call: the page's reply, written once in the spec.
#[test]
fn a_call_without_its_credential_is_refused_as_the_spec_says() {
    use proverka_core::sandbox::{Request, Simulated};
    use proverka_core::{CredentialStyle, PageReply};
    for adapter in proverka::adapters() {
        let spec = adapter.spec();
        let simulator = adapter.simulator().expect("a simulator");
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
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_706_806_800);
        let request = Request {
            method: "GET",
            tail: "6f0b1c2d-1111-4222-8333-944455556666",
            pairs: &[("inn", "540304378234"), ("address", "Казань, Кремль 1")],
            bearer: None,
            body: b"",
            peer: std::net::Ipv4Addr::LOCALHOST.into(),
            now: std::time::Instant::now(),
            at,
        };
        match simulator.answer(&request) {
            Simulated::Refused(reply) => {
                assert_eq!(reply.status, status, "{}", spec.provider);
                let sent: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                let page: serde_json::Value = serde_json::from_str(body).unwrap();
                assert_eq!(sent, page, "{}", spec.provider);
            }
            other => panic!(
                "{}: answered without a credential: {other:?}",
                spec.provider
            ),
        }
    }
}
