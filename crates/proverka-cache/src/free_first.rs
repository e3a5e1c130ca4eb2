//! Asking a free source first ([`FreeFirst`]): the paced turn in the free source's queue
//! (shared by replicas through the remote tier), the call, and the rest a refusal earns. The
//! proxy and the command line both ask through [`TieredCache::ask_free_source`]; what they do
//! with a failure (the ledger, metrics, asking the paid provider) stays theirs.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proverka_core::{FreeFirst, Lookup, RawAnswer, TransportError, Verdict};

use crate::TieredCache;

/// The free source's queue: its turns, and how long it rests after a refusal.
#[derive(Debug, Clone, Copy)]
pub struct FreeQueue<'a> {
    /// The queue's name, shared by everything that calls the same source from one address
    /// (the proxy's is `pace:<free provider>`).
    pub name: &'a str,
    /// One call per this long.
    pub interval: Duration,
    /// The longest wait for a turn; `None` waits as long as it takes.
    pub max_wait: Option<Duration>,
    /// How long the source is left alone after "too many calls", "unavailable" or no answer.
    pub rest: Duration,
}

impl FreeQueue<'_> {
    /// How long a free source that refused (too many calls, unavailable) or did not answer is
    /// left alone: the one rule of the proxy and the command line, who share its queue.
    pub const REST_AFTER_REFUSAL: Duration = Duration::from_secs(60);
}

/// What asking the free source came to.
pub enum FreeAttempt {
    /// Not asked: it cannot answer this query, or no turn starts within `max_wait`.
    NotAsked(&'static str),
    /// It answered: the answer in the paid provider's shape (the query is marked answered
    /// by the free source, so the flight judges it free).
    Answered(RawAnswer),
    /// It was asked and gave no answer: the call, judged, for the caller's ledger.
    Failed {
        /// The free query that was sent.
        query: Arc<dyn Lookup>,
        /// What came back.
        sent: Result<RawAnswer, TransportError>,
        /// Its judgement.
        verdict: Verdict,
        /// From sending to the end of the answer.
        latency: Duration,
    },
}

impl std::fmt::Debug for FreeAttempt {
    // The query holds personal data (an INN): only its provider and the outcome are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAsked(why) => f.debug_tuple("NotAsked").field(why).finish(),
            Self::Answered(_) => f.write_str("Answered"),
            Self::Failed { query, verdict, .. } => f
                .debug_struct("Failed")
                .field("provider", &query.provider())
                .field("code", &verdict.code())
                .finish_non_exhaustive(),
        }
    }
}

impl TieredCache {
    /// Asks `query`'s free source through `send`, when its queue gives a turn in time; a
    /// refusal worth retrying later, or no answer at all, rests the queue for `queue.rest`.
    pub async fn ask_free_source<F, Fut>(
        &self,
        query: &FreeFirst,
        queue: FreeQueue<'_>,
        send: F,
    ) -> FreeAttempt
    where
        F: FnOnce(Arc<dyn Lookup>) -> Fut,
        Fut: Future<Output = Result<RawAnswer, TransportError>>,
    {
        query.set_answered_by_free(false);
        let Some(free_query) = query.free_query().cloned() else {
            return FreeAttempt::NotAsked("the free source cannot answer this query");
        };
        match self
            .take_turn(queue.name, queue.interval, queue.max_wait)
            .await
        {
            Some(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
            Some(_) => {}
            None => return FreeAttempt::NotAsked("the free source's queue is too long"),
        }
        let sent_at = Instant::now();
        let sent = send(Arc::clone(&free_query)).await;
        let latency = sent_at.elapsed();
        if let Some(answer) = sent
            .as_ref()
            .ok()
            .and_then(|raw| query.take_free_answer(raw))
        {
            return FreeAttempt::Answered(answer);
        }
        let verdict = match &sent {
            Ok(raw) => free_query.judge(raw),
            Err(e) => Verdict::of_transport(e),
        };
        if verdict.retryable() || sent.is_err() {
            // Its next turns are a rest: nobody sharing the queue calls it meanwhile.
            let _ = self.take_turn(queue.name, queue.rest, None).await;
        }
        FreeAttempt::Failed {
            query: free_query,
            sent,
            verdict,
            latency,
        }
    }
}
