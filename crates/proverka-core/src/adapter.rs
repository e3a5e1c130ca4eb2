//! [`Adapter`]: everything a provider crate tells the proxy about itself, once.
//!
//! The proxy is built from a list of adapters (the registry in the `proverka` crate) and names
//! no provider itself: routes, configuration sections, environment variables, metric labels,
//! the OpenAPI document and the simulators' credentials all come from here. A new provider is
//! its own crate implementing this trait, a [`Provider`] name and one registry line.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::{
    Charged, CodeMeaning, ConfigError, Error, ErrorSource, Failure, Lookup, Money, Provider, Secret,
};

/// How the provider's credential travels upstream, and so who may hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStyle {
    /// A query parameter (`token`, `key`). The proxy may hold it (then it injects it and one
    /// cache is shared by every client, and the parameter is free to carry a client key); or
    /// the caller sends it in the same parameter (passed through, entries partitioned by it).
    QueryParam(&'static str),
    /// `Authorization: Bearer …`, always the caller's own: entries are partitioned by it, so a
    /// cached answer reaches only a bearer the provider accepted for that query.
    CallerBearer,
    /// None: a free public service. One cache is shared by every client.
    None,
}

/// A path the proxy serves for a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutePath {
    /// Exactly this path.
    Exact(&'static str),
    /// Every path starting with this; the rest (the tail) goes to [`Adapter::parse`].
    Prefix(&'static str),
}

impl RoutePath {
    /// The tail of `path` when this route serves it.
    pub fn tail<'a>(&self, path: &'a str) -> Option<&'a str> {
        match *self {
            Self::Exact(p) => (p == path).then_some(""),
            Self::Prefix(p) => path.strip_prefix(p),
        }
    }
}

/// The paths the proxy serves for a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routes {
    /// The provider's own paths (drop-in): same query, the provider's bytes back.
    pub drop_in: &'static [RoutePath],
    /// The typed path under `/v1/…`: the adapter's model as JSON.
    pub typed: RoutePath,
}

/// One of a provider's account endpoints (its balance, «баланс»): a read of the account the
/// credential belongs to, not of anyone's data. The proxy serves it at the provider's own
/// path and forwards it with its configured credential (or the caller's, when it holds none):
/// never cached, billed or budgeted, one ledger record per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRoute {
    /// The provider's own path, which the proxy serves too (FSSP: `/api/apilk.php`).
    pub path: &'static str,
    /// The parameter that names the operation (FSSP: `type`).
    pub operation: &'static str,
    /// The operations forwarded (FSSP: `balance`). A rule of proverka's, not the provider's:
    /// only reads known to cost nothing pass, since they go out unbudgeted on the proxy's
    /// credential; any other value is refused before any call.
    pub allowed: &'static [&'static str],
    /// One line about it, for the OpenAPI document and the docs.
    pub summary: &'static str,
}

/// What the provider's page says about the price of one paid answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagePrice {
    /// The provider does not charge.
    Free,
    /// Answers report their own price, at most this much (FSSP: 1.40 RUB).
    ReportedUpTo(Money),
    /// The customer's tariff decides: the configuration must say (`price_rub`) for a budget
    /// to be held.
    Tariff,
}

/// What a provider is, from its page, and how proverka serves it: stated once in its crate
/// (its `SPEC`), read by its client's builder (`Connect::SPEC`), by the proxy's registry and
/// the sandbox ([`Adapter::spec`]), so none of them can disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderSpec {
    /// Which provider.
    pub provider: Provider,
    /// The production base URL.
    pub base_url: &'static str,
    /// The whole-call timeout the page asks clients to allow.
    pub timeout: Duration,
    /// How its credential travels.
    pub credential: CredentialStyle,
    /// The price of one paid answer.
    pub price: PagePrice,
    /// How many calls a minute the provider allows from one IP address, where its page sets
    /// such a limit: the proxy then paces its calls (across replicas through Redis, as one
    /// egress address usually serves them all). `None`: no limit to pace.
    pub calls_per_minute: Option<u32>,
    /// What the provider answers a call without its credential, as its page shows it: the
    /// proxy answers so a caller that sends none (`None` for a provider that takes none).
    pub missing_credential: Option<PageReply>,
    /// The paths the proxy serves for it: the provider's own (drop-in) and its typed route.
    pub routes: Routes,
    /// Its typed API's operations, for the OpenAPI document.
    pub operations: &'static [TypedOperation],
    /// zstd dictionaries trained on its answers, newest first, that the shared cache tier
    /// compresses its answers with (`train-dictionaries` writes them into its crate): the
    /// first is written with, every one is read, so a retrained dictionary goes first and the
    /// older ones stay after it. Empty: plain zstd.
    pub dictionaries: &'static [&'static [u8]],
}

/// A reply a provider's page shows (status and JSON body), known before any call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReply {
    /// HTTP status.
    pub status: u16,
    /// JSON body, as the provider sends it.
    pub body: &'static str,
}

/// One incoming query for a provider, as the proxy received it.
#[derive(Debug, Clone, Copy)]
pub struct QueryInput<'a> {
    /// The rest of the path after a [`RoutePath::Prefix`] (empty for an exact route).
    pub tail: &'a str,
    /// The query string's parameters, percent-decoded, in order.
    pub pairs: &'a [(&'a str, &'a str)],
    /// Whether it came on the typed `/v1` route (else the provider's own path).
    pub typed: bool,
    /// When it came, on the front end's [`Clock`](crate::Clock): what "today" is for a
    /// date a query leaves out or may not pass (a status on a date that defaults to today).
    pub now: std::time::SystemTime,
}

/// A validated query.
#[derive(Clone)]
pub struct Parsed {
    /// The query, ready to be sent or served from the cache.
    pub lookup: Arc<dyn Lookup>,
    /// Whether the same query text always means the same query. `false` when something was
    /// implied from the clock (NPD's date defaults to today): the proxy then validates it
    /// anew each time instead of remembering it.
    pub stable: bool,
}

impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parsed")
            .field("provider", &self.lookup.provider())
            .field("query_kind", &self.lookup.query_kind())
            .field("stable", &self.stable)
            .finish()
    }
}

impl Parsed {
    /// A query whose text always means the same thing.
    pub fn stable(lookup: impl Lookup + 'static) -> Self {
        Self {
            lookup: Arc::new(lookup),
            stable: true,
        }
    }
}

/// An answer in the provider's own words (status and JSON body): what the provider would have
/// said to an invalid query or a missing credential, so a drop-in caller sees no difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

impl ProviderReply {
    /// A reply of `status` with `body`.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
        }
    }

    /// A reply of `status` with `body` as JSON text.
    pub fn json(status: u16, body: &Value) -> Self {
        Self::new(status, body.to_string())
    }
}

/// A query refused before any call (an adapter's `ValidationError`), answered in the
/// provider's own words: the status and body the provider gives such a query, or, for a rule
/// of proverka's own ([`RefusedBy::Proverka`](crate::RefusedBy::Proverka)), a body of the
/// provider's shape that says so.
pub trait ProviderRefusal {
    /// The HTTP status the provider answers a refused query with (some answer 200 and an
    /// error in the body).
    const HTTP_STATUS: u16;

    /// The JSON body the provider would answer with.
    fn provider_body(&self) -> String;

    /// The whole reply: [`Self::HTTP_STATUS`] and [`Self::provider_body`].
    fn provider_reply(&self) -> ProviderReply {
        ProviderReply::new(Self::HTTP_STATUS, self.provider_body())
    }
}

/// Why an answer could not be rendered as the adapter's model: the typed API's `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RenderError {
    /// Where the failure came from.
    pub source: ErrorSource,
    /// What happened, without secrets.
    pub message: String,
    /// Whether asking again may succeed.
    pub retryable: bool,
    /// Whether the provider billed it.
    pub charged: Charged,
}

/// Renders an adapter's parse result as the typed API's JSON: the model, or the error.
///
/// # Errors
/// [`RenderError`] when the answer is a provider error or unreadable.
pub fn render_model<T, V, P>(parsed: Result<T, Error<V, P>>) -> Result<Value, RenderError>
where
    T: Serialize,
    V: std::error::Error + 'static,
    P: Failure,
    Error<V, P>: fmt::Display,
{
    match parsed {
        Ok(model) => Ok(serde_json::to_value(model).unwrap_or(Value::Null)),
        Err(e) => Err(RenderError {
            source: e.source_kind(),
            message: e.to_string(),
            retryable: e.retryable(),
            charged: e.charged(),
        }),
    }
}

/// What values a typed operation's parameter takes, as the provider's page states them: the
/// parameter's schema in the OpenAPI document (a client generated from it checks them before
/// sending; the proxy checks them again, as the adapter's validation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamFormat {
    /// Any text.
    Text,
    /// Text matching a regular expression (ECMA 262, as JSON Schema reads it).
    Pattern(&'static str),
    /// A calendar date, `YYYY-MM-DD`.
    IsoDate,
    /// An integer between two bounds, both included.
    Integer {
        /// The least value allowed.
        min: i64,
        /// The greatest value allowed.
        max: i64,
    },
    /// One of a fixed list of values.
    OneOf(&'static [&'static str]),
}

impl ParamFormat {
    /// The JSON Schema of the parameter's value.
    pub fn schema(self) -> Value {
        match self {
            Self::Text => serde_json::json!({"type": "string"}),
            Self::Pattern(pattern) => serde_json::json!({"type": "string", "pattern": pattern}),
            Self::IsoDate => serde_json::json!({"type": "string", "format": "date"}),
            Self::Integer { min, max } => {
                serde_json::json!({"type": "integer", "minimum": min, "maximum": max})
            }
            Self::OneOf(values) => serde_json::json!({"type": "string", "enum": values}),
        }
    }
}

/// One parameter of a typed operation, for the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedParam {
    /// Its name.
    pub name: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// In the path (`{name}`) rather than the query string.
    pub in_path: bool,
    /// What it means, with the provider's Russian term where it helps.
    pub description: &'static str,
    /// What values it takes ([`ParamFormat::Text`] unless the page says more).
    pub format: ParamFormat,
}

impl TypedParam {
    /// An optional query parameter.
    pub const fn optional(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            required: false,
            in_path: false,
            description,
            format: ParamFormat::Text,
        }
    }

    /// A required query parameter.
    pub const fn required(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            required: true,
            in_path: false,
            description,
            format: ParamFormat::Text,
        }
    }

    /// A path parameter (always required).
    pub const fn path(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            required: true,
            in_path: true,
            description,
            format: ParamFormat::Text,
        }
    }

    /// The same parameter, taking the values `format` allows.
    #[must_use]
    pub const fn taking(self, format: ParamFormat) -> Self {
        Self { format, ..self }
    }
}

/// Writes the JSON Schema of a typed operation's `result` into a generator (its definitions
/// become the document's components) and returns the schema or a reference to it.
pub type ResultSchema = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// A [`ResultSchema`] for a model type: `schema_of::<NpdStatus>`.
pub fn schema_of<T: schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// One operation of the typed API, for the OpenAPI document.
#[derive(Debug, Clone)]
pub struct TypedOperation {
    /// Its path (`/v1/…`, path parameters as `{name}`).
    pub path: Cow<'static, str>,
    /// One line about it.
    pub summary: Cow<'static, str>,
    /// Its parameters.
    pub params: Cow<'static, [TypedParam]>,
    /// The schema of its answer's `result`: the model the query renders.
    pub result: ResultSchema,
}

/// Two operations are the same when their paths, summaries and parameters are: the result
/// schemas are functions, which cannot be compared meaningfully (one path renders one model).
impl PartialEq for TypedOperation {
    fn eq(&self, other: &Self) -> bool {
        (&self.path, &self.summary, &self.params) == (&other.path, &other.summary, &other.params)
    }
}

impl Eq for TypedOperation {}

impl TypedOperation {
    /// An operation at `path` (a constant: a provider's [`ProviderSpec::operations`]) whose
    /// `result` is described by `result` ([`schema_of`]).
    pub const fn new(
        path: &'static str,
        summary: &'static str,
        params: &'static [TypedParam],
        result: ResultSchema,
    ) -> Self {
        Self {
            path: Cow::Borrowed(path),
            summary: Cow::Borrowed(summary),
            params: Cow::Borrowed(params),
            result,
        }
    }
}

/// A provider as the proxy sees it. Object-safe: the proxy holds `Arc<dyn Adapter>`s.
pub trait Adapter: Send + Sync + fmt::Debug {
    /// What the provider is: defaults, credential, price, pacing (its crate's `SPEC`).
    fn spec(&self) -> ProviderSpec;

    /// Which provider.
    fn provider(&self) -> Provider {
        self.spec().provider
    }

    /// How its credential travels.
    fn credential(&self) -> CredentialStyle {
        self.spec().credential
    }

    /// The paths the proxy serves for it (its spec's).
    fn routes(&self) -> Routes {
        self.spec().routes
    }

    /// The provider's own paths its queries go to (what a simulator of it serves): by
    /// default the drop-in paths, which repeat them; a provider the proxy serves no drop-in
    /// route for names them here.
    fn upstream_paths(&self) -> Vec<RoutePath> {
        self.routes().drop_in.to_vec()
    }

    /// Checks a configured query-parameter credential as the provider would refuse it (FSSP:
    /// 32 characters, code 499), so a front end refuses to start with it instead of paying
    /// for refusals; the same check its client's builder makes (default: none).
    ///
    /// # Errors
    /// [`ConfigError::Credential`] for a malformed credential.
    fn check_credential(&self, credential: &Secret) -> Result<(), ConfigError> {
        let _ = credential;
        Ok(())
    }

    /// Validates one incoming query: a query ready to send, or the provider's own answer to
    /// the invalid one (nothing is sent, nothing is spent).
    ///
    /// # Errors
    /// The provider-style refusal.
    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply>;

    /// The provider's own answer to a query without its credential: its spec's
    /// [`missing_credential`](ProviderSpec::missing_credential) (a bare 401 for a provider
    /// that takes none, which the proxy never asks for).
    fn missing_credential(&self) -> ProviderReply {
        self.spec().missing_credential.map_or_else(
            || ProviderReply::new(401, "{}"),
            |r| ProviderReply::new(r.status, r.body),
        )
    }

    /// Its account endpoints (the balance), passed through by the proxy (default: none).
    fn account_routes(&self) -> Vec<AccountRoute> {
        Vec::new()
    }

    /// The typed API's operations, for the OpenAPI document (its spec's).
    fn operations(&self) -> Vec<TypedOperation> {
        self.spec().operations.to_vec()
    }

    /// What one of the provider's error codes means and what to do about it, for a code as
    /// its error's [`Failure::code`](crate::Failure::code) gives it (what metrics and the
    /// status page carry); `None` for a code its page does not list.
    fn explain(&self, code: &str) -> Option<CodeMeaning>;

    /// Every error code its page documents, once each, as its simulator's
    /// [`provider_error`](crate::sandbox::Simulator::provider_error) takes them: what a test
    /// walks to meet every error a caller can meet (default: none).
    fn documented_codes(&self) -> Vec<String> {
        Vec::new()
    }

    /// The checks the command line offers for it (`proverka …`, `proverka batch --check …`);
    /// default: none (a provider reached only through the proxy, or a free source).
    fn checks(&self) -> Vec<crate::checks::CheckSpec> {
        Vec::new()
    }

    /// Its simulator, with its default settings, for the sandbox (its crate's `sandbox`
    /// feature); `None` for a provider without one.
    #[cfg(feature = "sandbox")]
    fn simulator(&self) -> Option<Box<dyn crate::sandbox::Simulator>> {
        None
    }
}

/// A query string's parameters as an adapter reads them: in order, the first value of a name
/// wins (what the providers' PHP and Go backends do with repeated names).
#[derive(Debug, Default, Clone, Copy)]
pub struct Params<'a> {
    pairs: &'a [(&'a str, &'a str)],
}

impl<'a> Params<'a> {
    /// The parameters, percent-decoded, in order.
    pub fn new(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Self { pairs }
    }

    /// The first value under `name`, as given.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    /// The first value under any of `names`, in that order (a page that spells a name two
    /// ways: `nameLegal` / `name`).
    pub fn first_of(&self, names: &[&str]) -> Option<&'a str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// The value under `name` without surrounding white space; `None` when absent or blank.
    pub fn nonblank(&self, name: &str) -> Option<&'a str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// The methods of an [`Adapter`] impl that every provider crate writes the same way, from
/// its parts: its `SPEC`, its code table's explanations, its command-line checks and (with
/// the crate's `sandbox` feature) its simulator. Written inside the adapter's `impl` block,
/// beside the methods that differ (routes, parsing, refusals, operations).
///
/// ```text
/// impl proverka_core::Adapter for NpdAdapter {
///     proverka_core::adapter_parts! {
///         spec: SPEC,
///         explain: crate::ProviderError::explain,
///         codes: crate::ProviderError::documented_codes,
///         checks: crate::checks::checks(),
///         simulator: crate::sandbox::NpdSimulator::default(),
///     }
///     // then what differs: parse, account routes, …
/// }
/// ```
#[macro_export]
macro_rules! adapter_parts {
    (
        spec: $spec:expr,
        explain: $explain:path,
        codes: $codes:path,
        checks: $checks:expr,
        simulator: $simulator:expr $(,)?
    ) => {
        fn spec(&self) -> $crate::ProviderSpec {
            $spec
        }

        fn explain(&self, code: &str) -> Option<$crate::CodeMeaning> {
            $explain(code)
        }

        fn documented_codes(&self) -> Vec<String> {
            $codes()
        }

        fn checks(&self) -> Vec<$crate::checks::CheckSpec> {
            $checks
        }

        #[cfg(feature = "sandbox")]
        fn simulator(&self) -> Option<Box<dyn $crate::sandbox::Simulator>> {
            Some(Box::new($simulator))
        }
    };
}
