//! The cache's shared state ([`Inner`]) and the miss a flight runs on it: re-check memory,
//! coordinate with replicas, reserve, send, judge once, settle, retry what is free, store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use proverka_core::{CacheKey, Lookup, RetryPolicy, Verdict};

use super::flight::{Called, FlightMap, FlightResult, Source};
use super::lock::{Coordination, OutageWait, Protocol, coordinate, spawn_renewal};
use super::remote_tier::{Names, Remote, Unanswered};
use super::shared_failure;
use super::turns::TurnQueues;
use crate::fetch::{Fetch, ProviderCall};
use crate::stats::{Counters, bump};
use crate::{Answer, Clock, FetchError, FetchOptions, Tier};

/// A store the remote tier could not take when its flight ended (Redis unreachable), kept
/// to be tried again after the flight's result went out.
pub(crate) struct UnfinishedStore {
    /// The entry's names.
    names: Names,
    /// Which of them it goes under: the value's, or the shared error's.
    name: String,
    /// The envelope, compressed and sealed.
    bytes: Vec<u8>,
    ttl: Duration,
    /// The lock to release once stored, if the flight held one.
    token: Option<String>,
}

impl UnfinishedStore {
    /// One try: stored, the lock released and waiting replicas told, in one remote step.
    async fn attempt(&self, remote: &Remote, counters: &Counters) -> Result<(), Unanswered> {
        remote
            .store_and_unlock(
                counters,
                &self.names,
                &self.name,
                self.bytes.clone(),
                self.ttl,
                self.token.as_deref(),
            )
            .await
    }
}

/// What the caller's read left a flight ([`TieredCache::probe`](crate::TieredCache::probe)):
/// the entry's names, so they are computed once a request.
#[derive(Default)]
pub(crate) struct Probed {
    /// The entry's remote names, if the read computed them.
    pub(crate) names: Option<Names>,
}

/// The cache's times, as its builder set them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) stale_grace: Duration,
    pub(crate) lock_ttl: Duration,
    pub(crate) max_remote_wait: Duration,
    pub(crate) outage_wait: Duration,
    pub(crate) error_share_ttl: Duration,
}

/// What every handle of one [`TieredCache`](crate::TieredCache) shares.
pub(crate) struct Inner {
    pub(crate) memory: moka::future::Cache<CacheKey, Arc<Answer>>,
    pub(crate) remote: Option<Remote>,
    pub(crate) flights: Arc<FlightMap>,
    pub(crate) next_flight: AtomicU64,
    pub(crate) counters: Counters,
    pub(crate) timing: Timing,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_flights: usize,
    /// Redis refused the last lock write (it is up, but writes do not take).
    pub(crate) refusing: AtomicBool,
    /// Queues of turns while there is no remote tier, or it is failing.
    pub(crate) turns: TurnQueues,
    /// Ages, freshness and the stale grace are read on it.
    pub(crate) clock: Arc<dyn Clock>,
}

impl Inner {
    /// What the cross-replica protocol reads and marks of this cache.
    fn protocol(&self) -> Protocol<'_> {
        Protocol {
            counters: &self.counters,
            refusing: &self.refusing,
            clock: &*self.clock,
            lock_ttl: self.timing.lock_ttl,
            max_remote_wait: self.timing.max_remote_wait,
            outage_wait: self.timing.outage_wait,
        }
    }

    /// A fresh answer (no older than `max_age`) in memory or, refilling memory, the remote tier
    /// (read under `names`, computed here when not given).
    pub(crate) async fn fresh_in_tiers(
        &self,
        key: &CacheKey,
        max_age: Option<Duration>,
        names: Option<&Names>,
    ) -> Option<(Arc<Answer>, Tier)> {
        let now = self.clock.now();
        if let Some(a) = self.memory.get(key).await
            && a.is_fresh(now, max_age)
        {
            bump(&self.counters.hits_memory);
            return Some((a, Tier::Memory));
        }
        let remote = self.remote.as_ref()?;
        let answer = match names {
            Some(n) => remote.read(&self.counters, &n.value).await,
            None => remote.read(&self.counters, &remote.names(key).value).await,
        }?;
        if !answer.is_fresh(now, max_age) {
            return None;
        }
        let answer = Arc::new(answer);
        self.memory.insert(*key, Arc::clone(&answer)).await;
        bump(&self.counters.hits_remote);
        Some((answer, Tier::Remote))
    }

    /// A flight's whole life: re-check memory, coordinate with replicas, then reserve, send, judge, settle and retry what is free;
    /// store and share.
    pub(crate) async fn resolve(
        &self,
        key: &CacheKey,
        lookup: &dyn Lookup,
        fetch: &dyn Fetch,
        options: FetchOptions,
        probed: Probed,
    ) -> (FlightResult, Option<UnfinishedStore>) {
        // The entry's names, computed once a request: the caller's read computed them, or
        // they are computed here.
        let names = match (&self.remote, probed.names) {
            (Some(remote), None) => Some(remote.names(key)),
            (_, names) => names,
        };
        // A flight that ended between this caller's read and its start has stored its answer
        // in memory before it left the map: an in-process check, no remote read.
        if !options.force_refresh
            && let Some(a) = self.memory.get(key).await
            && a.is_fresh(self.clock.now(), options.max_age)
        {
            bump(&self.counters.hits_memory);
            return (Ok((a, Source::Tier(Tier::Memory))), None);
        }
        let started = self.clock.now();
        let mut token = None;
        if let (Some(remote), Some(n)) = (&self.remote, &names) {
            match coordinate(&self.protocol(), remote, n, options, started).await {
                Coordination::Done(answer) => {
                    // Another replica's call that brought no answer but may have been billed:
                    // its failure, never a call of this replica's own.
                    if let Some(failure) = shared_failure::failure_of(&answer, key.provider()) {
                        return (Err(failure), None);
                    }
                    if answer.verdict.keep_for().is_some() {
                        self.memory.insert(*key, Arc::clone(&answer)).await;
                    }
                    return (Ok((answer, Source::OtherReplica)), None);
                }
                Coordination::Fetch(held) => token = held,
                Coordination::Refused => return (Err(FetchError::degraded()), None),
            }
        }
        let renewal = match (&self.remote, &names, &token) {
            (Some(r), Some(n), Some(t)) => Some(spawn_renewal(
                Arc::clone(&r.store),
                n.lock.clone(),
                t.clone(),
                self.timing.lock_ttl,
            )),
            _ => None,
        };
        let called = self.call(lookup, fetch).await;
        if let Some(stop) = renewal {
            let _ = stop.send(());
        }
        let mut unfinished = None;
        let result = match called {
            Called::Refused(refusal) => Err(FetchError::refused(refusal)),
            Called::Answered(answer) => {
                // Stored, the lock released and replicas told in one remote step.
                unfinished = self.store(key, &answer, names.as_ref(), token.take()).await;
                // A stale answer stands in only for a failure the provider did not bill.
                let stale = if answer.verdict.keep_for().is_none()
                    && answer.verdict.billed().is_no()
                    && answer.verdict.retryable()
                    && options.allow_stale
                {
                    self.stale(key, names.as_ref()).await
                } else {
                    None
                };
                Ok(match stale {
                    Some(stale) => (stale, Source::Stale),
                    None => (answer, Source::Fetched),
                })
            }
            Called::NoAnswer(e, billed) => {
                bump(&self.counters.fetch_errors);
                // One the provider may have billed goes to the replicas waiting on this call
                // (with the lock's release), so that none of them sends it again.
                if shared_failure::shared(billed) {
                    let failure = Arc::new(shared_failure::as_answer(&e, self.clock.now()));
                    unfinished = self
                        .store(key, &failure, names.as_ref(), token.take())
                        .await;
                }
                let stale = if options.allow_stale && billed.is_no() {
                    self.stale(key, names.as_ref()).await
                } else {
                    None
                };
                stale
                    .map(|s| (s, Source::Stale))
                    .ok_or_else(|| FetchError::no_answer(Arc::new(e), billed))
            }
        };
        self.unlock(names.as_ref(), token.as_deref()).await;
        (result, unfinished)
    }

    /// Releases the cross-replica lock if `token` holds one.
    pub(crate) async fn unlock(&self, names: Option<&Names>, token: Option<&str>) {
        if let (Some(remote), Some(n), Some(t)) = (&self.remote, names, token) {
            remote.call(&self.counters, |s| s.unlock(&n.lock, t)).await;
        }
    }

    /// The provider calls of one flight: reserve, send, judge once, settle; again only while
    /// the verdict says the failure was free and the retry policy allows.
    pub(crate) async fn call(&self, lookup: &dyn Lookup, fetch: &dyn Fetch) -> Called {
        let mut attempt = 1;
        loop {
            if let Err(refusal) = fetch.reserve().await {
                return Called::Refused(refusal);
            }
            bump(&self.counters.fetches);
            let sent_at = Instant::now();
            let sent = fetch.send().await;
            let latency = sent_at.elapsed();
            let verdict = match &sent {
                Ok(raw) => lookup.judge(raw, self.clock.now()),
                Err(e) => Verdict::of_transport(e),
            };
            let delay = self.retry.after(attempt, &verdict);
            fetch
                .settle(&ProviderCall {
                    lookup,
                    attempt,
                    verdict: &verdict,
                    raw: sent.as_ref().ok(),
                    latency,
                    resent: delay.is_some(),
                })
                .await;
            if let Some(delay) = delay {
                tracing::debug!(
                    provider = %lookup.provider(),
                    attempt,
                    code = verdict.code(),
                    "re-sending after a free, retryable failure"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return match sent {
                Ok(raw) => Called::Answered(Arc::new(Answer {
                    raw,
                    verdict,
                    fetched_at: self.clock.now(),
                })),
                Err(e) => Called::NoAnswer(e, verdict.billed()),
            };
        }
    }

    /// Stores a storable answer in both tiers, or shares a non-storable one briefly with
    /// replicas that wait on this fetch; releases the lock `token` holds and tells them, in the
    /// same remote step. What an unreachable remote tier did not take is returned, to be
    /// [finished](Self::finish_store) once the flight's result is out.
    pub(crate) async fn store(
        &self,
        key: &CacheKey,
        answer: &Arc<Answer>,
        names: Option<&Names>,
        token: Option<String>,
    ) -> Option<UnfinishedStore> {
        let keep_for = answer.verdict.keep_for();
        if keep_for.is_some() {
            self.memory.insert(*key, Arc::clone(answer)).await;
        }
        let (Some(remote), Some(names)) = (&self.remote, names) else {
            return None;
        };
        let (name, ttl) = match keep_for {
            Some(ttl) => (&names.value, ttl + self.timing.stale_grace),
            None => (&names.error, self.timing.error_share_ttl),
        };
        let pending = UnfinishedStore {
            bytes: remote.envelope(name, answer, key.provider()),
            names: names.clone(),
            name: name.clone(),
            ttl,
            token,
        };
        match pending.attempt(remote, &self.counters).await {
            Err(Unanswered::Unreachable) => Some(pending),
            Ok(()) | Err(Unanswered::Refused) => None,
        }
    }

    /// Tries again, while the outage lasts no longer than the cache's outage wait, a store
    /// the remote tier could not take: replicas waiting on this flight's lock then get the
    /// answer it paid for (or its billed-unknown result) instead of taking the lock over and
    /// sending the query again.
    pub(crate) async fn finish_store(&self, unfinished: UnfinishedStore) {
        let Some(remote) = &self.remote else {
            return;
        };
        let mut outage = OutageWait::new(&*self.clock, self.timing.outage_wait);
        while outage.again(remote, &self.counters).await {
            if unfinished.attempt(remote, &self.counters).await != Err(Unanswered::Unreachable) {
                return;
            }
        }
        tracing::warn!(
            "the remote cache tier stayed unreachable past the outage wait: a paid answer was not shared with the other replicas"
        );
    }

    /// An expired answer still within the stale grace, from memory or the remote tier.
    pub(crate) async fn stale(&self, key: &CacheKey, names: Option<&Names>) -> Option<Arc<Answer>> {
        let now = self.clock.now();
        let grace = self.timing.stale_grace;
        let usable = |a: &Answer| {
            a.verdict
                .keep_for()
                .is_some_and(|ttl| a.age(now) < ttl + grace)
        };
        let found = match self.memory.get(key).await {
            Some(a) if usable(&a) => Some(a),
            _ => match (&self.remote, names) {
                (Some(r), Some(n)) => r
                    .read(&self.counters, &n.value)
                    .await
                    .filter(|a| usable(a))
                    .map(Arc::new),
                _ => None,
            },
        };
        if found.is_some() {
            bump(&self.counters.stale_served);
        }
        found
    }
}
