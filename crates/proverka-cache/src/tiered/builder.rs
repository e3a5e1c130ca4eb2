//! [`TieredCacheBuilder`]: the cache's settings, and the memory tier's expiry.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use proverka_core::{CacheKey, RetryPolicy};

use super::TieredCache;
use super::inner::{Inner, Timing};
use super::remote_tier::Remote;
use super::turns::TurnQueues;
use crate::breaker::{Breaker, BreakerConfig};
use crate::compress::Dictionaries;
use crate::remote::RemoteStore;
use crate::stats::Counters;
use crate::{Answer, Clock, SystemClock};
use proverka_core::seal::{EncryptionKey, Keyring};

/// Builds a [`TieredCache`].
#[derive(Debug)]
#[must_use]
pub struct TieredCacheBuilder {
    memory_bytes: u64,
    remote: Option<Arc<dyn RemoteStore>>,
    prefix: String,
    encryption: Option<Keyring>,
    dictionaries: Dictionaries,
    breaker: BreakerConfig,
    timing: Timing,
    retry: RetryPolicy,
    max_flights: usize,
    clock: Arc<dyn Clock>,
}

impl Default for TieredCacheBuilder {
    fn default() -> Self {
        Self {
            memory_bytes: 256 * 1024 * 1024,
            remote: None,
            prefix: "proverka:".to_owned(),
            encryption: None,
            dictionaries: Dictionaries::default(),
            breaker: BreakerConfig::default(),
            timing: Timing {
                stale_grace: Duration::ZERO,
                lock_ttl: Duration::from_secs(10),
                max_remote_wait: Duration::from_secs(900),
                outage_wait: Duration::from_secs(20),
                error_share_ttl: Duration::from_secs(10),
            },
            retry: RetryPolicy::NEVER,
            max_flights: 10_000,
            clock: Arc::new(SystemClock),
        }
    }
}

impl TieredCacheBuilder {
    /// The memory tier's bound in bytes (bodies plus per-entry overhead). Default 256 MiB.
    pub fn memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = bytes;
        self
    }

    /// The shared tier. Without one the cache is per process.
    pub fn remote(mut self, store: Arc<dyn RemoteStore>) -> Self {
        self.remote = Some(store);
        self
    }

    /// The prefix of every Redis name (default `proverka:`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Encrypts values at rest in the shared tier with a key derived from `key` (HKDF), and
    /// names entries with another key derived from it: a keyring of one key.
    pub fn encryption(mut self, key: EncryptionKey) -> Self {
        self.encryption = Some(Keyring::from(key));
        self
    }

    /// Encrypts values in the remote tier with the first key of `keys` and reads values sealed
    /// under any of them: key rotation without losing the entries written before it.
    pub fn encryption_keys(mut self, keys: Keyring) -> Self {
        self.encryption = Some(keys);
        self
    }

    /// The zstd dictionaries values in the shared tier are compressed with, per provider
    /// (default: none, plain zstd). Values are compressed before they are sealed; the memory
    /// tier keeps answers as served.
    pub fn dictionaries(mut self, dictionaries: Dictionaries) -> Self {
        self.dictionaries = dictionaries;
        self
    }

    /// When the remote tier is skipped after failures, and for how long.
    pub fn breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    /// How long past its expiry an answer may still be served when the provider fails with a
    /// retryable error (marked [`CacheStatus::Stale`](crate::CacheStatus::Stale)). Default zero: no stale answers.
    pub fn stale_grace(mut self, grace: Duration) -> Self {
        self.timing.stale_grace = grace;
        self
    }

    /// The cross-replica lock's time to live; it is renewed every third of it while the fetch
    /// runs, so a dead holder's lock lapses within this time. Default 10 s.
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.timing.lock_ttl = ttl.max(Duration::from_millis(30));
        self
    }

    /// The longest a flight waits for another replica's fetch before fetching itself.
    /// Default 15 minutes (a provider call can take 400 s).
    pub fn max_remote_wait(mut self, wait: Duration) -> Self {
        self.timing.max_remote_wait = wait;
        self
    }

    /// How long a flight that cannot reach the remote tier waits for it, trying again, before
    /// it calls the provider without the cross-replica lock, measured from when the remote tier
    /// began failing. Without the lock a replica cannot see another one calling for the same
    /// query, so each would pay; a Redis Cluster failover (its `cluster-node-timeout`, 15 s by
    /// default, and an election) or a Redis restart is waited out instead. A flight that starts
    /// when the outage has lasted longer calls at once: a long outage costs at most one call
    /// per replica and query, never the whole proxy. A holder whose answer could not be stored
    /// keeps trying to store it as long. Default 20 s; zero: never wait.
    pub fn outage_wait(mut self, wait: Duration) -> Self {
        self.timing.outage_wait = wait;
        self
    }

    /// When a flight sends a query again by itself: only after a failure its verdict calls
    /// free and retryable ([`Verdict::free_to_resend`](proverka_core::Verdict::free_to_resend)),
    /// spaced and bounded by `policy`. Default [`RetryPolicy::NEVER`]: each query is sent
    /// once unless asked (the proxy sets its `[retry]` policy here).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Flights (distinct queries being fetched) at once, at most (default 10,000): a new one
    /// past it is refused with [`FetchError::is_busy`](crate::FetchError::is_busy), free. Flights outlive their callers, so
    /// this bounds what disconnecting clients can leave running.
    pub fn max_flights(mut self, n: usize) -> Self {
        self.max_flights = n.max(1);
        self
    }

    /// The clock that ages, freshness and the stale grace are read on (default: the system's).
    /// Tests give a [`ManualClock`](crate::ManualClock) and move it instead of sleeping.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the cache.
    pub fn build(self) -> TieredCache {
        let grace = self.timing.stale_grace;
        let memory = moka::future::Cache::builder()
            .max_capacity(self.memory_bytes)
            .weigher(|_k: &CacheKey, v: &Arc<Answer>| u32::try_from(v.weight()).unwrap_or(u32::MAX))
            .expire_after(Expiry {
                grace,
                clock: Arc::clone(&self.clock),
            })
            .build();
        let remote = self.remote.map(|store| {
            let mut naming_key = [0u8; 32];
            match &self.encryption {
                Some(ring) => naming_key.copy_from_slice(ring.naming_key()),
                None => naming_key[..18].copy_from_slice(b"proverka-key-names"),
            }
            Remote {
                store,
                breaker: Breaker::new(self.breaker, Arc::clone(&self.clock)),
                prefix: self.prefix,
                encryption: self.encryption,
                dictionaries: self.dictionaries,
                naming_key,
            }
        });
        TieredCache::new(Inner {
            memory,
            remote,
            flights: Arc::default(),
            next_flight: AtomicU64::new(1),
            counters: Counters::default(),
            timing: self.timing,
            retry: self.retry,
            max_flights: self.max_flights,
            refusing: AtomicBool::new(false),
            turns: TurnQueues::default(),
            clock: self.clock,
        })
    }
}

/// Entries live in memory until expiry plus the stale grace.
pub(crate) struct Expiry {
    pub(crate) grace: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

impl moka::Expiry<CacheKey, Arc<Answer>> for Expiry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<Answer>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.remaining(self.clock.now()) + self.grace)
    }
}
