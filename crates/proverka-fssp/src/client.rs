//! [`FsspClient`]: one async method per query type.

use std::time::Duration;

use proverka_core::{
    ConfigError, CredentialStyle, Lookup, PagePrice, PageReply, Provider, ProviderSpec, RoutePath,
    Routes, Secret, TypedOperation, TypedParam,
};

use crate::Error;
use crate::lookup::{FsspAnswer, Query};
use crate::model::{self, DebtorSearch, Regions, WantedSearch};
use crate::query::{Alim, ByInn, FsspQuery, Id, Ip, Legal, Physical, RegionsList, Wanted};

/// The provider's production host.
pub const DEFAULT_BASE_URL: &str = "https://api-cloud.ru";

/// The provider advises a 400 s timeout: answers can take minutes while it solves captchas.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(400);

/// The parameters of the typed routes: each takes those of its query type.
const TYPED_PARAMS: &[TypedParam] = &[
    TypedParam::optional("lastname", "Фамилия (physical, alim)"),
    TypedParam::optional("firstname", "Имя (physical, alim)"),
    TypedParam::optional("secondname", "Отчество"),
    TypedParam::optional("birthdate", "dd.mm.yyyy"),
    TypedParam::optional("region", "Region number or -1"),
    TypedParam::optional("nameLegal", "Legal entity name (legal)"),
    TypedParam::optional("address", "Legal entity address (legal)"),
    TypedParam::optional("number", "Proceeding (ip) or document (id) number"),
    TypedParam::optional("typeid", "Document type (id)"),
    TypedParam::optional("inn", "INN (inn)"),
    TypedParam::optional("fio", "Full name (wanted)"),
    TypedParam::optional("onlyActual", "1: open proceedings only"),
];

/// One typed operation per query type, in [`QueryType::ALL`](crate::QueryType::ALL)'s order.
const OPERATIONS: &[TypedOperation] = &[
    TypedOperation::new(
        "/v1/fssp/regionsList",
        "FSSP `regionsList` (api-cloud.ru)",
        TYPED_PARAMS,
    ),
    TypedOperation::new(
        "/v1/fssp/physical",
        "FSSP `physical` (api-cloud.ru)",
        TYPED_PARAMS,
    ),
    TypedOperation::new(
        "/v1/fssp/legal",
        "FSSP `legal` (api-cloud.ru)",
        TYPED_PARAMS,
    ),
    TypedOperation::new("/v1/fssp/ip", "FSSP `ip` (api-cloud.ru)", TYPED_PARAMS),
    TypedOperation::new("/v1/fssp/id", "FSSP `id` (api-cloud.ru)", TYPED_PARAMS),
    TypedOperation::new("/v1/fssp/inn", "FSSP `inn` (api-cloud.ru)", TYPED_PARAMS),
    TypedOperation::new(
        "/v1/fssp/wanted",
        "FSSP `wanted` (api-cloud.ru)",
        TYPED_PARAMS,
    ),
    TypedOperation::new("/v1/fssp/alim", "FSSP `alim` (api-cloud.ru)", TYPED_PARAMS),
];

proverka_core::client! {
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
    pub struct FsspClient;
    /// Builds an [`FsspClient`]: see [`ClientBuilder`](proverka_core::ClientBuilder). An absent token is
    /// the provider's 502, one not 32 letters and digits its 499 `WRONG_TOKEN_KEY`.
    pub type FsspClientBuilder;
    spec: SPEC,
    check: check_token,
}

/// api-cloud.ru FSSP (ФССП, банк данных исполнительных производств), once for its client
/// and its adapter: a token in the `token` parameter, each answer reporting its own price.
pub const SPEC: ProviderSpec = ProviderSpec {
    provider: Provider::Fssp,
    base_url: DEFAULT_BASE_URL,
    timeout: DEFAULT_TIMEOUT,
    credential: CredentialStyle::QueryParam("token"),
    price: PagePrice::ReportedUpTo(crate::MAX_PRICE),
    calls_per_minute: None,
    missing_credential: Some(PageReply {
        status: 200,
        body: r#"{"error":"502","message":"MISSING_REQUIRED_TOKEN_PARAMETER"}"#,
    }),
    // On the typed route the query type is the path's tail (`/v1/fssp/physical`).
    routes: Routes {
        drop_in: &[RoutePath::Exact(crate::PATH)],
        typed: RoutePath::Prefix("/v1/fssp/"),
    },
    operations: OPERATIONS,
};

impl FsspClient {
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
