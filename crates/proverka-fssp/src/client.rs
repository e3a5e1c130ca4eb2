//! [`FsspClient`]: one async method per query type.

use std::time::Duration;

use proverka_core::{
    Auth, ConfigError, HttpClient, HttpSettings, Lookup, Provider, RawAnswer, Secret,
    TransportError,
};

use crate::Error;
use crate::lookup::{FsspAnswer, Query};
use crate::model::{self, DebtorSearch, Regions, WantedSearch};
use crate::request::{
    Alim, ByInn, FsspQuery, Id, Ip, Legal, Physical, QueryType, RegionsList, Wanted,
};

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

/// Builds an [`FsspClient`].
#[derive(Debug)]
#[must_use]
pub struct FsspClientBuilder {
    token: Option<Secret>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
}

impl FsspClient {
    /// A builder with the production host and a 400 s timeout.
    pub fn builder() -> FsspClientBuilder {
        FsspClientBuilder {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: None,
            user_agent: None,
        }
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
            .get(
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

    /// The query type of a lookup (for [`FsspAnswer::from_raw`]).
    pub fn query_type_of(q: &FsspQuery) -> QueryType {
        q.query_type()
    }
}

impl FsspClientBuilder {
    /// The personal API key (персональный ключ API), 32 characters.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Another base URL (HTTPS, or HTTP on loopback for tests and the sandbox).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The whole-request timeout (default 400 s, as the provider advises).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ConfigError::Credential`] for a missing token or one that is not 32 characters (the
    /// provider's error 499, caught for free), [`ConfigError::InsecureUrl`] for plain HTTP to a
    /// host that is not loopback, [`ConfigError::BadUrl`].
    pub fn build(self) -> Result<FsspClient, ConfigError> {
        let token = self.token.ok_or(ConfigError::Credential {
            name: "token",
            reason: "no token given (provider error 502)",
        })?;
        check_token(&token)?;
        let mut settings = HttpSettings::new(&self.base_url, self.timeout)?;
        if let Some(t) = self.connect_timeout {
            settings = settings.with_connect_timeout(t);
        }
        if let Some(ua) = self.user_agent {
            settings = settings.with_user_agent(ua);
        }
        Ok(FsspClient {
            http: HttpClient::new(Provider::Fssp, settings)?,
            token,
        })
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
