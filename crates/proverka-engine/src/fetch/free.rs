//! Free sources: a paid provider's question asked first of a free provider that answers it
//! (`source = "free-then-paid"` or `"free"`), from the registry's
//! [`FreeSource`](proverka_core::FreeSource)s, in its paced queue (shared by every process on
//! one address through Redis). The free call is a provider call like any other: its intent is
//! written before it leaves and settled after it.
//!
//! The free answer is stored in the paid provider's cache entry, in its shape, judged free;
//! so a later hit tells which source answered by what it cost.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use proverka_cache::{FreeAttempt, FreeQueue, ProviderCall};
use proverka_core::{
    Auth, FreeFirst, Money, RawAnswer, TransportError, TransportErrorKind, Verdict,
};
use proverka_store::IntentId;

use super::EngineFetch;
use crate::observer::JudgedCall;
use crate::upstream::pace_queue;
use crate::{FreeRoute, SourceMode};

/// What the free source did for one call.
pub(crate) enum FreeOutcome {
    /// It answered: the answer in the paid provider's shape.
    Answered(RawAnswer),
    /// It was not asked, or it failed: ask the paid provider.
    AskPaid,
    /// `source = "free"` and it failed: no answer, nothing billed.
    Failed(TransportError),
    /// Every caller left while the flight waited for its turn, which was given back: nothing
    /// sent, nothing to ask.
    Abandoned,
}

/// Asks the free source for the flight's query, when the route allows and its queue is short
/// enough; the call's intent is written before it leaves and settled after.
pub(crate) async fn ask(fetch: &EngineFetch, first: &FreeFirst, route: &FreeRoute) -> FreeOutcome {
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
    let inner = &fetch.inner;
    let upstream = inner.upstream(free);
    let name = pace_queue(free);
    let on_event = |event| inner.observer.free_queue(free, event);
    let queue = FreeQueue {
        name: &name,
        interval: upstream.pace().unwrap_or(Duration::ZERO),
        max_wait: (route.mode != SourceMode::Free).then_some(route.max_wait),
        rest: FreeQueue::REST_AFTER_REFUSAL,
        on_event: &on_event,
    };
    let attempt = fetch.state_attempt();
    // The free call's intent and when it left, for its settlement.
    let sent: Mutex<Option<(IntentId, Instant)>> = Mutex::new(None);
    let attempt_result = inner
        .cache
        .ask_free_source(first, queue, |query| {
            let sent = &sent;
            async move {
                let intent = fetch.intent(free, &*query, attempt, Money::ZERO);
                let id = fetch.open(&intent).await.map_err(|refusal| {
                    let _ = refusal;
                    // Not recorded, so not sent: the paid provider (or nothing) instead.
                    TransportError::new(
                        TransportErrorKind::SourceFailed,
                        free,
                        "(store)",
                        false,
                        None,
                    )
                })?;
                *sent
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((id, Instant::now()));
                let _permit = upstream.acquire().await;
                inner.observer.sending(free);
                upstream
                    .http
                    .send(&query.upstream_request(), Auth::None)
                    .await
            }
        })
        .await;
    let opened = sent
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    match attempt_result {
        FreeAttempt::Answered(answer) => {
            if let (Some((id, at)), Some(query)) = (opened, first.free_query()) {
                let verdict = Verdict::Answer {
                    billed: proverka_core::Billed::No,
                    keep_for: Duration::ZERO,
                    reported: proverka_core::Reported::default(),
                };
                let call = ProviderCall::single(&**query, &verdict, Some(&answer), at.elapsed());
                fetch
                    .close(id, free, &**query, &call, Money::ZERO, None)
                    .await;
            }
            FreeOutcome::Answered(answer)
        }
        FreeAttempt::NotAsked(why) => fail(why),
        FreeAttempt::Abandoned => FreeOutcome::Abandoned,
        // The free call failed: judged, counted and settled like any call.
        FreeAttempt::Failed {
            query,
            sent: result,
            verdict,
            latency,
        } => {
            inner.observer.judged(&JudgedCall {
                provider: free,
                verdict: &verdict,
                answered: result.is_ok(),
                latency,
                billed: verdict.billed(),
                price: Money::ZERO,
                free_answer: None,
                source: None,
                at: inner.clock.now(),
            });
            if let Some((id, _)) = opened {
                let call = ProviderCall::single(&*query, &verdict, result.as_ref().ok(), latency);
                fetch
                    .close(id, free, &*query, &call, Money::ZERO, None)
                    .await;
            }
            fail(verdict.code())
        }
    }
}
