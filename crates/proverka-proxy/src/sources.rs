//! Free sources: a paid provider's question asked first of a free provider that answers it
//! (`source = "free-then-paid"` or `"free"`), from the registry's
//! [`FreeSource`](proverka_core::FreeSource)s.
//!
//! The free answer is stored in the paid provider's cache entry, in its shape, judged free;
//! so a later hit tells which source answered by what it cost: nothing (the free source) or a
//! price (the paid one).

use std::time::Duration;

use proverka_cache::{FreeAttempt, FreeQueue, ProviderCall};
use proverka_core::{Auth, FreeFirst, Money, RawAnswer, TransportError, TransportErrorKind};

use crate::app::{AppState, Client, FreeRoute};
use crate::config::SourceMode;

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
    let free = route.source.free();
    let upstream = state.upstream(free);
    let name = format!("pace:{free}");
    let queue = FreeQueue {
        name: &name,
        interval: upstream.pace().unwrap_or(Duration::ZERO),
        max_wait: (route.mode != SourceMode::Free).then_some(route.max_wait),
        rest: FreeQueue::REST_AFTER_REFUSAL,
    };
    let attempt = state
        .cache
        .ask_free_source(sourced, queue, |query| async move {
            let _permit = upstream.acquire().await;
            state.metrics.provider_call(free);
            upstream
                .http
                .send(&query.upstream_request(), Auth::None)
                .await
        })
        .await;
    match attempt {
        FreeAttempt::Answered(answer) => FreeOutcome::Answered(answer),
        FreeAttempt::NotAsked(why) => fail(why),
        // The free call failed: judged, counted and written to the ledger like any call.
        FreeAttempt::Failed {
            query,
            sent,
            verdict,
            latency,
        } => {
            state
                .metrics
                .provider_call_judged(free, &verdict, sent.is_ok(), latency);
            state
                .ledger
                .record(
                    &state.cache,
                    &client.name,
                    request_id,
                    &ProviderCall::single(&*query, &verdict, sent.as_ref().ok(), latency),
                    Money::ZERO,
                )
                .await;
            fail(verdict.code())
        }
    }
}
