//! [`NpdAdapter`]: the api-assist NPD check as the proxy sees it.

use proverka_core::status_day::names_a_date;
use proverka_core::{
    Adapter, Date, Parsed, ProviderReply, ProviderSpec, QueryInput, RoutePath, Routes,
    TypedOperation, TypedParam,
};

use crate::query::DATE;
use crate::{NpdQuery, PATH, SPEC, ValidationError};

/// api-assist.com NPD (налог на профессиональный доход) for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct NpdAdapter;

impl Adapter for NpdAdapter {
    fn spec(&self) -> ProviderSpec {
        SPEC
    }

    fn routes(&self) -> Routes {
        Routes {
            drop_in: vec![RoutePath::Exact(PATH)],
            typed: RoutePath::Exact("/v1/npd"),
        }
    }

    /// Without a `date` the query means today (Moscow), which changes at midnight: such a
    /// query is not [`stable`](Parsed::stable).
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        let dated = names_a_date(input.pairs, DATE);
        NpdQuery::from_pairs_on(input.pairs, Date::moscow_date_at(input.now))
            .map(|q| Parsed {
                stable: dated,
                ..Parsed::stable(q)
            })
            .map_err(|e| ProviderReply::new(ValidationError::HTTP_STATUS, e.provider_body()))
    }

    fn missing_credential(&self) -> ProviderReply {
        ProviderReply::new(
            403,
            serde_json::json!({"error": "Invalid access key", "error_code": 40301}).to_string(),
        )
    }

    fn explain(&self, code: &str) -> Option<proverka_core::CodeMeaning> {
        crate::ProviderError::explain(code)
    }

    fn operations(&self) -> Vec<TypedOperation> {
        vec![TypedOperation {
            path: "/v1/npd".into(),
            summary: "Self-employed (НПД) status of an INN on a date".into(),
            params: vec![
                TypedParam::required("inn", "12-digit INN"),
                TypedParam::optional("date", "YYYY-MM-DD, default today (Moscow)"),
            ],
        }]
    }
}
