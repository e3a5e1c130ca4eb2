//! # proverka-npd
//!
//! A typed, validated client for the api-assist.com NPD check (налог на профессиональный
//! доход): is an individual's INN registered as a self-employed tax payer on a date?
//!
//! - [`NpdQuery`] takes a 12-digit INN with valid check digits and an optional date; a missing
//!   date is resolved to today in Moscow *before* the query is sent or keyed, so yesterday's
//!   answer is never served as today's. Future dates are refused locally.
//! - Only `success = 1` is charged and cached. `success = 0`, or a body with neither `success`
//!   nor `error`, is [`ProviderError::SourceUnavailable`]: retry, never "not self-employed".
//! - 403 codes 40301–40305 and 400 code 40000 are [`ProviderError`] variants.
//!
//! ```
//! use proverka_core::Date;
//! use proverka_npd::NpdQuery;
//! let q = NpdQuery::parse("540304378234", Some("2022-01-01"))?;
//! assert_eq!(q.date(), Date::from_ymd(2022, 1, 1).unwrap());
//! assert!(NpdQuery::parse("7707083893", None).is_err()); // a legal entity's INN
//! # Ok::<(), proverka_npd::ValidationError>(())
//! ```

mod adapter;

use std::time::{Duration, SystemTime};

pub use adapter::NpdAdapter;

use proverka_core::lenient;
use proverka_core::{
    Auth, Billed, CacheKey, Charged, ClientBuilder, ConfigError, Connect, Date, Failure,
    HttpClient, Inn, InnError, Lookup, MalformedAnswer, Provider, RawAnswer, RefusedBy,
    RetryPolicy, Secret, TransportError, UpstreamRequest, Verdict, require_credential,
};
use serde_json::Value;

/// The provider's host.
pub const DEFAULT_BASE_URL: &str = "https://service.api-assist.com";
/// The path of the check.
pub const PATH: &str = "/parser/nalog_npd_api/";
/// The timeout unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an answer for a past date is kept: the status on a day gone by does not change.
pub const PAST_DATE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// One NPD status check: an individual's INN on a (resolved) date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NpdQuery {
    inn: Inn,
    date: Date,
}

/// A query refused locally: one the provider refuses with its 400 (`error_code = 40000`:
/// "Field inn is required", "Field date is invalid"), or one refused by proverka's own rule
/// ([`RefusedBy::Proverka`]: an INN that is no individual's INN, a date after today), which
/// says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}: {reason}")]
pub struct ValidationError {
    /// The provider's `error` text for this kind of failure.
    pub message: &'static str,
    /// What is wrong, in English.
    pub reason: &'static str,
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
}

impl ValidationError {
    /// The body the provider would answer with HTTP 400:
    /// `{"error":"Field inn is required","error_code":40000}`; for proverka's own rules
    /// `{"error":"proverka: …","error_code":"proverka"}`.
    pub fn provider_body(&self) -> String {
        match self.refused_by {
            RefusedBy::Provider => {
                serde_json::json!({"error": self.message, "error_code": 40000}).to_string()
            }
            RefusedBy::Proverka => serde_json::json!({
                "error": format!("{}: {}", RefusedBy::MARKER, self.reason),
                "error_code": RefusedBy::MARKER,
            })
            .to_string(),
        }
    }

    /// The HTTP status the provider uses for it.
    pub const HTTP_STATUS: u16 = 400;
}

/// No INN: the page's "Field inn is required". Anything else wrong with it: proverka's own
/// rule (the page: "ИНН физического лица, 12 цифр"; no error text of its own).
fn inn_error(e: InnError) -> ValidationError {
    ValidationError {
        refused_by: if e == InnError::Empty {
            RefusedBy::Provider
        } else {
            RefusedBy::Proverka
        },
        message: if e == InnError::Empty {
            "Field inn is required"
        } else {
            "Field inn is invalid"
        },
        reason: match e {
            InnError::Empty => "no INN given",
            InnError::WrongKind { .. } => "a 12-digit INN of an individual is required",
            InnError::Checksum => "INN check digits do not match",
            InnError::AllZeros => "INN of all zeros",
            _ => "INN must be 12 digits",
        },
    }
}

/// A malformed date: the page's "Field date is invalid".
fn date_error(reason: &'static str) -> ValidationError {
    ValidationError {
        message: "Field date is invalid",
        reason,
        refused_by: RefusedBy::Provider,
    }
}

impl NpdQuery {
    /// A check of `inn` on `date`, or today in Moscow when `date` is `None`.
    ///
    /// # Errors
    /// A 10-digit INN, or a date after today in Moscow.
    pub fn new(inn: Inn, date: Option<Date>) -> Result<Self, ValidationError> {
        if inn.kind() != proverka_core::InnKind::Individual {
            return Err(inn_error(InnError::WrongKind {
                expected: proverka_core::InnKind::Individual,
            }));
        }
        let today = Date::today_moscow();
        let date = date.unwrap_or(today);
        if date > today {
            // proverka's own rule: nobody's status is known for a day that has not come.
            return Err(ValidationError {
                refused_by: RefusedBy::Proverka,
                ..date_error("the date is in the future")
            });
        }
        Ok(Self { inn, date })
    }

    /// Reads an INN and an optional `YYYY-MM-DD` date.
    ///
    /// # Errors
    /// See [`NpdQuery::new`]; a malformed INN or date.
    pub fn parse(inn: &str, date: Option<&str>) -> Result<Self, ValidationError> {
        let inn = Inn::parse_individual(inn).map_err(inn_error)?;
        let date = match date.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(Date::parse_iso(d).map_err(|_| date_error("must be YYYY-MM-DD"))?),
            None => None,
        };
        Self::new(inn, date)
    }

    /// Reads provider-style parameters (`inn=…&date=…`; `key` ignored).
    ///
    /// # Errors
    /// See [`NpdQuery::parse`].
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ValidationError> {
        let get = |n: &str| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        Self::parse(get("inn").unwrap_or_default(), get("date"))
    }

    /// The INN.
    pub fn inn(&self) -> Inn {
        self.inn
    }

    /// The date asked about (resolved: never "today" implicitly).
    pub fn date(&self) -> Date {
        self.date
    }
}

/// An error answer of the NPD API, or an answer that means "ask again".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ProviderError {
    /// 40301 — Invalid access key.
    #[error("40301 Invalid access key")]
    InvalidAccessKey,
    /// 40302 — The subscription period has expired.
    #[error("40302 The subscription period has expired")]
    SubscriptionExpired,
    /// 40303 — Invalid IP: the caller's address is not allowed.
    #[error("40303 Invalid IP")]
    InvalidIp,
    /// 40304 — Day limit of requests exceeded.
    #[error("40304 Day limit of requests exceeded")]
    DayLimitExceeded,
    /// 40305 — Month limit of requests exceeded.
    #[error("40305 Month limit of requests exceeded")]
    MonthLimitExceeded,
    /// 40000 — a validation error; the text says which field.
    #[error("40000 {0}")]
    Validation(String),
    /// `success = 0`, or neither `success` nor `error`: the source did not answer. Not
    /// charged; ask again now or in a few minutes. Never means "not self-employed".
    #[error("the tax service did not answer (success = 0): ask again")]
    SourceUnavailable,
    /// A code or text the page does not list.
    #[error("NPD error {code:?}: {message:?}")]
    Other {
        /// `error_code`, if any.
        code: Option<i64>,
        /// `error`, if any.
        message: Option<String>,
    },
}

impl ProviderError {
    /// The provider's numeric code, where there is one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::InvalidAccessKey => Some(40301),
            Self::SubscriptionExpired => Some(40302),
            Self::InvalidIp => Some(40303),
            Self::DayLimitExceeded => Some(40304),
            Self::MonthLimitExceeded => Some(40305),
            Self::Validation(_) => Some(40000),
            Self::SourceUnavailable => None,
            Self::Other { code, .. } => *code,
        }
    }
}

impl Failure for ProviderError {
    /// Only `success = 1` answers are charged.
    fn charged(&self) -> Charged {
        Charged::No
    }
    /// Only a source that did not answer is worth asking again as is.
    fn retryable(&self) -> bool {
        matches!(self, Self::SourceUnavailable)
    }
    fn code(&self) -> String {
        ProviderError::code(self).map_or_else(|| "success=0".to_owned(), |c| c.to_string())
    }
}

/// The error of every [`NpdClient`] call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

/// A charged answer (`success = 1`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NpdStatus {
    /// `found`: whether the INN is a self-employed (НПД) tax payer on the date.
    pub self_employed: bool,
    /// Fields other than `success` and `found`.
    pub extra: lenient::Extra,
}

/// Reads an NPD body: `success = 1` is an answer, anything else an error.
///
/// # Errors
/// [`Error::Provider`] or [`Error::Malformed`].
pub fn parse(raw: &RawAnswer) -> Result<NpdStatus, Error> {
    let malformed = |f: fn(Provider, u16, &[u8]) -> MalformedAnswer| {
        Error::Malformed(f(Provider::Npd, raw.status, &raw.body))
    };
    let value: Value = serde_json::from_slice(proverka_core::json_body(&raw.body))
        .map_err(|_| malformed(MalformedAnswer::describe))?;
    let Value::Object(mut map) = value else {
        return Err(malformed(MalformedAnswer::unexpected_shape));
    };
    let success = map.remove("success").as_ref().and_then(lenient::int_of);
    let error = map.remove("error").and_then(lenient::text_of);
    let code = map.remove("error_code").as_ref().and_then(lenient::int_of);
    if success == Some(1) && raw.status == 200 {
        let found = match map.remove("found") {
            Some(Value::Bool(b)) => Some(b),
            Some(v) => lenient::int_of(&v)
                .filter(|n| *n == 0 || *n == 1)
                .map(|n| n == 1),
            None => None,
        };
        return match found {
            Some(self_employed) => Ok(NpdStatus {
                self_employed,
                extra: map.into_iter().collect(),
            }),
            // The page: only `success = 1` is charged. Billed, but not an answer.
            None => Err(Error::Malformed(MalformedAnswer::without_result(
                Provider::Npd,
                raw.status,
                &raw.body,
                Billed::Yes(None),
            ))),
        };
    }
    if error.is_none() && code.is_none() {
        if raw.status >= 500 {
            return Err(malformed(MalformedAnswer::unexpected_shape));
        }
        return Err(Error::Provider(ProviderError::SourceUnavailable));
    }
    Err(Error::Provider(match code {
        Some(40301) => ProviderError::InvalidAccessKey,
        Some(40302) => ProviderError::SubscriptionExpired,
        Some(40303) => ProviderError::InvalidIp,
        Some(40304) => ProviderError::DayLimitExceeded,
        Some(40305) => ProviderError::MonthLimitExceeded,
        Some(40000) => ProviderError::Validation(error.unwrap_or_default()),
        code => ProviderError::Other {
            code,
            message: error,
        },
    }))
}

/// How long an answer about `date` stays true, seen at `now`: a past date for
/// [`PAST_DATE_TTL`], today until the end of the Moscow day.
pub fn keep_for(date: Date, now: SystemTime) -> Duration {
    if date < Date::moscow_date_at(now) {
        PAST_DATE_TTL
    } else {
        date.until_end_of_moscow_day(now)
    }
}

/// The cache decision for an answer to `query`.
pub fn judge(query: &NpdQuery, raw: &RawAnswer) -> Verdict {
    Verdict::of(parse(raw), |_| {
        (Billed::Yes(None), keep_for(query.date, SystemTime::now()))
    })
}

impl Lookup for NpdQuery {
    fn provider(&self) -> Provider {
        Provider::Npd
    }
    fn query_kind(&self) -> &'static str {
        "status"
    }
    fn cache_key(&self) -> CacheKey {
        CacheKey::builder(Provider::Npd, "npd")
            .exact("inn", self.inn.to_string())
            .exact("date", self.date.to_iso())
            .build()
    }
    fn cost(&self) -> proverka_core::Cost {
        proverka_core::Cost::Paid { typical: None }
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(PATH)
            .param("inn", self.inn.to_string())
            .param("date", self.date.to_iso())
    }
    fn judge(&self, raw: &RawAnswer) -> Verdict {
        judge(self, raw)
    }
    fn render(&self, raw: &RawAnswer) -> Result<Value, proverka_core::RenderError> {
        proverka_core::render_model(parse(raw))
    }
}

/// A client of the NPD check.
///
/// ```no_run
/// use proverka_npd::{NpdClient, NpdQuery};
/// # async fn run() -> Result<(), proverka_npd::Error> {
/// let client = NpdClient::builder().token("…").build()?;
/// let q = NpdQuery::parse("540304378234", None).map_err(proverka_npd::Error::Invalid)?;
/// let status = client.check_retrying(&q, &Default::default()).await?;
/// println!("self-employed on {}: {}", q.date(), status.self_employed);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct NpdClient {
    http: HttpClient,
    key: Secret,
}

/// Builds an [`NpdClient`]: see [`ClientBuilder`] (its `token` is the access `key`).
pub type NpdClientBuilder = ClientBuilder<NpdClient>;

impl Connect for NpdClient {
    const PROVIDER: Provider = Provider::Npd;
    const DEFAULT_BASE_URL: &'static str = DEFAULT_BASE_URL;
    const DEFAULT_TIMEOUT: Duration = DEFAULT_TIMEOUT;

    fn check_credential(key: Option<&Secret>) -> Result<(), ConfigError> {
        require_credential(key, "key")
    }

    fn from_parts(http: HttpClient, key: Option<Secret>) -> Self {
        Self {
            http,
            key: key.unwrap_or_else(|| Secret::new("")),
        }
    }
}

impl NpdClient {
    /// A builder with the provider's host.
    pub fn builder() -> NpdClientBuilder {
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
        self.http
            .get(&lookup.upstream_request(), Auth::Query("key", &self.key))
            .await
    }

    /// One check.
    ///
    /// # Errors
    /// See [`Error`]; `success = 0` is [`ProviderError::SourceUnavailable`].
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
