//! Asking a free source first ([`FreeFirst`]): the paced turn in the free source's queue
//! (shared by replicas through the remote tier), the call, and the rest a refusal earns. The
//! proxy and the command line both ask through [`TieredCache::ask_free_source`]; what they do
//! with a failure (the ledger, metrics, asking the paid provider) stays theirs.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proverka_core::{FreeFirst, Lookup, RawAnswer, TransportError, Verdict};

use crate::TieredCache;

/// What happened to a turn in a free source's queue, for a front end's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueEvent {
    /// A turn was taken that starts this long from now.
    Taken {
        /// How long until it starts.
        wait: Duration,
    },
    /// A turn was given back before it started: every caller waiting for it had left.
    GivenBack,
}

/// The free source's queue: its turns, and how long it rests after a refusal.
#[derive(Clone, Copy)]
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
    /// Told of each turn taken for a call, and each given back.
    pub on_event: &'a (dyn Fn(QueueEvent) + Send + Sync),
}

impl std::fmt::Debug for FreeQueue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreeQueue")
            .field("name", &self.name)
            .field("interval", &self.interval)
            .field("max_wait", &self.max_wait)
            .field("rest", &self.rest)
            .finish_non_exhaustive()
    }
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
    /// Not asked: every caller waiting on the flight left while it waited for its turn, which
    /// was given back. Nothing was sent.
    Abandoned,
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
            Self::Abandoned => f.write_str("Abandoned"),
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
    ///
    /// Inside a flight ([`TieredCache::flight`]), the wait for a turn ends as soon as every
    /// caller waiting on the flight has left: the turn is given back, so the next caller takes
    /// its place, and nothing is sent ([`FreeAttempt::Abandoned`]).
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
        let Some(turn) = self
            .take_turn(queue.name, queue.interval, queue.max_wait)
            .await
        else {
            return FreeAttempt::NotAsked("the free source's queue is too long");
        };
        (queue.on_event)(QueueEvent::Taken { wait: turn.wait });
        if !turn.wait.is_zero() {
            let callers = crate::tiered::flight_callers();
            let all_gone = async {
                match callers {
                    Some(callers) => callers.all_gone().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = tokio::time::sleep(turn.wait) => {}
                () = all_gone => {
                    self.give_back_turn(queue.name, turn).await;
                    (queue.on_event)(QueueEvent::GivenBack);
                    return FreeAttempt::Abandoned;
                }
            }
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
            Ok(raw) => free_query.judge(raw, self.now()),
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
