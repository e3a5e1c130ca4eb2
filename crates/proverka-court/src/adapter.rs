//! [`CourtAdapter`]: the court jurisdiction check as the proxy sees it.

use proverka_core::ProviderRefusal as _;
use proverka_core::{Adapter, Parsed, ProviderReply, QueryInput};

use crate::{CourtQuery, SPEC};

/// Территориальная подсудность for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct CourtAdapter;

impl Adapter for CourtAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ProviderError::explain,
        codes: crate::ProviderError::documented_codes,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::CourtSimulator::default(),
    }

    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        CourtQuery::from_pairs(input.pairs)
            .map(Parsed::stable)
            .map_err(|e| e.provider_reply())
    }
}
