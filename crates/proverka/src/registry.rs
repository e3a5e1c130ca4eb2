//! The registry: every provider this build knows, as the proxy and the command line see them.
//!
//! Adding a provider is its own crate implementing [`Adapter`], one
//! [`Provider`](proverka_core::Provider) variant, one line below (behind the crate's feature)
//! and its simulator in `proverka-sandbox`. Nothing else names it.

use std::sync::Arc;

use proverka_core::Adapter;

/// Every provider of this build (its features), in a fixed order: the order of metrics and
/// of the OpenAPI document.
pub fn adapters() -> Vec<Arc<dyn Adapter>> {
    vec![
        #[cfg(feature = "fssp")]
        Arc::new(proverka_fssp::FsspAdapter),
        #[cfg(feature = "court")]
        Arc::new(proverka_court::CourtAdapter),
        #[cfg(feature = "npd")]
        Arc::new(proverka_npd::NpdAdapter),
        #[cfg(feature = "alfa")]
        Arc::new(proverka_alfa::AlfaAdapter),
        #[cfg(feature = "fns")]
        Arc::new(proverka_fns::FnsAdapter),
    ]
}
