//! Errors: where a failure came from, whether the provider charged, whether a retry helps.

use std::error::Error as StdError;
use std::fmt;

use crate::{Billed, Provider};

/// Where a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorSource {
    /// The client's configuration (base URL, token) was rejected before any call.
    Config,
    /// Our own validation rejected the query before any network call: nothing was spent.
    Validation,
    /// The network or HTTP layer: connect, timeout, reading the body.
    Network,
    /// The provider answered with one of its documented errors.
    Provider,
    /// The provider answered something that is not its JSON (HTML, empty, truncated).
    Decode,
}

/// Whose rule refused a query before the network: the provider's page, or proverka's own.
///
/// Refusals by the page answer exactly as the provider would (its code and message). Refusals
/// by proverka's own rules (a query the provider would accept but bill with a meaning the
/// caller did not ask for, or that no real value can have) say so: their provider-style bodies
/// carry the marker `proverka` in place of a provider code, so nobody mistakes them for the
/// provider's. Each is listed in `docs/providers/<provider>.md` with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusedBy {
    /// The provider's page documents this refusal (code and message as the provider's).
    Provider,
    /// proverka's own rule, documented as such.
    Proverka,
}

impl RefusedBy {
    /// The code a provider-style body carries for proverka's own refusals.
    pub const MARKER: &'static str = "proverka";
}

/// Whether the provider billed a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Charged {
    /// Certainly not billed.
    No,
    /// Billed.
    Yes,
    /// Cannot be known (a timeout after the request left: the provider may have processed it).
    Unknown,
}

/// What every provider-specific error type tells about itself.
pub trait Failure: StdError + Send + Sync + 'static {
    /// Whether the provider billed it.
    fn charged(&self) -> Charged;
    /// Whether sending the same query again may succeed.
    fn retryable(&self) -> bool;
    /// The provider's code for it, as text (`"456"`, `"40301"`, `"invalid_token"`): what
    /// metrics and [`Verdict::ProviderError`](crate::Verdict::ProviderError) carry.
    fn code(&self) -> String;
}

/// The error of every adapter's client: `V` is its validation error, `P` its provider error
/// (each adapter names `type Error = proverka_core::Error<ValidationError, ProviderError>`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<V, P> {
    /// The client was built with a bad base URL, a missing token, …
    Config(ConfigError),
    /// The query was rejected locally; nothing was sent or spent.
    Invalid(V),
    /// The request could not be completed.
    Transport(TransportError),
    /// The provider answered with a documented error.
    Provider(P),
    /// The provider answered something that is not its JSON.
    Malformed(MalformedAnswer),
}

impl<V: StdError + 'static, P: Failure> Error<V, P> {
    /// Where the failure came from.
    pub fn source_kind(&self) -> ErrorSource {
        match self {
            Self::Config(_) => ErrorSource::Config,
            Self::Invalid(_) => ErrorSource::Validation,
            Self::Transport(_) => ErrorSource::Network,
            Self::Provider(_) => ErrorSource::Provider,
            Self::Malformed(_) => ErrorSource::Decode,
        }
    }

    /// Whether the provider billed the failed call.
    pub fn charged(&self) -> Charged {
        match self {
            Self::Config(_) | Self::Invalid(_) => Charged::No,
            Self::Transport(e) => e.charged(),
            Self::Provider(p) => p.charged(),
            Self::Malformed(m) => match m.billed() {
                Billed::No => Charged::No,
                Billed::Yes(_) => Charged::Yes,
                Billed::Unknown => Charged::Unknown,
            },
        }
    }

    /// Whether sending the same query again may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Config(_) | Self::Invalid(_) => false,
            Self::Transport(e) => e.retryable(),
            Self::Provider(p) => p.retryable(),
            Self::Malformed(m) => m.retryable(),
        }
    }
}

impl<V: fmt::Display, P: fmt::Display> fmt::Display for Error<V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "configuration: {e}"),
            Self::Invalid(e) => write!(f, "invalid query (nothing sent): {e}"),
            Self::Transport(e) => e.fmt(f),
            Self::Provider(e) => write!(f, "provider error: {e}"),
            Self::Malformed(e) => e.fmt(f),
        }
    }
}

impl<V, P> StdError for Error<V, P>
where
    V: StdError + 'static,
    P: StdError + 'static,
{
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Invalid(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Provider(e) => Some(e),
            Self::Malformed(e) => Some(e),
        }
    }
}

impl<V, P> From<TransportError> for Error<V, P> {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl<V, P> From<ConfigError> for Error<V, P> {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl<V, P> From<MalformedAnswer> for Error<V, P> {
    fn from(e: MalformedAnswer) -> Self {
        Self::Malformed(e)
    }
}

/// A client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL does not parse.
    #[error("base URL is not a valid URL")]
    BadUrl,
    /// The base URL is plain HTTP to a host that is not loopback. FSSP processes a request
    /// redirected from HTTP to HTTPS twice (a double charge), and tokens travel in the query.
    #[error("base URL must use https (plain http is allowed only for loopback hosts)")]
    InsecureUrl,
    /// A required credential is missing or malformed.
    #[error("credential {name} is missing or malformed: {reason}")]
    Credential {
        /// The credential's name (`token`, `key`, `bearer`).
        name: &'static str,
        /// What is wrong with it (never the value).
        reason: &'static str,
    },
    /// The HTTP client could not be created (TLS setup).
    #[error("HTTP client could not be created")]
    Client,
}

/// What went wrong in the network or HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (DNS, refused, TLS handshake).
    Connect,
    /// The provider did not answer within the timeout.
    Timeout,
    /// The connection broke while the request or the body was in flight.
    Interrupted,
    /// The provider redirected; redirects are never followed (see [`ConfigError::InsecureUrl`]).
    Redirect,
    /// The answer's body was larger than the client's `max_body_bytes`: reading stopped there.
    /// The provider may have billed it.
    TooLarge,
    /// The only source configured for the question (a free source in place of the paid
    /// provider) failed or refused: the provider named was not asked. Not re-sent
    /// automatically: the source rests after a refusal.
    SourceFailed,
    /// Anything else reqwest reported.
    Other,
}

impl TransportErrorKind {
    /// Every kind, for lookups by name.
    const ALL: [Self; 7] = [
        Self::Connect,
        Self::Timeout,
        Self::Interrupted,
        Self::Redirect,
        Self::TooLarge,
        Self::SourceFailed,
        Self::Other,
    ];

    /// The kind's name, as it is serialised (`"timeout"`, `"too_large"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Interrupted => "interrupted",
            Self::Redirect => "redirect",
            Self::TooLarge => "too_large",
            Self::SourceFailed => "source_failed",
            Self::Other => "other",
        }
    }

    /// The kind named `name` ([`as_str`](Self::as_str)'s), `None` for another name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A request that did not complete. Its `Display` names the provider and the path, never
/// the query string (which holds the token and personal data).
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    provider: Provider,
    path: String,
    sent: bool,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// A transport error; `sent` says whether the request may have reached the provider.
    pub fn new(
        kind: TransportErrorKind,
        provider: Provider,
        path: impl Into<String>,
        sent: bool,
        source: Option<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            provider,
            path: path.into(),
            sent,
            source,
        }
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The provider's path the request went to (no query string).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The provider that was being called.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Whether the provider may have billed the call: only if the request may have reached it.
    pub fn charged(&self) -> Charged {
        if self.sent {
            Charged::Unknown
        } else {
            Charged::No
        }
    }

    /// Timeouts, failed connects and broken connections may succeed when sent again.
    pub fn retryable(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::Redirect
                | TransportErrorKind::TooLarge
                | TransportErrorKind::SourceFailed
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportErrorKind::Connect => "could not connect to",
            TransportErrorKind::Timeout => "timed out waiting for",
            TransportErrorKind::Interrupted => "connection broken while talking to",
            TransportErrorKind::Redirect => "refused a redirect from",
            TransportErrorKind::TooLarge => "stopped reading an over-large answer from",
            TransportErrorKind::SourceFailed => "the free source failed in place of",
            TransportErrorKind::Other => "request failed to",
        };
        write!(f, "{what} {} ({})", self.provider, self.path)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The provider answered something that cannot be read as its answer: an HTML page (a
/// captcha, a proxy's error page), an empty or truncated body, JSON of an unknown shape, or a
/// billed answer without its result. Never a "no result".
///
/// Whether it was billed follows from the HTTP status (see [`MalformedAnswer::billed`]):
/// after an HTTP 200 the provider may well have billed it, so it is [`Billed::Unknown`] and
/// never re-sent automatically; a gateway's 502/503/504 never reached the provider's billing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider} answered HTTP {status} with {what}, not a readable answer ({len} bytes)")]
pub struct MalformedAnswer {
    /// The provider.
    pub provider: Provider,
    /// The HTTP status.
    pub status: u16,
    /// What was seen: `"an empty body"`, `"an HTML page"`, `"invalid JSON"` …
    pub what: &'static str,
    /// The body's length (the body itself is not kept here: it may hold personal data).
    pub len: usize,
    /// Set where the provider's page says such an answer is billed (NPD `success = 1`).
    pub known_billed: Option<Billed>,
}

impl MalformedAnswer {
    /// Describes a body that is not usable JSON (a byte-order mark and whitespace around the
    /// JSON are not reasons: see [`json_body`](crate::json_body)).
    pub fn describe(provider: Provider, status: u16, body: &[u8]) -> Self {
        let trimmed = crate::json_body(body);
        let what = if trimmed.is_empty() {
            "an empty body"
        } else if trimmed.starts_with(b"<") {
            "an HTML page"
        } else {
            "invalid JSON"
        };
        Self {
            provider,
            status,
            what,
            len: body.len(),
            known_billed: None,
        }
    }

    /// Valid JSON that is none of the shapes the provider documents (`{}`, `[]`, `"ok"`).
    pub fn unexpected_shape(provider: Provider, status: u16, body: &[u8]) -> Self {
        Self {
            provider,
            status,
            what: "JSON of an unknown shape",
            len: body.len(),
            known_billed: None,
        }
    }

    /// The provider's JSON, but without the result a query is paid for (NPD `success = 1`
    /// with no readable `found`, FSSP's `{"status":200,"message":"Источник не доступен"}`),
    /// billed as the caller knows from the body or the provider's page: not an answer, never
    /// stored, never re-sent.
    pub fn without_result(provider: Provider, status: u16, body: &[u8], billed: Billed) -> Self {
        Self {
            provider,
            status,
            what: "the provider's JSON without a result",
            len: body.len(),
            known_billed: Some(billed),
        }
    }

    /// Whether the provider billed it: as its page says where it does; otherwise
    /// [`Billed::No`] only for a gateway's HTTP 502, 503 or 504 (the request never reached the
    /// provider's billing), [`Billed::Unknown`] for everything else (an HTTP 200 that cannot be
    /// read may have been billed).
    pub fn billed(&self) -> Billed {
        match (self.known_billed, self.status) {
            (Some(b), _) => b,
            (None, 502..=504) => Billed::No,
            (None, _) => Billed::Unknown,
        }
    }

    /// Whether asking again later may bring a readable answer: yes (a captcha page, a
    /// truncated body or a gateway error is transient). Whether proverka may ask again *by
    /// itself* is a separate question, answered by [`MalformedAnswer::billed`]: only when free.
    pub fn retryable(&self) -> bool {
        true
    }
}

/// Why a body is not a usable answer, as an adapter's parser tells it: one of the provider's
/// own error bodies (`P`), or a body that is not the provider's JSON. The client maps it to
/// its [`Error`]; the lookup to a [`Verdict`](crate::Verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAnAnswer<P> {
    /// One of the provider's error bodies.
    Provider(P),
    /// Not the provider's JSON (or not the shape its page shows).
    Malformed(MalformedAnswer),
}

impl<V, P> From<NotAnAnswer<P>> for Error<V, P> {
    fn from(e: NotAnAnswer<P>) -> Self {
        match e {
            NotAnAnswer::Provider(p) => Self::Provider(p),
            NotAnAnswer::Malformed(m) => Self::Malformed(m),
        }
    }
}

#[cfg(test)]
mod transport_kind_names {
    use super::TransportErrorKind;

    #[test]
    fn a_kind_s_name_is_its_serialised_name_and_reads_back() {
        for kind in TransportErrorKind::ALL {
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
            assert_eq!(TransportErrorKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(TransportErrorKind::from_name("teapot"), None);
    }
}
