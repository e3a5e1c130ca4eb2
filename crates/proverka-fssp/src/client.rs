//! [`FsspClient`]: one async method per query type.

use std::time::Duration;

use proverka_core::{
    ConfigError, CredentialStyle, Lookup, PagePrice, PageReply, ParamFormat, Provider,
    ProviderSpec, RoutePath, Routes, Secret, TypedOperation, TypedParam, schema_of,
};

use crate::Error;
use crate::lookup::{FsspAnswer, Query};
use crate::model::{self, DebtorSearch, Regions, WantedSearch};
use crate::query::{Alim, ByInn, FsspQuery, Id, Ip, Legal, Physical, RegionsList, Wanted};

/// The provider's production host.
pub const DEFAULT_BASE_URL: &str = "https://api-cloud.ru";

/// The provider advises a 400 s timeout: answers can take minutes while it solves captchas.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(400);

// The characters the page allows in each parameter (`query::Charset`), as JSON Schema
// patterns; the proxy reads values trimmed, the document shows them as they should be sent.
const NAME: ParamFormat = ParamFormat::Pattern("^[A-Za-zА-Яа-яЁё0-9-]+$");
const NAME_WITH_SPACES: ParamFormat = ParamFormat::Pattern("^[A-Za-zА-Яа-яЁё0-9 -]+$");
const DIGITS: ParamFormat = ParamFormat::Pattern("^[0-9]+$");
const REGION: ParamFormat = ParamFormat::Pattern("^[0-9-]+$");
const ONLY_ACTUAL: ParamFormat = ParamFormat::OneOf(&["1", "0", "true", "false"]);

const REGION_REQUIRED: TypedParam = TypedParam::required(
    "region",
    "Регион: a region number, or -1 for every region (slower)",
)
.taking(REGION);
const ONLY_ACTUAL_PARAM: TypedParam =
    TypedParam::optional("onlyActual", "1: open proceedings only (только актуальные)")
        .taking(ONLY_ACTUAL);

/// `physical` and `alim`: a person by name and birth date.
const PERSON: &[TypedParam] = &[
    TypedParam::required("lastname", "Фамилия").taking(NAME),
    TypedParam::required("firstname", "Имя").taking(NAME),
    TypedParam::optional("secondname", "Отчество").taking(NAME),
    TypedParam::required("birthdate", "Дата рождения, dd.mm.yyyy, not in the future")
        .taking(ParamFormat::Pattern("^[0-9]{2}\\.[0-9]{2}\\.[0-9]{4}$")),
    REGION_REQUIRED,
    ONLY_ACTUAL_PARAM,
];

/// One typed operation per query type, in [`QueryType::ALL`](crate::QueryType::ALL)'s order;
/// every `result` is an [`FsspAnswer`] (`kind` says which).
const OPERATIONS: &[TypedOperation] = &[
    TypedOperation::new(
        "/v1/fssp/regionsList",
        "FSSP `regionsList` (api-cloud.ru): the region numbers, free of charge",
        &[],
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/physical",
        "FSSP `physical` (api-cloud.ru): proceedings against a person (физическое лицо)",
        PERSON,
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/legal",
        "FSSP `legal` (api-cloud.ru): proceedings against a legal entity (юридическое лицо)",
        &[
            TypedParam::required("nameLegal", "Наименование юридического лица (also `name`)")
                .taking(NAME_WITH_SPACES),
            TypedParam::required("region", "Регион: a number, -1, or a name").taking(NAME),
            TypedParam::optional("address", "Адрес (also `adress`)").taking(NAME_WITH_SPACES),
            ONLY_ACTUAL_PARAM,
        ],
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/ip",
        "FSSP `ip` (api-cloud.ru): one enforcement proceeding by its number",
        &[
            TypedParam::required("number", "Номер исполнительного производства")
                .taking(ParamFormat::Pattern("^[A-Za-zА-Яа-яЁё0-9/-]+$")),
        ],
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/id",
        "FSSP `id` (api-cloud.ru): proceedings by an executive document's number",
        &[
            TypedParam::required("number", "Номер исполнительного документа")
                .taking(ParamFormat::Pattern("^[A-Za-zА-Яа-яЁё0-9/ №.-]+$")),
            TypedParam::required("region", "Регион: a region number (not -1)").taking(REGION),
            TypedParam::optional("typeid", "Тип исполнительного документа").taking(DIGITS),
        ],
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/inn",
        "FSSP `inn` (api-cloud.ru): proceedings by INN",
        &[
            TypedParam::required("inn", "ИНН").taking(DIGITS),
            REGION_REQUIRED,
            ONLY_ACTUAL_PARAM,
        ],
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/wanted",
        "FSSP `wanted` (api-cloud.ru): the wanted register (розыск)",
        &[
            TypedParam::required("fio", "ФИО")
                .taking(ParamFormat::Pattern("^[A-Za-zА-Яа-яЁё0-9\\s-]+$")),
            TypedParam::optional("region", "Регион").taking(REGION),
        ],
        schema_of::<FsspAnswer>,
    ),
    TypedOperation::new(
        "/v1/fssp/alim",
        "FSSP `alim` (api-cloud.ru): alimony debtors (алименты)",
        PERSON,
        schema_of::<FsspAnswer>,
    ),
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
    // Trained by `train-dictionaries` (proverka-benches); newest first.
    dictionaries: &[include_bytes!("../dictionary/zstd-1377447117.dict")],
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
