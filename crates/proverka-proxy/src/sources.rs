//! Free sources: a paid provider's question asked first of a free provider that answers it
//! (`source = "free-then-paid"` or `"free"`), from the registry's [`FreeSource`]s.
//!
//! The free answer is stored in the paid provider's cache entry, in its shape, judged free;
//! so a later hit tells which source answered by what it cost: nothing (the free source) or a
//! price (the paid one).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proverka_cache::ProviderCall;
use proverka_core::{
    Auth, CacheKey, Cost, FreeSource, Lookup, Money, Provider, RawAnswer, RenderError,
    TransportError, TransportErrorKind, UpstreamRequest, Verdict,
};

use crate::app::{AppState, Client};
use crate::config::SourceMode;

/// How long a free source that refused (too many calls, unavailable) is left alone.
pub(crate) const BACK_OFF: Duration = Duration::from_secs(60);

/// A paid provider's free source, as configured.
#[derive(Debug, Clone)]
pub(crate) struct FreeRoute {
    pub(crate) source: Arc<dyn FreeSource>,
    pub(crate) mode: SourceMode,
    pub(crate) max_wait: Duration,
}

impl FreeRoute {
    /// How a served answer's source is named: the free one for a free answer.
    pub(crate) fn name_of(&self, verdict: &Verdict) -> &'static str {
        let (paid, free) = self.source.source_names();
        if verdict.billed().is_no() { free } else { paid }
    }
}

/// The paid query of a flight that may be answered by the free source: its judgement and
/// its provider (for the ledger) follow whichever source answered the call in progress.
pub(crate) struct Sourced {
    pub(crate) inner: Arc<dyn Lookup>,
    /// The free source's query for the same question, when it can answer it.
    pub(crate) free_query: Option<Arc<dyn Lookup>>,
    pub(crate) route: FreeRoute,
    free_answered: AtomicBool,
}

impl Sourced {
    pub(crate) fn new(inner: Arc<dyn Lookup>, route: FreeRoute) -> Self {
        Self {
            free_query: route.source.free_query(&*inner),
            inner,
            route,
            free_answered: AtomicBool::new(false),
        }
    }

    fn free_answered(&self) -> bool {
        self.free_answered.load(Ordering::SeqCst)
    }
}

impl Lookup for Sourced {
    fn provider(&self) -> Provider {
        if self.free_answered() {
            self.route.source.free()
        } else {
            self.inner.provider()
        }
    }
    fn query_kind(&self) -> &'static str {
        self.inner.query_kind()
    }
    fn cache_key(&self) -> CacheKey {
        self.inner.cache_key()
    }
    fn cost(&self) -> Cost {
        self.inner.cost()
    }
    fn upstream_request(&self) -> UpstreamRequest {
        self.inner.upstream_request()
    }
    /// A free answer is the paid provider's shape, judged as the paid provider would, but it
    /// cost nothing.
    fn judge(&self, raw: &RawAnswer) -> Verdict {
        let verdict = self.inner.judge(raw);
        if self.free_answered() {
            verdict.on_free_query()
        } else {
            verdict
        }
    }
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, RenderError> {
        self.inner.render(raw)
    }
}

/// What the free source did for one call.
pub(crate) enum FreeOutcome {
    /// It answered: the answer in the paid provider's shape.
    Answered(RawAnswer),
    /// It was not asked, or it failed: ask the paid provider.
    AskPaid,
    /// `source = "free"` and it failed: no answer, nothing billed.
    Failed(TransportError),
}

/// Asks the free source, when the route allows and its queue is short enough.
pub(crate) async fn ask_free(state: &AppState, sourced: &Sourced, client: &Client) -> FreeOutcome {
    sourced.free_answered.store(false, Ordering::SeqCst);
    let route = &sourced.route;
    let paid = route.source.paid();
    let fail = |why: &str| {
        tracing::debug!(provider = %paid, why, "free source did not answer");
        match route.mode {
            SourceMode::Free => FreeOutcome::Failed(TransportError::new(
                TransportErrorKind::SourceFailed,
                paid,
                "(free source)",
                false,
                None,
            )),
            _ => FreeOutcome::AskPaid,
        }
    };
    let Some(free_query) = &sourced.free_query else {
        return fail("the free source cannot answer this query");
    };
    let free = route.source.free();
    let max_wait = match route.mode {
        SourceMode::Free => None,
        _ => Some(route.max_wait),
    };
    if !state.wait_turn(free, max_wait).await {
        return fail("the free source's queue is too long");
    }
    let upstream = state.upstream(free);
    let sent_at = Instant::now();
    let sent = {
        let _permit = upstream.acquire().await;
        state.metrics.provider_call(free);
        upstream
            .http
            .send(&free_query.upstream_request(), Auth::None)
            .await
    };
    if let Some(answer) = sent
        .as_ref()
        .ok()
        .and_then(|raw| route.source.as_paid_answer(raw))
    {
        sourced.free_answered.store(true, Ordering::SeqCst);
        return FreeOutcome::Answered(answer);
    }
    // The free call failed: it is judged and written to the ledger like any call, and a
    // refusal worth retrying later ("too many calls", "unavailable") rests the source.
    let verdict = match &sent {
        Ok(raw) => free_query.judge(raw),
        Err(e) => Verdict::of_transport(e),
    };
    match &verdict {
        Verdict::ProviderError { code, .. } => state.metrics.provider_error(free, code),
        Verdict::Unreadable { .. } => state.metrics.provider_error(free, "unreadable"),
        _ => {}
    }
    if verdict.retryable() || sent.is_err() {
        state.back_off(free).await;
    }
    state
        .ledger
        .record(
            &state.cache,
            &client.name,
            &ProviderCall::single(
                &**free_query,
                &verdict,
                sent.as_ref().ok(),
                sent_at.elapsed(),
            ),
            Money::ZERO,
        )
        .await;
    fail(verdict.code())
}
