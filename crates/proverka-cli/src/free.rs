//! `--npd-source`: NPD checks asked first of the registry's free source for NPD (the tax
//! service's free check), with api-assist as the fallback, as the proxy does with
//! `[providers.npd] source`. Nothing here names the free provider: its name, defaults and
//! pacing come from the registry.
//!
//! A free service limits calls per IP address: calls are paced (`per_minute`, by default the
//! provider's own), through Redis with `--redis` so that this run, other runs and proxies on
//! one egress address share the pace (the queue is the proxy's, `pace:<provider>`).

use std::sync::Arc;
use std::time::Duration;

use proverka_cache::{FreeAttempt, FreeQueue, TieredCache};
use proverka_core::{
    Auth, FreeFirst, FreeSource, HttpClient, RawAnswer, TransportError, TransportErrorKind,
};

/// Where NPD answers come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum NpdSource {
    /// api-assist only (paid).
    #[default]
    Paid,
    /// The tax service's free check only; api-assist is never called.
    Free,
    /// The free check while its queue is short (`PROVERKA_PROVIDERS_NPD_FREE_MAX_WAIT_SECS`,
    /// default 10) and it is not refusing; api-assist otherwise.
    FreeThenPaid,
}

/// The free NPD source, as the flags and environment configure it.
#[derive(Debug)]
pub(crate) struct FreeNpd {
    /// The free provider's HTTP client, from its adapter's spec.
    pub(crate) http: HttpClient,
    pub(crate) source: Arc<dyn FreeSource>,
    pub(crate) mode: NpdSource,
    /// One call per this long (60 s / `per_minute`).
    pub(crate) interval: Duration,
    pub(crate) max_wait: Duration,
}

/// What the free source did for one call.
pub(crate) enum FreeOutcome {
    /// It answered: the answer in api-assist's shape.
    Answered(RawAnswer),
    /// It was not asked (queue too long, cannot answer) or failed: ask api-assist.
    AskPaid,
    /// `--npd-source free` and it failed: no answer, nothing billed, worth a retry later.
    Failed(TransportError),
}

impl NpdSource {
    /// The flag's value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Free => "free",
            Self::FreeThenPaid => "free-then-paid",
        }
    }
}

impl FreeNpd {
    /// The free source's name in the `source` column (its provider's name).
    pub(crate) fn name(&self) -> &'static str {
        self.source.source_names().1
    }

    /// Asks the free source for `query`'s answer, when its queue allows.
    pub(crate) async fn ask(&self, query: &FreeFirst, cache: &TieredCache) -> FreeOutcome {
        // The pace queue's name, shared with the proxy through Redis.
        let name = format!("pace:{}", self.source.free());
        let queue = FreeQueue {
            name: &name,
            interval: self.interval,
            max_wait: (self.mode != NpdSource::Free).then_some(self.max_wait),
            rest: FreeQueue::REST_AFTER_REFUSAL,
        };
        let attempt = cache
            .ask_free_source(query, queue, |free_query| async move {
                self.http
                    .send(&free_query.upstream_request(), Auth::None)
                    .await
            })
            .await;
        match (attempt, self.mode) {
            (FreeAttempt::Answered(answer), _) => FreeOutcome::Answered(answer),
            (_, NpdSource::Free) => FreeOutcome::Failed(TransportError::new(
                TransportErrorKind::SourceFailed,
                self.source.paid(),
                "(free source)",
                false,
                None,
            )),
            _ => FreeOutcome::AskPaid,
        }
    }
}

/// Whether `name` is a free source of this build, as a proxy's `source` field names it.
pub(crate) fn free_source_named(name: &str) -> Option<&'static str> {
    proverka::free_sources()
        .iter()
        .map(|s| s.source_names().1)
        .find(|n| *n == name)
}
