//! [`FnsClient`]: sends checks to the tax service's free status check.

use std::time::Duration;

use proverka_core::{
    CredentialStyle, PagePrice, ParamFormat, Provider, ProviderSpec, RoutePath, Routes,
    TypedOperation, TypedParam, schema_of,
};

use crate::{Error, FnsQuery, TaxpayerStatus, parse};

/// The service's host.
pub const DEFAULT_BASE_URL: &str = "https://statusnpd.nalog.ru";
/// The timeout unless set: the service asks clients to allow at least 60 s for an answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(65);

/// Calls a minute from one IP address unless configured (`per_minute`): public clients
/// space their calls about 30 s apart.
pub const DEFAULT_CALLS_PER_MINUTE: u32 = 2;

proverka_core::client! {
    /// A client of the free status check. It sends what it is asked to, when it is asked: the
    /// service limits requests per IP address, so space calls (public clients wait about 30 s
    /// between them) or put the proxy in front, which paces them across replicas.
    ///
    /// ```no_run
    /// use proverka_fns::{FnsClient, FnsQuery, StatusOnDay};
    /// # async fn run() -> Result<(), proverka_fns::Error> {
    /// let client = FnsClient::builder().build()?;
    /// let q = FnsQuery::parse("540304378234", None).map_err(proverka_fns::Error::Invalid)?;
    /// let status = client.check(&q).await?;
    /// println!("self-employed on {}: {}", q.date(), status.self_employed);
    /// # Ok(()) }
    /// ```
    pub struct FnsClient;
    /// Builds an [`FnsClient`]: see [`ClientBuilder`](proverka_core::ClientBuilder). The service needs no
    /// credential; one given is refused, so it cannot leak to a public endpoint.
    pub type FnsClientBuilder;
    spec: SPEC,
}

/// ФНС «Проверка статуса налогоплательщика НПД», once for its client and its adapter: free,
/// no credential, about two requests a minute from one IP address.
pub const SPEC: ProviderSpec = ProviderSpec {
    provider: Provider::Fns,
    base_url: DEFAULT_BASE_URL,
    timeout: DEFAULT_TIMEOUT,
    credential: CredentialStyle::None,
    price: PagePrice::Free,
    calls_per_minute: Some(DEFAULT_CALLS_PER_MINUTE),
    missing_credential: None,
    // Only the typed route: the service's own path is a POST of JSON, and the proxy serves
    // GET (a drop-in caller of api-assist's NPD route gets it through `source`).
    routes: Routes {
        drop_in: &[],
        typed: RoutePath::Exact("/v1/fns"),
    },
    // Trained by `train-dictionaries` (proverka-benches); newest first.
    dictionaries: &[include_bytes!("../dictionary/zstd-1361692496.dict")],
    operations: &[TypedOperation::new(
        "/v1/fns",
        "Self-employed (НПД) status from the tax service's free check (rate-limited)",
        &[
            TypedParam::required("inn", "ИНН физического лица: 12 digits")
                .taking(ParamFormat::Pattern("^[0-9]{12}$")),
            TypedParam::optional(
                "date",
                "Дата: YYYY-MM-DD from 2019-01-01, default today (Moscow)",
            )
            .taking(ParamFormat::IsoDate),
        ],
        schema_of::<TaxpayerStatus>,
    )],
};

impl FnsClient {
    /// One check.
    ///
    /// # Errors
    /// See [`Error`]; `limited` and `unavailable` are retryable ("try later").
    pub async fn check(&self, query: &FnsQuery) -> Result<TaxpayerStatus, Error> {
        parse(&self.fetch_raw(query).await?)
    }
}
