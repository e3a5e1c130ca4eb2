//! [`TieredCache`]: memory, then Redis, then exactly one fetch per key.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use proverka_core::{CacheKey, Lookup};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::fetch::Fetch;
use crate::stats::{CacheStats, bump};
use crate::{CacheStatus, FetchError, FetchOptions, Served};

mod builder;
mod flight;
mod inner;
mod lock;
mod probe;
mod remote_tier;
mod shared_failure;
mod turns;

pub use builder::TieredCacheBuilder;
use flight::{Callers, FLIGHT_CALLERS, Flight, FlightGuard, Joined, served, wait};
use inner::{Inner, Probed};
pub use probe::{Miss, Probe};
pub use turns::Turn;

/// A two-tier cache of provider answers with a single flight per key, in the process and
/// across replicas sharing a Redis.
///
/// - Tier 1: moka, bounded in bytes, each entry expiring when its answer's
///   [`Verdict`](proverka_core::Verdict) says (plus the stale grace).
/// - Tier 2 (optional): a [`RemoteStore`](crate::RemoteStore) ([`RedisStore`](crate::RedisStore)); a tier-2 hit
///   refills tier 1. Without it everything works in one process.
/// - A miss starts one *detached* task per key that fetches, judges and stores; every caller
///   (the first included) only waits on it, so a caller that goes away never cancels a paid
///   call and never makes another caller pay again.
///
/// See `docs/cache.md` for the key's state machine and the lock protocol.
#[derive(Clone)]
pub struct TieredCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TieredCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TieredCache")
            .field("remote", &self.inner.remote.as_ref().map(|r| &r.store))
            .field("stats", &self.stats())
            .finish()
    }
}

/// Whether the remote tier is configured and answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteStatus {
    /// No remote tier: one process.
    NotConfigured,
    /// It answered a ping.
    Up,
    /// It did not; the cache works from memory and the provider meanwhile.
    Down,
    /// It answers but refuses writes (OOM at `maxmemory` with `noeviction`, READONLY): the
    /// cross-replica lock cannot be taken, so new flights are refused rather than paid blindly.
    Degraded,
    /// It refuses the configured credentials (a wrong password or user): the cache works from
    /// memory and the provider, as when it is down, but this will not pass by itself.
    Unauthorized,
}

/// The callers of the flight whose task runs this, if it is one.
pub(crate) fn flight_callers() -> Option<Callers> {
    FLIGHT_CALLERS.try_with(Clone::clone).ok()
}

impl TieredCache {
    fn new(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Now, on the cache's clock: what answers are judged and aged on.
    pub fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// A builder with a 256 MiB memory tier and no remote tier.
    pub fn builder() -> TieredCacheBuilder {
        TieredCacheBuilder::default()
    }

    /// A fresh cached answer (no younger than `max_age` if given), without fetching.
    pub async fn cached(&self, lookup: &dyn Lookup, max_age: Option<Duration>) -> Option<Served> {
        self.cached_by_key(&lookup.cache_key(), max_age).await
    }

    async fn cached_by_key(&self, key: &CacheKey, max_age: Option<Duration>) -> Option<Served> {
        let (answer, tier) = self.inner.fresh_in_tiers(key, max_age, None).await?;
        Some(Served {
            answer,
            status: CacheStatus::Hit(tier),
        })
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        let m = &self.inner.memory;
        self.inner
            .counters
            .snapshot(m.weighted_size(), m.entry_count())
    }

    /// Whether the remote tier answers now (a ping, bounded by the store's timeouts).
    pub async fn remote_status(&self) -> RemoteStatus {
        match &self.inner.remote {
            None => RemoteStatus::NotConfigured,
            Some(r) => match r.store.ping().await {
                Ok(()) if self.inner.refusing.load(Ordering::Relaxed) => RemoteStatus::Degraded,
                Ok(()) => {
                    r.breaker.success();
                    RemoteStatus::Up
                }
                Err(e) if e.is_unauthorized() => RemoteStatus::Unauthorized,
                Err(_) => RemoteStatus::Down,
            },
        }
    }

    /// Takes a turn of `interval` in the queue of paced turns named `id`, shared by every
    /// replica on the remote tier (by its clock) and kept in this process without it or
    /// while it fails: the earliest start from now that neither falls within a turn already
    /// taken nor runs into a later one. A turn that would start more than `max_wait` away is
    /// not taken (`None`). A turn whose caller leaves before it starts should be given back
    /// ([`TieredCache::give_back_turn`]), so the next caller takes its place.
    pub async fn take_turn(
        &self,
        id: &str,
        interval: Duration,
        max_wait: Option<Duration>,
    ) -> Option<Turn> {
        let inner = &self.inner;
        inner
            .turns
            .take(
                inner.remote.as_ref(),
                &inner.counters,
                inner.clock.now(),
                id,
                interval,
                max_wait,
            )
            .await
    }

    /// Gives back a turn that has not started, to the queue it was taken from: the next
    /// caller takes its place. A remote tier that fails meanwhile keeps it until it is over.
    pub async fn give_back_turn(&self, id: &str, turn: Turn) {
        let inner = &self.inner;
        inner
            .turns
            .give_back(inner.remote.as_ref(), &inner.counters, id, turn)
            .await;
    }

    /// Warnings about the remote tier's own settings (an eviction policy that can drop or
    /// refuse the cache's keys), for the operator at start-up.
    pub async fn remote_warnings(&self) -> Vec<String> {
        match &self.inner.remote {
            Some(r) => r.store.setting_warnings().await,
            None => Vec::new(),
        }
    }

    /// Flights running now.
    pub fn in_flight(&self) -> usize {
        self.inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Waits until no flight runs, or `timeout` passes: on shutdown, so paid calls in flight
    /// finish and are stored. Returns whether every flight ended.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.in_flight() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Pending memory-tier maintenance (expiry, eviction) done now; tests and benches.
    pub async fn run_pending_tasks(&self) {
        self.inner.memory.run_pending_tasks().await;
    }

    /// The remote-tier name of a lookup's value (tests: what is stored where).
    pub fn remote_value_name(&self, lookup: &dyn Lookup) -> Option<String> {
        self.inner
            .remote
            .as_ref()
            .map(|r| r.names(&lookup.cache_key()).value)
    }

    /// The answer to `lookup`: from memory, from the remote tier, or from one flight that
    /// calls the provider through `fetch`, at most one flight per key at a time across every
    /// caller of every replica.
    ///
    /// The tiers are read once, before the flight is joined or started. The flight runs in a
    /// detached task: it completes, and its answer is judged and stored, even if every caller
    /// has gone. It owns the whole miss: [`Fetch::reserve`] before each call, one send, one
    /// judgement ([`Lookup::judge`]), [`Fetch::settle`] with that judgement, a free retry
    /// where the verdict says the failure was free ([`Verdict::free_to_resend`]), then store
    /// and share. Answers judged storable are kept for as long as the adapter says; provider
    /// errors and unreadable answers (billed or not) go to the waiting callers and are never
    /// stored. A remote-tier failure is never an error here.
    ///
    /// A caller that joins a flight pays nothing. If the flight's own caller was refused
    /// (its budget), a joined caller asks again on its own account.
    ///
    /// # Errors
    /// [`FetchError`] when no answer came back (shared with every waiting caller) and no stale
    /// answer could stand in, or when the call was refused.
    ///
    /// [`Verdict::free_to_resend`]: proverka_core::Verdict::free_to_resend
    pub async fn get_or_fetch(
        &self,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        fetch: impl Fetch,
    ) -> Result<Served, FetchError> {
        match self.probe(&*lookup, options).await {
            Probe::Hit(served) => Ok(served),
            Probe::Miss(miss) => {
                self.flight_after(miss, lookup, options, move || fetch)
                    .await
            }
        }
    }

    /// Reads the tiers for `lookup` once, as a caller about to ask the provider does: a fresh
    /// answer from memory or Redis (one `GET`), or a [`Miss`] for [`TieredCache::flight_after`],
    /// which carries the entry's Redis names so they are computed once a request. A forced
    /// refresh reads nothing.
    pub async fn probe(&self, lookup: &dyn Lookup, options: FetchOptions) -> Probe {
        let key = lookup.cache_key();
        let inner = &self.inner;
        let miss = |probed| Probe::Miss(Miss { key, probed });
        if options.force_refresh {
            return miss(Probed::default());
        }
        let names = inner.remote.as_ref().map(|r| r.names(&key));
        if let Some((answer, tier)) = inner
            .fresh_in_tiers(&key, options.max_age, names.as_ref())
            .await
        {
            return Probe::Hit(Served {
                answer,
                status: CacheStatus::Hit(tier),
            });
        }
        miss(Probed { names })
    }

    /// Joins the key's flight or leads a new one after [`TieredCache::probe`] found no answer,
    /// with the names the read computed. `make` builds the [`Fetch`] only if this caller
    /// leads.
    ///
    /// # Errors
    /// As [`TieredCache::get_or_fetch`].
    pub async fn flight_after<F: Fetch>(
        &self,
        miss: Miss,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        make: impl FnOnce() -> F,
    ) -> Result<Served, FetchError> {
        self.fly(Some(miss), lookup, options, make).await
    }

    /// Joins the key's flight or leads a new one, without reading the tiers first: for a
    /// caller that has just read them itself ([`TieredCache::cached`]) and found nothing, so
    /// that a miss reads them once. `make` builds the [`Fetch`] only if this caller leads.
    ///
    /// # Errors
    /// As [`TieredCache::get_or_fetch`].
    pub async fn flight<F: Fetch>(
        &self,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        make: impl FnOnce() -> F,
    ) -> Result<Served, FetchError> {
        self.fly(None, lookup, options, make).await
    }

    /// A flight joined or led, with what a probe left (if one ran).
    async fn fly<F: Fetch>(
        &self,
        mut miss: Option<Miss>,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        make: impl FnOnce() -> F,
    ) -> Result<Served, FetchError> {
        let key = lookup.cache_key();
        // A probe of another key (a lookup wrapped under a new key since) is of no use here.
        miss.take_if(|m| m.key != key);
        // Join the key's flight while there is one; a caller leads at most once.
        let (rx, tx, guard, seat) = loop {
            match self.join_or_lead(key) {
                Joined::Waiting(rx, seat) => {
                    bump(&self.inner.counters.coalesced);
                    let result = wait(rx).await;
                    drop(seat);
                    match result {
                        // Another caller's refusal (its budget) is no answer for this one:
                        // ask again, as the leader of a new flight if none runs by then.
                        Err(e) if e.refusal() => {}
                        result => return served(result, false),
                    }
                }
                Joined::Leading(rx, tx, guard, seat) => break (rx, tx, guard, seat),
                Joined::Full => return Err(FetchError::busy()),
            }
        };
        bump(&self.inner.counters.misses);
        let probed = miss.map(|m| m.probed).unwrap_or_default();
        let fetch = make();
        let inner = Arc::clone(&self.inner);
        let callers = seat.callers();
        // The flight logs under the span of the request that leads it (its request id).
        tokio::spawn(
            FLIGHT_CALLERS.scope(
                callers,
                async move {
                    let (result, unfinished) =
                        inner.resolve(&key, &*lookup, &fetch, options, probed).await;
                    // Tier 1 already holds a storable answer: the flight leaves the map first, so
                    // a caller who comes after the result went out reads the answer from memory
                    // or, for a result never stored (an error, billed: unknown), asks anew; only
                    // the callers already waiting share it.
                    drop(guard);
                    tx.send_replace(Some(result));
                    // What Redis could not take, its callers served, for the other replicas.
                    if let Some(unfinished) = unfinished {
                        inner.finish_store(unfinished).await;
                    }
                }
                .in_current_span(),
            ),
        );
        let result = wait(rx).await;
        drop(seat);
        served(result, true)
    }

    /// Joins the key's flight, or registers a new one that this caller leads.
    fn join_or_lead(&self, key: CacheKey) -> Joined {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(flight) = flights.get(&key) {
            return Joined::Waiting(flight.rx.clone(), flight.callers.seat());
        }
        if flights.len() >= self.inner.max_flights {
            return Joined::Full;
        }
        let (tx, rx) = watch::channel(None);
        let id = self.inner.next_flight.fetch_add(1, Ordering::Relaxed);
        let callers = Callers::new();
        let seat = callers.seat();
        flights.insert(
            key,
            Flight {
                id,
                rx: rx.clone(),
                callers,
            },
        );
        let guard = FlightGuard {
            flights: Arc::clone(&self.inner.flights),
            key,
            id,
        };
        Joined::Leading(rx, tx, guard, seat)
    }
}
