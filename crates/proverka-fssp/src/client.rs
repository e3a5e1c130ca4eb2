//! [`FsspClient`]: one async method per query type.

use std::time::Duration;

use proverka_core::{
    Auth, ClientBuilder, ConfigError, Connect, HttpClient, Lookup, Provider, RawAnswer, Secret,
    TransportError,
};

use crate::Error;
use crate::lookup::{FsspAnswer, Query};
use crate::model::{self, DebtorSearch, Regions, WantedSearch};
use crate::query::{Alim, ByInn, FsspQuery, Id, Ip, Legal, Physical, RegionsList, Wanted};

/// The provider's production host.
pub const DEFAULT_BASE_URL: &str = "https://api-cloud.ru";

/// The provider advises a 400 s timeout: answers can take minutes while it solves captchas.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(400);

/// A client of the api-cloud.ru FSSP API.
///
/// ```no_run
/// use proverka_fssp::{FsspClient, Physical, Region};
/// # async fn run() -> Result<(), proverka_fssp::Error> {
/// let client = FsspClient::builder()
///     .token(std::env::var("FSSP_TOKEN").unwrap_or_default())
///     .build()?;
/// let found = client
///     .physical(&Physical::new("Иванов", "Иван", "31.03.1980", Region::All).map_err(proverka_fssp::Error::Invalid)?)
///     .await?;
/// for record in &found.records {
///     println!("{:?} {:?}", record.process_title, record.sum);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FsspClient {
    http: HttpClient,
    token: Secret,
}

/// Builds an [`FsspClient`]: see [`ClientBuilder`].
pub type FsspClientBuilder = ClientBuilder<FsspClient>;

impl Connect for FsspClient {
    const PROVIDER: Provider = Provider::Fssp;
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;

    /// Absent: the provider's 502; not 32 letters and digits: its 499 WRONG_TOKEN_KEY.
    fn check_credential(token: Option<&Secret>) -> Result<(), ConfigError> {
        check_token(token.ok_or(ConfigError::Credential {
            name: "token",
            reason: "no token given (provider error 502)",
        })?)
    }

    fn from_parts(http: HttpClient, token: Option<Secret>) -> Self {
        Self {
            http,
            token: token.unwrap_or_else(|| Secret::new("")),
        }
    }
}

impl FsspClient {
    /// A builder with the production host and a 400 s timeout.
    pub fn builder() -> FsspClientBuilder {
        ClientBuilder::default()
    }

    /// Sends an FSSP lookup and returns the answer as it came (the proxy stores these bytes).
    ///
    /// # Errors
    /// [`TransportError`] when no answer arrived.
    pub async fn fetch_raw<L: Lookup + ?Sized>(
        &self,
        lookup: &L,
    ) -> Result<RawAnswer, TransportError> {
        debug_assert_eq!(lookup.provider(), Provider::Fssp);
        self.http
            .send(
                &lookup.upstream_request(),
                Auth::Query("token", &self.token),
            )
            .await
    }

    async fn debtors<Q: Query + Lookup>(&self, q: &Q) -> Result<DebtorSearch, Error> {
        let raw = self.fetch_raw(q).await?;
        Ok(model::parse_answer(raw.status, &raw.body)?)
    }

    /// `regionsList`: the region numbers (free).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn regions_list(&self) -> Result<Regions, Error> {
        let raw = self.fetch_raw(&RegionsList).await?;
        Ok(model::parse_regions(raw.status, &raw.body)?)
    }

    /// `physical`: debts of an individual.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn physical(&self, q: &Physical) -> Result<DebtorSearch, Error> {
        self.debtors(q).await
    }

    /// `legal`: debts of a legal entity by name.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn legal(&self, q: &Legal) -> Result<DebtorSearch, Error> {
        self.debtors(q).await
    }

    /// `ip`: by enforcement proceeding number.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn ip(&self, q: &Ip) -> Result<DebtorSearch, Error> {
        self.debtors(q).await
    }

    /// `id`: by executive document number.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn id(&self, q: &Id) -> Result<DebtorSearch, Error> {
        self.debtors(q).await
    }

    /// `inn`: debts of an organisation by INN.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn inn(&self, q: &ByInn) -> Result<DebtorSearch, Error> {
        self.debtors(q).await
    }

    /// `alim` (beta): the alimony debtors register.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn alim(&self, q: &Alim) -> Result<DebtorSearch, Error> {
        self.debtors(q).await
    }

    /// `wanted` (beta): the wanted register.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn wanted(&self, q: &Wanted) -> Result<WantedSearch, Error> {
        let raw = self.fetch_raw(q).await?;
        Ok(model::parse_answer(raw.status, &raw.body)?)
    }

    /// Any query, answered with the matching model.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn query(&self, q: &FsspQuery) -> Result<FsspAnswer, Error> {
        let raw = self.fetch_raw(q).await?;
        FsspAnswer::from_raw(q.query_type(), &raw)
    }
}

/// Checks a token's format as the provider does (error 499 WRONG_TOKEN_KEY): 32 visible
/// ASCII characters.
///
/// # Errors
/// [`ConfigError::Credential`].
pub fn check_token(token: &Secret) -> Result<(), ConfigError> {
    let t = token.expose();
    if t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ConfigError::Credential {
            name: "token",
            reason: "must be 32 letters and digits (provider error 499 WRONG_TOKEN_KEY)",
        })
    }
}
