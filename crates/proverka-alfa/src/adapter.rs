//! [`AlfaAdapter`]: the Alfa-Bank registry status as the proxy sees it.

use proverka_core::ProviderRefusal as _;
use proverka_core::{
    Adapter, Parsed, ProviderReply, QueryInput, RoutePath, Routes, TypedOperation, TypedParam,
};

use crate::{PATH_PREFIX, RegistryQuery, SPEC};

/// The typed route's prefix: the requestId follows it.
const TYPED_PREFIX: &str = "/v1/alfa/registries/";

/// Alfa-Bank BaaS (реестр самозанятых) for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlfaAdapter;

impl Adapter for AlfaAdapter {
    proverka_core::adapter_parts! {
        spec: SPEC,
        explain: crate::ProviderError::explain,
        checks: crate::checks::checks(),
        simulator: crate::sandbox::AlfaSimulator::default(),
    }
    fn routes(&self) -> Routes {
        Routes {
            drop_in: vec![RoutePath::Prefix(PATH_PREFIX)],
            typed: RoutePath::Prefix(TYPED_PREFIX),
        }
    }

    /// The requestId is the path's tail on both routes.
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        RegistryQuery::from_parts(input.tail, input.pairs)
            .map(Parsed::stable)
            .map_err(|e| e.provider_reply())
    }

    fn operations(&self) -> Vec<TypedOperation> {
        vec![TypedOperation {
            path: format!("{TYPED_PREFIX}{{requestId}}"),
            summary: "Alfa-Bank self-employed registry status (Authorization: Bearer required)"
                .into(),
            params: vec![
                TypedParam::optional("limit", "1–1000"),
                TypedParam::optional("offset", "records to skip"),
                TypedParam::path("requestId", "The registry's requestId (uuid)"),
            ],
        }]
    }
}
