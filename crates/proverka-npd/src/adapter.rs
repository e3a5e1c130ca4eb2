//! [`NpdAdapter`]: the api-assist NPD check as the proxy sees it.

use proverka_core::{
    Adapter, CredentialStyle, Defaults, PagePrice, Parsed, Provider, ProviderReply, QueryInput,
    RoutePath, Routes, TypedOperation, TypedParam,
};

use crate::{DEFAULT_BASE_URL, DEFAULT_TIMEOUT, NpdQuery, PATH, ValidationError};

/// api-assist.com NPD (налог на профессиональный доход) for the proxy's registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct NpdAdapter;

impl Adapter for NpdAdapter {
    fn provider(&self) -> Provider {
        Provider::Npd
    }

    fn defaults(&self) -> Defaults {
        Defaults {
            base_url: DEFAULT_BASE_URL,
            timeout: DEFAULT_TIMEOUT,
            price: PagePrice::Tariff,
        }
    }

    fn credential(&self) -> CredentialStyle {
        CredentialStyle::QueryParam("key")
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
        let dated = input
            .pairs
            .iter()
            .any(|(k, v)| *k == "date" && !v.trim().is_empty());
        NpdQuery::from_pairs(input.pairs)
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
