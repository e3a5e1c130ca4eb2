//! [`NpdClient`]: sends checks to api-assist.com.

use std::time::Duration;

use proverka_core::{
    CredentialStyle, PagePrice, PageReply, ParamFormat, Provider, ProviderSpec, RetryPolicy,
    RoutePath, Routes, TypedOperation, TypedParam, schema_of,
};

use crate::{Error, NpdQuery, NpdStatus, parse};

/// The provider's host.
pub const DEFAULT_BASE_URL: &str = "https://service.api-assist.com";

/// The timeout unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

proverka_core::client! {
    /// A client of the NPD check.
    ///
    /// ```no_run
    /// use proverka_npd::{NpdClient, NpdQuery, StatusOnDay};
    /// # async fn run() -> Result<(), proverka_npd::Error> {
    /// let client = NpdClient::builder().token("…").build()?;
    /// let q = NpdQuery::parse("540304378234", None).map_err(proverka_npd::Error::Invalid)?;
    /// let status = client.check_retrying(&q, &Default::default()).await?;
    /// println!("self-employed on {}: {}", q.date(), status.self_employed);
    /// # Ok(()) }
    /// ```
    pub struct NpdClient;
    /// Builds an [`NpdClient`]: see [`ClientBuilder`](proverka_core::ClientBuilder) (its `token` is the access `key`).
    pub type NpdClientBuilder;
    spec: SPEC,
}

/// api-assist.com NPD (налог на профессиональный доход), once for its client and its adapter:
/// an access key in the `key` parameter, priced by the customer's tariff.
pub const SPEC: ProviderSpec = ProviderSpec {
    provider: Provider::Npd,
    base_url: DEFAULT_BASE_URL,
    timeout: DEFAULT_TIMEOUT,
    credential: CredentialStyle::QueryParam("key"),
    price: PagePrice::Tariff,
    calls_per_minute: None,
    missing_credential: Some(PageReply {
        status: 403,
        body: r#"{"error":"Invalid access key","error_code":40301}"#,
    }),
    routes: Routes {
        drop_in: &[RoutePath::Exact(crate::PATH)],
        typed: RoutePath::Exact("/v1/npd"),
    },
    // Trained by `train-dictionaries` (proverka-benches); newest first.
    dictionaries: &[include_bytes!("../dictionary/zstd-238947111.dict")],
    operations: &[TypedOperation::new(
        "/v1/npd",
        "Self-employed (НПД) status of an INN on a date",
        &[
            TypedParam::required("inn", "ИНН физического лица: 12 digits")
                .taking(ParamFormat::Pattern("^[0-9]{12}$")),
            TypedParam::optional("date", "Дата: YYYY-MM-DD, default today (Moscow)")
                .taking(ParamFormat::IsoDate),
        ],
        schema_of::<NpdStatus>,
    )],
};

impl NpdClient {
    /// One check.
    ///
    /// # Errors
    /// See [`Error`]; `success = 0` is [`ProviderError::SourceUnavailable`](crate::ProviderError::SourceUnavailable).
    pub async fn check(&self, query: &NpdQuery) -> Result<NpdStatus, Error> {
        parse(&self.fetch_raw(query).await?)
    }

    /// A check asked again while the answer is a free, retryable failure (`success = 0`, a
    /// failed connect), as the page advises, within `policy`.
    ///
    /// # Errors
    /// The last failure.
    pub async fn check_retrying(
        &self,
        query: &NpdQuery,
        policy: &RetryPolicy,
    ) -> Result<NpdStatus, Error> {
        let mut attempt = 1;
        loop {
            match self.check(query).await {
                Ok(status) => return Ok(status),
                Err(e) => match policy.next_delay(attempt, e.retryable(), e.charged()) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }
}
