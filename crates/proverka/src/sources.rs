//! Free sources of paid answers: each one links a free provider to the paid provider whose
//! question it answers. They live here, beside the registry, because each knows two
//! adapters (and no adapter may know another).

use std::sync::Arc;

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{FreeSource, Lookup, Provider, RawAnswer};

/// The tax service's free check (`fns`) answering api-assist's NPD question (`npd`): same INN,
/// same resolved date; its `status` becomes api-assist's `{"success": 1, "found": 0|1}`.
#[cfg(all(feature = "npd", feature = "fns"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct NpdFromFns;

#[cfg(all(feature = "npd", feature = "fns"))]
impl FreeSource for NpdFromFns {
    fn paid(&self) -> Provider {
        Provider::Npd
    }

    fn free(&self) -> Provider {
        Provider::Fns
    }

    fn source_names(&self) -> (&'static str, &'static str) {
        ("api-assist", "fns")
    }

    fn free_query(&self, paid: &dyn Lookup) -> Option<Arc<dyn Lookup>> {
        let request = paid.upstream_request();
        let pairs: Vec<(&str, &str)> = request
            .query
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        proverka_fns::FnsQuery::from_pairs(&pairs)
            .ok()
            .map(|q| Arc::new(q) as Arc<dyn Lookup>)
    }

    fn as_paid_answer(&self, free: &RawAnswer) -> Option<RawAnswer> {
        let status = proverka_fns::parse(free).ok()?;
        Some(RawAnswer::json(
            serde_json::json!({"success": 1, "found": i32::from(status.self_employed)}).to_string(),
        ))
    }
}

/// Every free source of this build (its features).
pub fn free_sources() -> Vec<Arc<dyn FreeSource>> {
    vec![
        #[cfg(all(feature = "npd", feature = "fns"))]
        Arc::new(NpdFromFns),
    ]
}
