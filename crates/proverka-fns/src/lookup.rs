//! [`FnsQuery`] as a [`Lookup`]: its cache key, cost (free), upstream request (a POST of
//! JSON), one judgement of an answer and its typed model.

use std::time::SystemTime;

use proverka_core::status_day::{StatusOnDay as _, keep_for, status_changes};
use proverka_core::{
    Billed, CacheKey, Cost, Lookup, Provider, RawAnswer, RenderError, UpstreamRequest, Verdict,
};
use serde_json::Value;

use crate::{FnsQuery, parse};

/// The path of the check (a POST of JSON).
pub const PATH: &str = "/api/v1/tracker/taxpayer_status";

/// The cache decision for an answer to `query`: nothing the service says is billed.
fn judge(query: &FnsQuery, raw: &RawAnswer, now: SystemTime) -> Verdict {
    Verdict::of(parse(raw), |_| (Billed::No, keep_for(query.date(), now))).on_free_query()
}

impl Lookup for FnsQuery {
    proverka_core::lookup_names!(Provider::Fns, "status");
    fn cache_key(&self) -> CacheKey {
        self.status_key(Provider::Fns, "status")
    }
    fn cost(&self) -> Cost {
        Cost::Free
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(PATH).json(&serde_json::json!({
            "inn": self.inn().to_string(),
            "requestDate": self.date().to_iso(),
        }))
    }
    fn judge(&self, raw: &RawAnswer, now: SystemTime) -> Verdict {
        judge(self, raw, now)
    }
    fn render(&self, raw: &RawAnswer) -> Result<Value, RenderError> {
        proverka_core::render_model(parse(raw))
    }
    /// A status gained or lost (`self_employed`).
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<proverka_core::Change> {
        proverka_core::compare(parse(before), parse(after), |b, a| {
            status_changes(b.self_employed, a.self_employed)
        })
    }
}
