//! [`AlfaAdapter`]: the Alfa-Bank registry status as the proxy sees it.

use proverka_core::ProviderRefusal as _;
use proverka_core::{Adapter, Parsed, ProviderReply, QueryInput};

use crate::{RegistryQuery, SPEC};

/// Alfa-Bank BaaS (реестр самозанятых) for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlfaAdapter;

impl Adapter for AlfaAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ProviderError::explain,
        codes: crate::ProviderError::documented_codes,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::AlfaSimulator::default(),
    }

    /// The requestId is the path's tail on both routes.
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        RegistryQuery::from_parts(input.tail, input.pairs)
            .map(Parsed::stable)
            .map_err(|e| e.provider_reply())
    }
}
