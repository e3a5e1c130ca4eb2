//! [`CourtAdapter`]: the court jurisdiction check as the proxy sees it.

use proverka_core::ProviderRefusal as _;
use proverka_core::{
    Adapter, Parsed, ProviderReply, QueryInput, RoutePath, Routes, TypedOperation, TypedParam,
};

use crate::{CourtQuery, PATH, SPEC};

/// Территориальная подсудность for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct CourtAdapter;

impl Adapter for CourtAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ProviderError::explain,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::CourtSimulator::default(),
    }
    /// The page documents `/api`; `/api/` is served the same.
    fn routes(&self) -> Routes {
        Routes {
            drop_in: vec![RoutePath::Exact(PATH), RoutePath::Exact("/api/")],
            typed: RoutePath::Exact("/v1/court"),
        }
    }

    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        CourtQuery::from_pairs(input.pairs)
            .map(Parsed::stable)
            .map_err(|e| e.provider_reply())
    }

    fn operations(&self) -> Vec<TypedOperation> {
        vec![TypedOperation {
            path: "/v1/court".into(),
            summary: "Court jurisdiction by address or coordinates".into(),
            params: vec![
                TypedParam::optional("address", "Address to the building"),
                TypedParam::optional("coords", "\"lon lat\""),
            ],
        }]
    }
}
