//! [`NpdQuery`] as a [`Lookup`]: its cache key, cost, upstream request, one judgement of
//! an answer and its typed model.

use std::time::SystemTime;

use proverka_core::status_day::{StatusOnDay as _, keep_for, status_changes};
use proverka_core::{Billed, CacheKey, Lookup, Provider, RawAnswer, UpstreamRequest, Verdict};
use serde_json::Value;

use crate::{NpdQuery, parse};

/// The path of the check.
pub const PATH: &str = "/parser/nalog_npd_api/";

/// The cache decision for an answer to `query`.
fn judge(query: &NpdQuery, raw: &RawAnswer, now: SystemTime) -> Verdict {
    Verdict::of(parse(raw), |_| {
        (Billed::Yes(None), keep_for(query.date(), now))
    })
}

impl Lookup for NpdQuery {
    proverka_core::lookup_names!(Provider::Npd, "status");
    fn cache_key(&self) -> CacheKey {
        self.status_key(Provider::Npd, "npd")
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
    /// A status gained or lost (`self_employed`).
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<proverka_core::Change> {
        proverka_core::compare(parse(before), parse(after), |b, a| {
            status_changes(b.self_employed, a.self_employed)
        })
    }
}
