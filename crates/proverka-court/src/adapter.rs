//! [`CourtAdapter`]: the court jurisdiction check as the proxy sees it.

use proverka_core::{
    Adapter, Parsed, ProviderReply, ProviderSpec, QueryInput, RoutePath, Routes, TypedOperation,
    TypedParam,
};

use crate::{CourtQuery, PATH, SPEC};

/// Территориальная подсудность for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct CourtAdapter;

impl Adapter for CourtAdapter {
    fn spec(&self) -> ProviderSpec {
        SPEC
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
            .map_err(|e| ProviderReply::new(200, e.provider_body()))
    }

    fn missing_credential(&self) -> ProviderReply {
        ProviderReply::new(
            200,
            serde_json::json!({"data": {"status": 0, "error": "401 Unauthorized"}}).to_string(),
        )
    }

    fn explain(&self, code: &str) -> Option<proverka_core::CodeMeaning> {
        crate::ProviderError::explain(code)
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

    fn checks(&self) -> Vec<proverka_core::checks::CheckSpec> {
        crate::checks::checks()
    }

    #[cfg(feature = "sandbox")]
    fn simulator(&self) -> Option<Box<dyn proverka_core::sandbox::Simulator>> {
        Some(Box::new(crate::sandbox::CourtSimulator::default()))
    }
}
