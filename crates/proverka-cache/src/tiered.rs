//! [`TieredCache`]: memory, then Redis, then exactly one fetch per key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use hmac::{Hmac, Mac};
use proverka_core::{Billed, CacheKey, Lookup, RetryPolicy, TransportError, Verdict};
use sha2::Sha256;
use tokio::sync::watch;

use crate::breaker::{Breaker, BreakerConfig};
use crate::envelope::{self, EncryptionKey, Keyring};
use crate::fetch::{Fetch, ProviderCall, Refusal};
use crate::remote::{BoxFuture, RemoteError, RemoteStore};
use crate::stats::{CacheStats, Counters, bump};
use crate::{Answer, CacheStatus, FetchError, FetchOptions, Served, Tier};

mod builder;
mod flight;
mod lock;
mod remote_tier;

pub use builder::TieredCacheBuilder;
use builder::Timing;
use flight::*;
use lock::*;
use remote_tier::*;

struct Inner {
    memory: moka::future::Cache<CacheKey, Arc<Answer>>,
    remote: Option<Remote>,
    flights: Mutex<HashMap<CacheKey, Flight>>,
    next_flight: AtomicU64,
    counters: Counters,
    timing: Timing,
    retry: RetryPolicy,
    max_flights: usize,
    /// Redis refused the last lock write (it is up, but writes do not take).
    refusing: std::sync::atomic::AtomicBool,
    /// Queues of turns while there is no remote tier, or it is failing.
    turns: crate::pacing::LocalTurns,
    /// Ages, freshness and the stale grace are read on it.
    clock: Arc<dyn crate::Clock>,
}

/// A two-tier cache of provider answers with a single flight per key, in the process and
/// across replicas sharing a Redis.
///
/// - Tier 1: moka, bounded in bytes, each entry expiring when its answer's
///   [`Verdict`](proverka_core::Verdict) says (plus the stale grace).
/// - Tier 2 (optional): a [`RemoteStore`] ([`RedisStore`](crate::RedisStore)); a tier-2 hit
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
pub(crate) fn flight_callers() -> Option<flight::Callers> {
    flight::FLIGHT_CALLERS.try_with(Clone::clone).ok()
}

/// A turn taken in a queue of paced turns ([`TieredCache::take_turn`]).
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// How long until it starts.
    pub wait: Duration,
    ticket: crate::pacing::Ticket,
    /// Taken from the remote tier's queue (else this process's).
    remote: bool,
}

/// The remote name of the queue of turns `id` (a sorted set; its own suffix, so a queue
/// kept in the older shape, a plain counter, is never read as one).
fn turns_name(remote: &remote_tier::Remote, id: &str) -> String {
    let key = CacheKey::builder(proverka_core::Provider::Fssp, "turns")
        .exact("id", id)
        .build();
    format!("{}q", remote.names(&key).value.trim_end_matches('v'))
}

impl TieredCache {
    /// A builder with a 256 MiB memory tier and no remote tier.
    pub fn builder() -> TieredCacheBuilder {
        TieredCacheBuilder::default()
    }

    /// A fresh cached answer (no younger than `max_age` if given), without fetching.
    pub async fn cached(&self, lookup: &dyn Lookup, max_age: Option<Duration>) -> Option<Served> {
        self.cached_by_key(&lookup.cache_key(), max_age).await
    }

    async fn cached_by_key(&self, key: &CacheKey, max_age: Option<Duration>) -> Option<Served> {
        let (answer, tier) = self.inner.fresh_in_tiers(key, max_age).await?;
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
        // Long enough to outlive every turn it holds.
        let ttl = interval
            .saturating_mul(4)
            .saturating_add(max_wait.unwrap_or(Duration::from_secs(3600)))
            .max(Duration::from_secs(120));
        if let Some(remote) = self.inner.remote.as_ref() {
            let name = turns_name(remote, id);
            if let Some(turn) = remote
                .call(&self.inner.counters, |s| {
                    s.take_turn(&name, interval, max_wait, ttl)
                })
                .await
            {
                return turn.map(|(wait, ticket)| Turn {
                    wait,
                    ticket,
                    remote: true,
                });
            }
        }
        self.inner
            .turns
            .take(id, self.inner.clock.now(), interval, max_wait)
            .map(|(wait, ticket)| Turn {
                wait,
                ticket,
                remote: false,
            })
    }

    /// Gives back a turn that has not started, to the queue it was taken from: the next
    /// caller takes its place. A remote tier that fails meanwhile keeps it until it is over.
    pub async fn give_back_turn(&self, id: &str, turn: Turn) {
        match (&self.inner.remote, turn.remote) {
            (Some(remote), true) => {
                let name = turns_name(remote, id);
                let _ = remote
                    .call(&self.inner.counters, |s| {
                        s.give_back_turn(&name, turn.ticket)
                    })
                    .await;
            }
            _ => self.inner.turns.give_back(id, turn.ticket),
        }
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
}

impl Inner {
    async fn fresh_in_tiers(
        &self,
        key: &CacheKey,
        max_age: Option<Duration>,
    ) -> Option<(Arc<Answer>, Tier)> {
        let now = self.clock.now();
        if let Some(a) = self.memory.get(key).await
            && a.is_fresh(now, max_age)
        {
            bump(&self.counters.hits_memory);
            return Some((a, Tier::Memory));
        }
        let remote = self.remote.as_ref()?;
        let answer = remote
            .read(&self.counters, &remote.names(key).value)
            .await?;
        if !answer.is_fresh(now, max_age) {
            return None;
        }
        let answer = Arc::new(answer);
        self.memory.insert(*key, Arc::clone(&answer)).await;
        bump(&self.counters.hits_remote);
        Some((answer, Tier::Remote))
    }
}
