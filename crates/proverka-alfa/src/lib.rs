//! # proverka-alfa
//!
//! A typed client for Alfa-Bank's BaaS self-employed registry status (статус добавления
//! самозанятых в систему):
//! `GET /api/semp/v1/selfemployed/registries/add-selfemployed/{requestId}?limit=&offset=`.
//!
//! - The OAuth bearer token is a [`Secret`] passed with each call: a client can serve several
//!   bearer holders (the proxy passes each caller's own).
//! - `requestId` must be a UUID, as the page's examples are; `limit` is 1–1000, `offset` any.
//! - Every field of the answer is typed; [`ListStatus`] and [`AccountStatus`] carry every
//!   documented value and keep unknown ones (the page says values may change).
//! - HTTP 400/401/403/404/500 bodies (`error`, `error_description`) and bodiless errors are
//!   [`ProviderError`] variants.
//! - [`AlfaClient::fetch_all`] walks every page by `pagination.totalCount`, stops on an empty
//!   page and never loops forever on an inconsistent total.
//! - Answers hold passport data: the cache key is the requestId and the page, and the proxy
//!   serves a cached answer only to a bearer the bank already accepted for that requestId.
//!
//! ```
//! use proverka_alfa::RegistryQuery;
//! let q = RegistryQuery::new("4e817e78-5876-4608-a873-bcc141454045")?.page(1000, 0);
//! assert!(RegistryQuery::new("no/other/path").is_err());
//! # let _ = q;
//! # Ok::<(), proverka_alfa::ValidationError>(())
//! ```

mod adapter;
mod model;

use std::time::Duration;

use proverka_core::{
    Auth, Billed, CacheKey, Charged, ClientBuilder, ConfigError, Connect, Failure, HttpClient,
    Lookup, MalformedAnswer, Provider, RawAnswer, RefusedBy, Secret, TransportError,
    UpstreamRequest, Verdict, lenient,
};
use serde_json::Value;

pub use adapter::AlfaAdapter;
pub use model::{
    Account, AccountStatus, Citizenship, ErrorRecord, IdCard, IdCardType, ListError, ListStatus,
    Pagination, Passport, PersonalInformation, Registry, SelfEmployed,
};

/// Production (Пром).
pub const PRODUCTION_BASE_URL: &str = "https://baas.alfabank.ru";
/// Sandbox (Песочница).
pub const SANDBOX_BASE_URL: &str = "https://sandbox.alfabank.ru";
/// The path before the requestId.
pub const PATH_PREFIX: &str = "/api/semp/v1/selfemployed/registries/add-selfemployed/";
/// The timeout unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The page size of the page's example (`limit=1000`); the page sets no maximum.
pub const EXAMPLE_PAGE_SIZE: u32 = 1000;
/// How long a list in a terminal status (SUCCESS, ERROR, TECHNICAL_ERROR) with nobody still
/// in a `*_REQUESTED` state is kept.
pub const TERMINAL_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a list still in progress is kept (NEW, IN_PROGRESS, SIGNATURE_CHECKED, unknown), and
/// a list whose status is final while someone on it still waits on the tax service or on the
/// person (`BIND_REQUESTED`, `REGISTRATION_REQUESTED`, `TAXPAYER_STATUS_REQUESTED`, and any
/// future `*_REQUESTED`).
pub const IN_PROGRESS_TTL: Duration = Duration::from_secs(5);

/// The bank's two hosts, as named presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `https://baas.alfabank.ru`.
    Production,
    /// `https://sandbox.alfabank.ru`.
    Sandbox,
}

impl Environment {
    /// The base URL.
    pub const fn base_url(self) -> &'static str {
        match self {
            Self::Production => PRODUCTION_BASE_URL,
            Self::Sandbox => SANDBOX_BASE_URL,
        }
    }
}

/// A request refused locally: one the bank would answer `400 invalid_request` ("неверные
/// входные параметры"), or one refused by proverka's own rule ([`RefusedBy::Proverka`]), which
/// says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", self.code())]
pub struct ValidationError {
    /// What is wrong (the bank's `error_description` style).
    pub description: &'static str,
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
}

impl ValidationError {
    fn bank(description: &'static str) -> Self {
        Self {
            description,
            refused_by: RefusedBy::Provider,
        }
    }

    fn own(description: &'static str) -> Self {
        Self {
            description,
            refused_by: RefusedBy::Proverka,
        }
    }

    fn code(&self) -> &'static str {
        match self.refused_by {
            RefusedBy::Provider => "invalid_request",
            RefusedBy::Proverka => RefusedBy::MARKER,
        }
    }

    /// The body the bank answers such a request with, HTTP 400:
    /// `{"error":"invalid_request","error_description":"…"}`; for proverka's own rules
    /// `{"error":"proverka",…}`.
    pub fn provider_body(&self) -> String {
        serde_json::json!({"error": self.code(), "error_description": self.description}).to_string()
    }

    /// The HTTP status the bank uses for it.
    pub const HTTP_STATUS: u16 = 400;
}

/// One page of one registry request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryQuery {
    request_id: String,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// A `requestId` proverka can put in a path as given: 1–128 characters, each an unreserved URL
/// character (letters, digits, `-`, `.`, `_`, `~`). The page says only "string": this is
/// proverka's own rule, so an id is never re-encoded, and never reaches another path.
fn is_safe_segment(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        && s != "."
        && s != ".."
}

impl RegistryQuery {
    /// The first page (the bank's default size) of a request.
    ///
    /// The page says `requestId` is a "string" (the bank's are UUIDs): any id that is a safe
    /// path segment is accepted and sent as given, letter case included.
    ///
    /// # Errors
    /// A `requestId` that is not a safe path segment (proverka's own rule).
    pub fn new(request_id: &str) -> Result<Self, ValidationError> {
        let id = request_id.trim();
        if !is_safe_segment(id) {
            return Err(ValidationError::own(
                "requestId must be 1-128 letters, digits, '-', '.', '_' or '~' (proverka's own rule: it goes into the path as given)",
            ));
        }
        Ok(Self {
            request_id: id.to_owned(),
            limit: None,
            offset: None,
        })
    }

    /// A page: `limit` records after skipping `offset`. The page sets no maximum for `limit`
    /// (its example uses 1000).
    #[must_use]
    pub fn page(mut self, limit: u32, offset: u32) -> Self {
        self.limit = Some(limit);
        self.offset = Some(offset);
        self
    }

    /// Reads the path's requestId and the `limit`/`offset` parameters.
    ///
    /// # Errors
    /// A bad requestId; `limit` or `offset` that are not whole numbers ("integer" on the page:
    /// the bank's `invalid_request`).
    pub fn from_parts(request_id: &str, pairs: &[(&str, &str)]) -> Result<Self, ValidationError> {
        let mut q = Self::new(request_id)?;
        let get = |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.trim());
        let number = |v: &str, description| {
            v.parse::<u32>()
                .map_err(|_| ValidationError::bank(description))
        };
        q.limit = get("limit")
            .map(|v| number(v, "limit must be a whole number"))
            .transpose()?;
        q.offset = get("offset")
            .map(|v| number(v, "offset must be a whole number"))
            .transpose()?;
        Ok(q)
    }

    /// The requestId, as given.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    /// `limit`, when set.
    pub fn limit(&self) -> Option<u32> {
        self.limit
    }
    /// `offset`, when set.
    pub fn offset(&self) -> Option<u32> {
        self.offset
    }
}

/// An error answer of the bank (`error`, `error_description`), or a bodiless error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ProviderError {
    /// 400 `invalid_request`: wrong input parameters.
    #[error("400 invalid_request: {}", description.as_deref().unwrap_or("wrong request parameters"))]
    InvalidRequest {
        /// `error_description`.
        description: Option<String>,
    },
    /// 401 `invalid_token`: the bearer is expired, revoked, malformed or invalid.
    #[error("401 invalid_token: the bearer token is expired, revoked or invalid")]
    InvalidToken {
        /// `error_description`.
        description: Option<String>,
    },
    /// 403 `insufficient_scope`: the token lacks `as-operation-with-selfemployed`.
    #[error("403 insufficient_scope: the token lacks the scope")]
    InsufficientScope {
        /// `error_description`.
        description: Option<String>,
    },
    /// 403 `access_denied`: access to the account is denied.
    #[error("403 access_denied")]
    AccessDenied {
        /// `error_description`.
        description: Option<String>,
    },
    /// 404 `unknown_endpoint`: endpoint not found or not active.
    #[error("404 unknown_endpoint")]
    UnknownEndpoint {
        /// `error_description`.
        description: Option<String>,
    },
    /// 500 `internal_error`.
    #[error("500 internal_error")]
    InternalError {
        /// `error_description`.
        description: Option<String>,
    },
    /// An error status with no body ("Нет тела ответа").
    #[error("HTTP {status} without a body")]
    Bodiless {
        /// The HTTP status.
        status: u16,
    },
    /// proverka's own check, not the bank's: the pages of a registry held fewer people than
    /// its `pagination.totalCount` (a page came back empty or short before the total was
    /// reached). [`AlfaClient::fetch_all`] returns this rather than a silently short list.
    #[error(
        "the registry's pages held {received} people of the {expected} its totalCount announced"
    )]
    Incomplete {
        /// `pagination.totalCount`.
        expected: i64,
        /// People received over all pages.
        received: usize,
    },
    /// A status or `error` value the page does not list.
    #[error("HTTP {status} {error}")]
    Other {
        /// The HTTP status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
}

impl Failure for ProviderError {
    /// The bank does not bill status queries.
    fn charged(&self) -> Charged {
        Charged::No
    }
    /// Server-side failures and rate limiting (429).
    fn retryable(&self) -> bool {
        match self {
            Self::InternalError { .. } | Self::Incomplete { .. } => true,
            Self::Bodiless { status } | Self::Other { status, .. } => {
                *status >= 500 || *status == 429
            }
            _ => false,
        }
    }
    fn code(&self) -> String {
        self.error_code()
    }
}

impl ProviderError {
    /// The `error` code, or the HTTP status for bodiless errors.
    pub fn error_code(&self) -> String {
        match self {
            Self::InvalidRequest { .. } => "invalid_request".into(),
            Self::InvalidToken { .. } => "invalid_token".into(),
            Self::InsufficientScope { .. } => "insufficient_scope".into(),
            Self::AccessDenied { .. } => "access_denied".into(),
            Self::UnknownEndpoint { .. } => "unknown_endpoint".into(),
            Self::InternalError { .. } => "internal_error".into(),
            Self::Bodiless { status } => status.to_string(),
            Self::Other { error, .. } => error.clone(),
            Self::Incomplete { .. } => "proverka_incomplete".into(),
        }
    }
}

/// The error of every [`AlfaClient`] call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

/// Reads a bank answer.
///
/// # Errors
/// [`Error::Provider`] for error statuses, [`Error::Malformed`] for bodies that are not the
/// bank's JSON.
pub fn parse(raw: &RawAnswer) -> Result<Registry, Error> {
    let malformed = |f: fn(Provider, u16, &[u8]) -> MalformedAnswer| {
        Error::Malformed(f(Provider::Alfa, raw.status, &raw.body))
    };
    let body = proverka_core::json_body(&raw.body);
    if raw.status == 200 {
        let valid_json = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        return serde_json::from_slice::<Registry>(body).map_err(|_| {
            if valid_json() {
                malformed(MalformedAnswer::unexpected_shape)
            } else {
                malformed(MalformedAnswer::describe)
            }
        });
    }
    if body.is_empty() {
        return Err(Error::Provider(ProviderError::Bodiless {
            status: raw.status,
        }));
    }
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return Err(malformed(MalformedAnswer::describe));
    };
    let Some(error) = map.remove("error").and_then(lenient::text_of) else {
        return Err(malformed(MalformedAnswer::unexpected_shape));
    };
    let description = map.remove("error_description").and_then(lenient::text_of);
    Err(Error::Provider(match error.as_str() {
        "invalid_request" => ProviderError::InvalidRequest { description },
        "invalid_token" => ProviderError::InvalidToken { description },
        "insufficient_scope" => ProviderError::InsufficientScope { description },
        "access_denied" => ProviderError::AccessDenied { description },
        "unknown_endpoint" => ProviderError::UnknownEndpoint { description },
        "internal_error" => ProviderError::InternalError { description },
        _ => ProviderError::Other {
            status: raw.status,
            error,
            description,
        },
    }))
}

/// The cache decision: a list in a terminal status is kept for [`TERMINAL_TTL`], one still in
/// progress for [`IN_PROGRESS_TTL`]; errors never.
pub fn judge(raw: &RawAnswer) -> Verdict {
    // The bank does not bill status calls: whatever comes back cost nothing.
    Verdict::of(parse(raw), |registry| {
        (
            Billed::No,
            if registry.is_settled() {
                TERMINAL_TTL
            } else {
                IN_PROGRESS_TTL
            },
        )
    })
    .on_free_query()
}

impl Lookup for RegistryQuery {
    fn provider(&self) -> Provider {
        Provider::Alfa
    }
    fn query_kind(&self) -> &'static str {
        "registry"
    }
    /// The requestId and the page: an entry holds passport data, so it is reachable only
    /// with the same requestId and page (and, in the proxy, an accepted bearer).
    fn cache_key(&self) -> CacheKey {
        CacheKey::builder(Provider::Alfa, "add-selfemployed")
            .exact("requestId", self.request_id.clone())
            .optional_exact("limit", self.limit.map(|l| l.to_string()))
            .optional_exact("offset", self.offset.map(|o| o.to_string()))
            .build()
    }
    fn cost(&self) -> proverka_core::Cost {
        proverka_core::Cost::Free
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(format!("{PATH_PREFIX}{}", self.request_id))
            .optional("limit", self.limit.map(|l| l.to_string()))
            .optional("offset", self.offset.map(|o| o.to_string()))
    }
    fn judge(&self, raw: &RawAnswer) -> Verdict {
        judge(raw)
    }
    fn render(&self, raw: &RawAnswer) -> Result<Value, proverka_core::RenderError> {
        proverka_core::render_model(parse(raw))
    }
}

/// A client of the registry status API. The bearer is given with each call.
///
/// ```no_run
/// use proverka_alfa::{AlfaClient, Environment};
/// use proverka_core::Secret;
/// # async fn run() -> Result<(), proverka_alfa::Error> {
/// let client = AlfaClient::builder().base_url(Environment::Sandbox.base_url()).build()?;
/// let bearer = Secret::new(std::env::var("ALFA_BEARER").unwrap_or_default());
/// let all = client.fetch_all(&bearer, "4e817e78-5876-4608-a873-bcc141454045", 1000).await?;
/// println!("{:?}: {} people", all.list_status, all.selfemployed_account.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AlfaClient {
    http: HttpClient,
}

/// Builds an [`AlfaClient`]: see [`ClientBuilder`] (no credential: bearers go with each call).
pub type AlfaClientBuilder = ClientBuilder<AlfaClient>;

impl Connect for AlfaClient {
    const PROVIDER: Provider = Provider::Alfa;
    const DEFAULT_BASE_URL: &'static str = PRODUCTION_BASE_URL;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;

    fn check_credential(_: Option<&Secret>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn from_parts(http: HttpClient, _: Option<Secret>) -> Self {
        Self { http }
    }
}

impl AlfaClient {
    /// A builder with the production host.
    pub fn builder() -> AlfaClientBuilder {
        ClientBuilder::default()
    }

    /// Sends a query with `bearer` and returns the answer as it came.
    ///
    /// # Errors
    /// [`TransportError`] when no answer arrived.
    pub async fn fetch_raw<L: Lookup + ?Sized>(
        &self,
        bearer: &Secret,
        lookup: &L,
    ) -> Result<RawAnswer, TransportError> {
        self.http
            .get(&lookup.upstream_request(), Auth::Bearer(bearer))
            .await
    }

    /// One page of a registry.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn registry(
        &self,
        bearer: &Secret,
        query: &RegistryQuery,
    ) -> Result<Registry, Error> {
        parse(&self.fetch_raw(bearer, query).await?)
    }

    /// Every page of a registry, merged: the first page's fields with all accounts. Either
    /// every page or an error: never a silently short list.
    ///
    /// Walks `offset` by the records each page returned until `totalCount` is reached (or,
    /// when the bank sends no total, until a page comes back empty). A page that comes back
    /// empty before the total, or more than `totalCount / page_size + 1` pages, ends in
    /// [`ProviderError::Incomplete`]: a total that disagrees with the pages never loops
    /// forever and never passes for a whole list.
    ///
    /// # Errors
    /// A bad requestId or page size, the first failing page's error, or
    /// [`ProviderError::Incomplete`].
    pub async fn fetch_all(
        &self,
        bearer: &Secret,
        request_id: &str,
        page_size: u32,
    ) -> Result<Registry, Error> {
        let base = RegistryQuery::new(request_id).map_err(Error::Invalid)?;
        if page_size == 0 {
            return Err(Error::Invalid(ValidationError::own(
                "page_size must be at least 1 to walk the pages (proverka's own rule)",
            )));
        }
        let mut merged: Option<Registry> = None;
        let mut offset: u32 = 0;
        let mut pages = 0u64;
        // Without a total, a list of more than this many pages is not believed.
        const MAX_PAGES_WITHOUT_TOTAL: u64 = 1000;
        loop {
            let q = base.clone().page(page_size, offset);
            let mut page = self.registry(bearer, &q).await?;
            pages += 1;
            let got = page.selfemployed_account.len();
            let page_total = page.pagination.as_ref().and_then(|p| p.total_count);
            let accounts = std::mem::take(&mut page.selfemployed_account);
            let all = merged.get_or_insert(page);
            all.selfemployed_account.extend(accounts);
            let total = all
                .pagination
                .as_ref()
                .and_then(|p| p.total_count)
                .or(page_total);
            offset = offset.saturating_add(u32::try_from(got).unwrap_or(u32::MAX));
            let received = all.selfemployed_account.len();
            match total {
                Some(t) if i64::try_from(received).unwrap_or(i64::MAX) >= t => {
                    return Ok(merged.unwrap_or_default());
                }
                Some(t) => {
                    let max_pages = u64::try_from(t).unwrap_or(0) / u64::from(page_size) + 1;
                    if got == 0 || pages >= max_pages || offset == u32::MAX {
                        return Err(Error::Provider(ProviderError::Incomplete {
                            expected: t,
                            received,
                        }));
                    }
                }
                None if got == 0 => return Ok(merged.unwrap_or_default()),
                None if pages >= MAX_PAGES_WITHOUT_TOTAL || offset == u32::MAX => {
                    return Err(Error::Provider(ProviderError::Incomplete {
                        expected: i64::try_from(received)
                            .unwrap_or(i64::MAX)
                            .saturating_add(1),
                        received,
                    }));
                }
                None => {}
            }
        }
    }
}
