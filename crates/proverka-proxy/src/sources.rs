//! Free sources: a paid provider's question asked first of a free provider that answers it
//! (`source = "free-then-paid"` or `"free"`), from the registry's [`FreeSource`]s.
//!
//! The free answer is stored in the paid provider's cache entry, in its shape, judged free;
//! so a later hit tells which source answered by what it cost: nothing (the free source) or a
//! price (the paid one).

use std::sync::Arc;
use std::time::{Duration, Instant};

use proverka_cache::ProviderCall;
use proverka_core::{
    Auth, FreeFirst, FreeSource, Money, RawAnswer, TransportError, TransportErrorKind, Verdict,
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
pub(crate) async fn ask_free(
    state: &AppState,
    sourced: &FreeFirst,
    route: &FreeRoute,
    client: &Client,
    request_id: &str,
) -> FreeOutcome {
    sourced.set_answered_by_free(false);
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
    let Some(free_query) = sourced.free_query() else {
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
        .and_then(|raw| sourced.take_free_answer(raw))
    {
        return FreeOutcome::Answered(answer);
    }
    // The free call failed: it is judged and written to the ledger like any call, and a
    // refusal worth retrying later ("too many calls", "unavailable") rests the source.
    let verdict = match &sent {
        Ok(raw) => free_query.judge(raw),
        Err(e) => Verdict::of_transport(e),
    };
    state
        .metrics
        .provider_call_judged(free, &verdict, sent.is_ok(), sent_at.elapsed());
    if verdict.retryable() || sent.is_err() {
        state.back_off(free).await;
    }
    state
        .ledger
        .record(
            &state.cache,
            &client.name,
            request_id,
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
