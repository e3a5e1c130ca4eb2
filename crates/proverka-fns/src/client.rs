//! [`FnsClient`]: sends checks to the tax service's free status check.

use std::time::Duration;

use proverka_core::{
    Auth, ClientBuilder, ConfigError, Connect, HttpClient, Lookup, Provider, RawAnswer, Secret,
    TransportError,
};

use crate::{Error, FnsQuery, TaxpayerStatus, parse};

/// The service's host.
pub const DEFAULT_BASE_URL: &str = "https://statusnpd.nalog.ru";
/// The path of the check (a POST of JSON).
pub const PATH: &str = "/api/v1/tracker/taxpayer_status";
/// The timeout unless set: the service asks clients to allow at least 60 s for an answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(65);

/// A client of the free status check. It sends what it is asked to, when it is asked: the
/// service limits requests per IP address, so space calls (public clients wait about 30 s
/// between them) or put the proxy in front, which paces them across replicas.
///
/// ```no_run
/// use proverka_fns::{FnsClient, FnsQuery};
/// # async fn run() -> Result<(), proverka_fns::Error> {
/// let client = FnsClient::builder().build()?;
/// let q = FnsQuery::parse("540304378234", None).map_err(proverka_fns::Error::Invalid)?;
/// let status = client.check(&q).await?;
/// println!("self-employed on {}: {}", q.date(), status.self_employed);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FnsClient {
    http: HttpClient,
}

/// Builds an [`FnsClient`]: see [`ClientBuilder`]. The service needs no credential; one
/// given is refused, so it cannot leak to a public endpoint.
pub type FnsClientBuilder = ClientBuilder<FnsClient>;

impl Connect for FnsClient {
    const PROVIDER: Provider = Provider::Fns;
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;

    fn check_credential(credential: Option<&Secret>) -> Result<(), ConfigError> {
        match credential {
            Some(_) => Err(ConfigError::Credential {
                name: "token",
                reason: "the tax service's free check takes no credential",
            }),
            None => Ok(()),
        }
    }

    fn from_parts(http: HttpClient, _: Option<Secret>) -> Self {
        Self { http }
    }
}

impl FnsClient {
    /// A builder with the service's host.
    pub fn builder() -> FnsClientBuilder {
        ClientBuilder::default()
    }

    /// Sends a query and returns the answer as it came.
    ///
    /// # Errors
    /// [`TransportError`] when no answer arrived.
    pub async fn fetch_raw<L: Lookup + ?Sized>(
        &self,
        lookup: &L,
    ) -> Result<RawAnswer, TransportError> {
        self.http.send(&lookup.upstream_request(), Auth::None).await
    }

    /// One check.
    ///
    /// # Errors
    /// See [`Error`]; `limited` and `unavailable` are retryable ("try later").
    pub async fn check(&self, query: &FnsQuery) -> Result<TaxpayerStatus, Error> {
        parse(&self.fetch_raw(query).await?)
    }
}
