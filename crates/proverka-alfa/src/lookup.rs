//! [`RegistryQuery`] as a [`Lookup`]: its cache key (requestId and page), cost (free),
//! upstream request, one judgement of an answer and its typed model.

use std::time::Duration;

use proverka_core::{Billed, CacheKey, Lookup, Provider, RawAnswer, UpstreamRequest, Verdict};
use serde_json::Value;

use crate::{RegistryQuery, parse};

/// The path before the requestId.
pub const PATH_PREFIX: &str = "/api/semp/v1/selfemployed/registries/add-selfemployed/";

/// How long a list in a terminal status (SUCCESS, ERROR, TECHNICAL_ERROR) with nobody still
/// in a `*_REQUESTED` state is kept.
pub const TERMINAL_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a list still in progress is kept (NEW, IN_PROGRESS, SIGNATURE_CHECKED, unknown), and
/// a list whose status is final while someone on it still waits on the tax service or on the
/// person (`BIND_REQUESTED`, `REGISTRATION_REQUESTED`, `TAXPAYER_STATUS_REQUESTED`, and any
/// future `*_REQUESTED`).
pub const IN_PROGRESS_TTL: Duration = Duration::from_secs(5);

/// The cache decision: a list in a terminal status is kept for [`TERMINAL_TTL`], one still in
/// progress for [`IN_PROGRESS_TTL`]; errors never.
fn judge(raw: &RawAnswer) -> Verdict {
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
    proverka_core::lookup_names!(Provider::Alfa, "registry");
    /// The requestId and the page: an entry holds passport data, so it is reachable only
    /// with the same requestId and page (and, in the proxy, an accepted bearer).
    fn cache_key(&self) -> CacheKey {
        CacheKey::builder(Provider::Alfa, "add-selfemployed")
            .exact("requestId", self.request_id().to_owned())
            .optional_exact("limit", self.limit().map(|l| l.to_string()))
            .optional_exact("offset", self.offset().map(|o| o.to_string()))
            .build()
    }
    fn cost(&self) -> proverka_core::Cost {
        proverka_core::Cost::Free
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(format!("{PATH_PREFIX}{}", self.request_id()))
            .optional("limit", self.limit().map(|l| l.to_string()))
            .optional("offset", self.offset().map(|o| o.to_string()))
    }
    fn judge(&self, raw: &RawAnswer, _now: std::time::SystemTime) -> Verdict {
        judge(raw)
    }
    fn render(&self, raw: &RawAnswer) -> Result<Value, proverka_core::RenderError> {
        proverka_core::render_model(parse(raw))
    }

    /// The registry's status (`list_status`), and each person's (`person_status`, by INN): a
    /// person added to or gone from the page counts as a status from or to nothing.
    fn changes(&self, before: &RawAnswer, after: &RawAnswer) -> Vec<proverka_core::Change> {
        proverka_core::compare(parse(before), parse(after), |b, a| {
            let list = |r: &crate::Registry| r.list_status.as_ref().map(|s| s.as_str().to_owned());
            let people = |r: &crate::Registry| -> std::collections::BTreeMap<String, String> {
                r.selfemployed_account
                    .iter()
                    .filter_map(|account| {
                        let inn = account
                            .selfemployed
                            .as_ref()?
                            .personal_information
                            .as_ref()?
                            .vatin
                            .clone()?;
                        let status = account.status.as_ref().map_or("", |s| s.as_str());
                        Some((inn, status.to_owned()))
                    })
                    .collect()
            };
            let mut changes: Vec<proverka_core::Change> =
                proverka_core::Change::when_differ("list_status", list(b), list(a))
                    .into_iter()
                    .collect();
            let (before, after) = (people(b), people(a));
            for inn in before
                .keys()
                .chain(after.keys().filter(|k| !before.contains_key(*k)))
            {
                let (b, a) = (before.get(inn).cloned(), after.get(inn).cloned());
                changes.extend(
                    proverka_core::Change::when_differ("person_status", b, a)
                        .map(|c| c.of(inn.clone())),
                );
            }
            changes
        })
    }
}
