//! Inputs shared by the criterion benches.

use std::path::{Path, PathBuf};

pub mod dictionaries;

/// A provider's fixtures: the `fixtures/` folder of its crate.
pub fn fixtures_dir(provider: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates")
        .join(format!("proverka-{provider}"))
        .join("fixtures")
}

/// An FSSP `physical` answer with `n` records: the page's sample record repeated.
pub fn fssp_physical(n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures_dir("fssp").join("physical_found.json"))
        .unwrap_or_default();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let record = value["records"][0].clone();
    value["records"] = serde_json::Value::Array(vec![record; n]);
    value["count"] = n.into();
    serde_json::to_vec(&value).unwrap_or_default()
}

/// A provider-free lookup for cache benches: every answer is kept for an hour.
#[derive(Debug, Clone)]
pub struct BenchLookup(pub String);

impl proverka_core::Lookup for BenchLookup {
    fn provider(&self) -> proverka_core::Provider {
        proverka_core::Provider::Fssp
    }
    fn query_kind(&self) -> &'static str {
        "bench"
    }
    fn cache_key(&self) -> proverka_core::CacheKey {
        proverka_core::CacheKey::builder(proverka_core::Provider::Fssp, "bench")
            .exact("n", self.0.clone())
            .build()
    }
    fn cost(&self) -> proverka_core::Cost {
        proverka_core::Cost::Free
    }
    fn upstream_request(&self) -> proverka_core::UpstreamRequest {
        proverka_core::UpstreamRequest::new("/bench")
    }
    fn judge(
        &self,
        _: &proverka_core::RawAnswer,
        _: std::time::SystemTime,
    ) -> proverka_core::Verdict {
        proverka_core::Verdict::Answer {
            billed: proverka_core::Billed::No,
            keep_for: std::time::Duration::from_secs(3600),
            reported: proverka_core::Reported::default(),
        }
    }
    /// The body as a JSON string: benches have no model.
    fn render(
        &self,
        raw: &proverka_core::RawAnswer,
    ) -> Result<serde_json::Value, proverka_core::RenderError> {
        Ok(String::from_utf8_lossy(&raw.body).into_owned().into())
    }
}

/// The error type of bench fetches (they never fail).
pub type Never = proverka_core::TransportError;
