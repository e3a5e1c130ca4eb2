//! [`NpdQuery`] as a [`Lookup`]: its cache key, cost, upstream request, one judgement of
//! an answer and its typed model.

use std::time::{Duration, SystemTime};

use proverka_core::{
    Billed, CacheKey, Date, Lookup, Provider, RawAnswer, UpstreamRequest, Verdict,
};
use serde_json::Value;

use crate::{NpdQuery, PATH, parse};

/// How long an answer for a past date is kept: the status on a day gone by does not change.
pub const PAST_DATE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// How long an answer about `date` stays true, seen at `now`: a past date for
/// [`PAST_DATE_TTL`], today until the end of the Moscow day.
pub fn keep_for(date: Date, now: SystemTime) -> Duration {
    date.status_ttl(now, PAST_DATE_TTL)
}

/// The cache decision for an answer to `query`.
fn judge(query: &NpdQuery, raw: &RawAnswer, now: SystemTime) -> Verdict {
    Verdict::of(parse(raw), |_| {
        (Billed::Yes(None), keep_for(query.date(), now))
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
            .exact("inn", self.inn().to_string())
            .exact("date", self.date().to_iso())
            .build()
    }
    fn cost(&self) -> proverka_core::Cost {
        proverka_core::Cost::Paid { typical: None }
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(PATH)
            .param("inn", self.inn().to_string())
            .param("date", self.date().to_iso())
    }
    fn judge(&self, raw: &RawAnswer, now: SystemTime) -> Verdict {
        judge(self, raw, now)
    }
    fn render(&self, raw: &RawAnswer) -> Result<Value, proverka_core::RenderError> {
        proverka_core::render_model(parse(raw))
    }
}
