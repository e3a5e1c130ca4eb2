//! [`Lookup`] for court queries, and the cache decision.

use std::time::{Duration, SystemTime};

use proverka_core::{
    Billed, CacheKey, Cost, Lookup, Provider, RawAnswer, Reported, UpstreamRequest, Verdict,
};

use crate::query::CourtQuery;

/// The path (the page also shows `/api/`; both reach the same handler).
pub const PATH: &str = "/api";

/// How long an answer that found a court is kept: jurisdiction changes rarely.
pub const FOUND_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long "no court known" is kept: the provider adds courts daily.
pub const NOT_FOUND_TTL: Duration = Duration::from_secs(3600);

/// The cache decision for a court answer (whatever the query and the day).
fn judge(raw: &RawAnswer) -> Verdict {
    Verdict::reporting(crate::parse(raw), |j| {
        // Each answer spends one query of the tariff's daily quota.
        let keep_for = if j.found() { FOUND_TTL } else { NOT_FOUND_TTL };
        (
            Billed::Yes(None),
            keep_for,
            Reported::new(None, j.queries_left),
        )
    })
}

impl Lookup for CourtQuery {
    fn provider(&self) -> Provider {
        Provider::Court
    }

    fn query_kind(&self) -> &'static str {
        self.key_value().0
    }

    fn cache_key(&self) -> CacheKey {
        let (name, value) = self.key_value();
        CacheKey::builder(Provider::Court, name)
            .exact(name, value)
            .build()
    }

    fn cost(&self) -> Cost {
        Cost::Paid { typical: None }
    }

    fn upstream_request(&self) -> UpstreamRequest {
        let r = UpstreamRequest::new(PATH);
        match self {
            Self::Address(a) => r.param("address", a.as_str()),
            Self::Coords { .. } => r.optional("coords", self.coords_param()),
        }
    }

    fn judge(&self, raw: &RawAnswer, _now: SystemTime) -> Verdict {
        judge(raw)
    }

    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, proverka_core::RenderError> {
        proverka_core::render_model(crate::parse(raw))
    }

    /// Another court of general jurisdiction (`court_fs`) or another magistrate (`court_ms`),
    /// by its name.
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<proverka_core::Change> {
        proverka_core::compare(crate::parse(before), crate::parse(after), |b, a| {
            let title = |court: &Option<crate::Court>| court.as_ref().and_then(|c| c.title.clone());
            [
                ("court_fs", title(&b.court_fs), title(&a.court_fs)),
                ("court_ms", title(&b.court_ms), title(&a.court_ms)),
            ]
            .into_iter()
            .filter_map(|(what, b, a)| proverka_core::Change::when_differ(what, b, a))
            .collect()
        })
    }
}
