//! [`Lookup`]: the one trait the cache and the proxy work through.

use std::sync::Arc;
use std::time::SystemTime;

use crate::{CacheKey, Change, Cost, Provider, RawAnswer, RenderError, Verdict};

/// One query to one provider, already validated: building a value that implements `Lookup`
/// is the validation, so a `Lookup` can be sent without further checks.
///
/// The cache calls [`cache_key`](Lookup::cache_key) to find an earlier answer and, after a
/// fetch, [`judge`](Lookup::judge) to decide whether the answer may be stored. The HTTP layer
/// calls [`upstream_request`](Lookup::upstream_request) and adds the credentials itself, so a
/// `Lookup` never holds a secret.
pub trait Lookup: Send + Sync {
    /// The provider the query goes to.
    fn provider(&self) -> Provider;

    /// The kind of query (FSSP's `type`, `address`/`coords` for courts, …): what ledgers and
    /// metrics name, never a parameter's value.
    fn query_kind(&self) -> &'static str;

    /// The canonical identity of the query (never holds a secret or readable personal data).
    fn cache_key(&self) -> CacheKey;

    /// What a call costs, before it is made.
    fn cost(&self) -> Cost;

    /// Path and query parameters to send, without credentials.
    fn upstream_request(&self) -> UpstreamRequest;

    /// Reads an answer and decides, once, what it is: a storable answer, a provider error or
    /// unreadable, and whether the provider billed it ([`Verdict::billed`]). `now` is when it
    /// came, on the caller's [`Clock`](crate::Clock): how long an answer stays true may depend
    /// on the day (NPD's status for today lasts until the Moscow day ends).
    fn judge(&self, raw: &RawAnswer, now: SystemTime) -> Verdict;

    /// The answer as this query's own typed model, as JSON (the proxy's `/v1` routes): the
    /// query knows which model its answer has, so nothing travels beside it to pick one.
    ///
    /// # Errors
    /// [`RenderError`] for a provider error or an unreadable body.
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, RenderError>;

    /// How a later answer to this query differs from an earlier one, as the provider's own
    /// terms read it (monitoring: `proverka watch` reports these). An answer that cannot be
    /// rendered is no answer to compare: no change. By default, the typed answers compared
    /// whole ([`whole_answer`](crate::whole_answer)).
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<Change> {
        crate::compare(self.render(before), self.render(after), crate::whole_answer)
    }
}

/// A query under a key other than its own: its key computed once, when it was validated (the
/// parse memo), or partitioned by the caller's credential ([`CacheKey::partitioned_by`]).
/// Everything but the key is the query's own.
pub struct Rekeyed {
    inner: Arc<dyn Lookup>,
    key: CacheKey,
}

impl std::fmt::Debug for Rekeyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rekeyed")
            .field("provider", &self.inner.provider())
            .field("query_kind", &self.inner.query_kind())
            .field("key", &self.key)
            .finish()
    }
}

impl Rekeyed {
    /// `inner` under `key`.
    pub fn new(inner: Arc<dyn Lookup>, key: CacheKey) -> Self {
        Self { inner, key }
    }
}

impl Lookup for Rekeyed {
    fn provider(&self) -> Provider {
        self.inner.provider()
    }
    fn query_kind(&self) -> &'static str {
        self.inner.query_kind()
    }
    fn cache_key(&self) -> CacheKey {
        self.key
    }
    fn cost(&self) -> Cost {
        self.inner.cost()
    }
    fn upstream_request(&self) -> UpstreamRequest {
        self.inner.upstream_request()
    }
    fn judge(&self, raw: &RawAnswer, now: SystemTime) -> Verdict {
        self.inner.judge(raw, now)
    }
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, RenderError> {
        self.inner.render(raw)
    }

    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<Change> {
        self.inner.changes(before, after)
    }
}

/// What to send upstream, without credentials: the client adds those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    /// The path below the base URL, starting with `/`.
    pub path: String,
    /// Query parameters in the order they are sent.
    pub query: Vec<(&'static str, String)>,
    /// A JSON body: the request is then a POST with `Content-Type: application/json` (a
    /// provider whose page says POST); without one, a GET.
    pub json_body: Option<String>,
}

impl UpstreamRequest {
    /// A request for `path` with no parameters yet.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            query: Vec::new(),
            json_body: None,
        }
    }

    /// Sends `body` as JSON in a POST. Its values are as private as parameters: never logged
    /// ([`redacted`](Self::redacted) shows only that there is a body).
    #[must_use]
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.json_body = Some(body.to_string());
        self
    }

    /// Adds a parameter.
    #[must_use]
    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a parameter when it has a value.
    #[must_use]
    pub fn optional(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    /// The path and parameter names with every value hidden: what may be logged. Values hold
    /// names, birth dates and INNs, and the client adds the token as a parameter too.
    pub fn redacted(&self) -> String {
        let mut s = self.path.clone();
        for (i, (name, _)) in self.query.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(name);
            s.push_str("=…");
        }
        if self.json_body.is_some() {
            s.push_str(" (JSON body)");
        }
        s
    }
}

/// The two methods of a [`Lookup`] impl that name what it asks, for a query whose kind is the
/// same for every value: `lookup_names!(Provider::Npd, "status")` writes
/// [`provider`](Lookup::provider) and [`query_kind`](Lookup::query_kind).
#[macro_export]
macro_rules! lookup_names {
    ($provider:expr, $kind:expr $(,)?) => {
        fn provider(&self) -> $crate::Provider {
            $provider
        }

        fn query_kind(&self) -> &'static str {
            $kind
        }
    };
}
