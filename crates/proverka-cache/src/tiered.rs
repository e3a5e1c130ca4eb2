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
use crate::envelope::{self, EncryptionKey};
use crate::fetch::{Fetch, ProviderCall, Refusal};
use crate::remote::{BoxFuture, RemoteError, RemoteStore};
use crate::stats::{CacheStats, Counters, bump};
use crate::{Answer, CacheStatus, FetchError, FetchOptions, Served, Tier};

/// How a flight ended, shared by every caller waiting on it.
type FlightResult = Result<(Arc<Answer>, Source), FetchError>;

/// Where a flight's answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Found fresh in a tier when the flight re-checked (a flight that just ended stored it).
    Tier(Tier),
    /// Fetched by this process.
    Fetched,
    /// Fetched by another replica while this one waited.
    OtherReplica,
    /// An expired answer served because the fetch failed.
    Stale,
}

struct Flight {
    id: u64,
    rx: watch::Receiver<Option<FlightResult>>,
}

/// The remote tier with its breaker and naming.
struct Remote {
    store: Arc<dyn RemoteStore>,
    breaker: Breaker,
    prefix: String,
    encryption: Option<EncryptionKey>,
    naming_key: [u8; 32],
}

/// Redis names of one entry: value, lock, shared error, channel, all with one hash tag.
struct Names {
    value: String,
    lock: String,
    error: String,
    channel: String,
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    stale_grace: Duration,
    lock_ttl: Duration,
    max_remote_wait: Duration,
    error_share_ttl: Duration,
}

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

/// Builds a [`TieredCache`].
#[derive(Debug)]
#[must_use]
pub struct TieredCacheBuilder {
    memory_bytes: u64,
    remote: Option<Arc<dyn RemoteStore>>,
    prefix: String,
    encryption: Option<EncryptionKey>,
    breaker: BreakerConfig,
    timing: Timing,
    retry: RetryPolicy,
    max_flights: usize,
}

impl Default for TieredCacheBuilder {
    fn default() -> Self {
        Self {
            memory_bytes: 256 * 1024 * 1024,
            remote: None,
            prefix: "proverka:".to_owned(),
            encryption: None,
            breaker: BreakerConfig::default(),
            timing: Timing {
                stale_grace: Duration::ZERO,
                lock_ttl: Duration::from_secs(10),
                max_remote_wait: Duration::from_secs(900),
                error_share_ttl: Duration::from_secs(10),
            },
            retry: RetryPolicy::NEVER,
            max_flights: 10_000,
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

    /// Encrypts values at rest in the shared tier, and keys its names with this key too.
    pub fn encryption(mut self, key: EncryptionKey) -> Self {
        self.encryption = Some(key);
        self
    }

    /// When the remote tier is skipped after failures, and for how long.
    pub fn breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    /// How long past its expiry an answer may still be served when the provider fails with a
    /// retryable error (marked [`CacheStatus::Stale`]). Default zero: no stale answers.
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

    /// When a flight sends a query again by itself: only after a failure its verdict calls
    /// free and retryable ([`Verdict::free_to_resend`](proverka_core::Verdict::free_to_resend)),
    /// spaced and bounded by `policy`. Default [`RetryPolicy::NEVER`]: each query is sent
    /// once unless asked (the proxy sets its `[retry]` policy here).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Flights (distinct queries being fetched) at once, at most (default 10,000): a new one
    /// past it is refused with [`FetchError::busy`], free. Flights outlive their callers, so
    /// this bounds what disconnecting clients can leave running.
    pub fn max_flights(mut self, n: usize) -> Self {
        self.max_flights = n.max(1);
        self
    }

    /// Builds the cache.
    pub fn build(self) -> TieredCache {
        let grace = self.timing.stale_grace;
        let memory = moka::future::Cache::builder()
            .max_capacity(self.memory_bytes)
            .weigher(|_k: &CacheKey, v: &Arc<Answer>| u32::try_from(v.weight()).unwrap_or(u32::MAX))
            .expire_after(Expiry { grace })
            .build();
        let remote = self.remote.map(|store| {
            let mut naming_key = [0u8; 32];
            match &self.encryption {
                Some(k) => naming_key.copy_from_slice(k.bytes()),
                None => naming_key[..18].copy_from_slice(b"proverka-key-names"),
            }
            Remote {
                store,
                breaker: Breaker::new(self.breaker),
                prefix: self.prefix,
                encryption: self.encryption,
                naming_key,
            }
        });
        TieredCache {
            inner: Arc::new(Inner {
                memory,
                remote,
                flights: Mutex::default(),
                next_flight: AtomicU64::new(1),
                counters: Counters::default(),
                timing: self.timing,
                retry: self.retry,
                max_flights: self.max_flights,
                refusing: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }
}

/// Entries live in memory until expiry plus the stale grace.
struct Expiry {
    grace: Duration,
}

impl moka::Expiry<CacheKey, Arc<Answer>> for Expiry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<Answer>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.remaining(SystemTime::now()) + self.grace)
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
}

/// Removes a flight from the map when its task ends, however it ends (even by panic).
struct FlightGuard {
    inner: Arc<Inner>,
    key: CacheKey,
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if flights.get(&self.key).is_some_and(|f| f.id == self.id) {
            flights.remove(&self.key);
        }
    }
}

/// A fetch failure that has no error value of its own (the task ended without a result).
#[derive(Debug, thiserror::Error)]
#[error("the fetch task ended without a result")]
struct TaskLost;

/// Whether a caller joined a running flight or leads a new one.
enum Joined {
    /// Another caller's flight: wait on it.
    Waiting(watch::Receiver<Option<FlightResult>>),
    /// No room for another flight (`max_flights`).
    Full,
    /// A new flight, registered: this caller starts it.
    Leading(
        watch::Receiver<Option<FlightResult>>,
        watch::Sender<Option<FlightResult>>,
        FlightGuard,
    ),
}

/// Waits for a flight's result.
async fn wait(mut rx: watch::Receiver<Option<FlightResult>>) -> FlightResult {
    match rx.wait_for(Option::is_some).await {
        Ok(done) => done.clone().unwrap_or_else(|| Err(task_lost())),
        Err(_) => Err(task_lost()),
    }
}

/// A flight's result as one caller sees it.
fn served(result: FlightResult, leader: bool) -> Result<Served, FetchError> {
    let (answer, source) = result.map_err(|e| e.coalesced_if(!leader))?;
    let status = match source {
        Source::Tier(tier) => CacheStatus::Hit(tier),
        Source::Stale => CacheStatus::Stale,
        Source::Fetched if leader => CacheStatus::Miss,
        Source::Fetched | Source::OtherReplica => CacheStatus::Coalesced,
    };
    Ok(Served { answer, status })
}

/// A flight task that died (a panic) may have been sending: billed unknown.
fn task_lost() -> FetchError {
    FetchError::no_answer(Arc::new(TaskLost), Billed::Unknown)
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TieredCache {
    /// A builder with a 256 MiB memory tier and no remote tier.
    pub fn builder() -> TieredCacheBuilder {
        TieredCacheBuilder::default()
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
        self.get_or_fetch_with(lookup, options, move || fetch).await
    }

    /// As [`TieredCache::get_or_fetch`], with the [`Fetch`] built by `make` only if this
    /// caller has to lead a flight: a hit or a joined flight builds nothing (the proxy's hit
    /// path).
    ///
    /// # Errors
    /// As [`TieredCache::get_or_fetch`].
    pub async fn get_or_fetch_with<F: Fetch>(
        &self,
        lookup: Arc<dyn Lookup>,
        options: FetchOptions,
        make: impl FnOnce() -> F,
    ) -> Result<Served, FetchError> {
        let key = lookup.cache_key();
        if !options.force_refresh
            && let Some(served) = self.cached_by_key(&key, options.max_age).await
        {
            return Ok(served);
        }
        self.flight(lookup, options, make).await
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
        let key = lookup.cache_key();
        // Join the key's flight while there is one; a caller leads at most once.
        let (rx, tx, guard) = loop {
            match self.join_or_lead(key) {
                Joined::Waiting(rx) => {
                    bump(&self.inner.counters.coalesced);
                    match wait(rx).await {
                        // Another caller's refusal (its budget) is no answer for this one:
                        // ask again, as the leader of a new flight if none runs by then.
                        Err(e) if e.refusal() => {}
                        result => return served(result, false),
                    }
                }
                Joined::Leading(rx, tx, guard) => break (rx, tx, guard),
                Joined::Full => return Err(FetchError::busy()),
            }
        };
        bump(&self.inner.counters.misses);
        let fetch = make();
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            let result = inner.resolve(&key, &*lookup, &fetch, options).await;
            // Tier 1 already holds a storable answer: the flight can end.
            tx.send_replace(Some(result));
            drop(guard);
        });
        served(wait(rx).await, true)
    }

    /// Joins the key's flight, or registers a new one that this caller leads.
    fn join_or_lead(&self, key: CacheKey) -> Joined {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(flight) = flights.get(&key) {
            return Joined::Waiting(flight.rx.clone());
        }
        if flights.len() >= self.inner.max_flights {
            return Joined::Full;
        }
        let (tx, rx) = watch::channel(None);
        let id = self.inner.next_flight.fetch_add(1, Ordering::Relaxed);
        flights.insert(key, Flight { id, rx: rx.clone() });
        let guard = FlightGuard {
            inner: Arc::clone(&self.inner),
            key,
            id,
        };
        Joined::Leading(rx, tx, guard)
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
                Err(_) => RemoteStatus::Down,
            },
        }
    }

    /// Adds `delta` to a counter shared by every replica on the remote tier, named by `id`
    /// (hashed like cache keys: an id may hold a client's name and a date) and expiring `ttl`
    /// after its creation, in one atomic step: with a `limit`, a positive `delta` that would
    /// take the total past it is not added. Returns whether it was added and the total after;
    /// `None` without a remote tier or while it is failing (callers keep their own count then).
    pub async fn shared_counter_add(
        &self,
        id: &str,
        delta: i64,
        limit: Option<i64>,
        ttl: Duration,
    ) -> Option<(bool, i64)> {
        let remote = self.inner.remote.as_ref()?;
        let key = CacheKey::builder(proverka_core::Provider::Fssp, "shared-counter")
            .exact("id", id)
            .build();
        let name = format!("{}c", remote.names(&key).value.trim_end_matches('v'));
        remote
            .call(&self.inner.counters, |s| s.add(&name, delta, limit, ttl))
            .await
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

impl Remote {
    fn names(&self, key: &CacheKey) -> Names {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.naming_key)
            .expect("HMAC takes keys of any length");
        mac.update(key.digest());
        let id: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let base = format!("{}{{{id}}}", self.prefix);
        Names {
            value: format!("{base}:v"),
            lock: format!("{base}:l"),
            error: format!("{base}:e"),
            channel: format!("{base}:n"),
        }
    }

    /// One remote operation through the breaker; a failure is counted and becomes `None`.
    async fn call<'a, T>(
        &'a self,
        counters: &Counters,
        op: impl FnOnce(&'a dyn RemoteStore) -> BoxFuture<'a, Result<T, RemoteError>>,
    ) -> Option<T> {
        if !self.breaker.allow() {
            bump(&counters.remote_errors);
            return None;
        }
        match op(&*self.store).await {
            Ok(v) => {
                self.breaker.success();
                Some(v)
            }
            Err(e) => {
                self.breaker.failure();
                bump(&counters.remote_errors);
                tracing::debug!(error = %e, "remote cache tier failed; continuing without it");
                None
            }
        }
    }

    /// Tries the cross-replica lock, telling a Redis that refuses the write from one that
    /// cannot be reached.
    async fn try_lock(&self, lock: &str, token: &str, ttl: Duration) -> LockAttempt {
        if !self.breaker.allow() {
            return LockAttempt::Unreachable;
        }
        match self.store.try_lock(lock, token, ttl).await {
            Ok(taken) => {
                self.breaker.success();
                LockAttempt::Answered(taken)
            }
            Err(e) if e.is_refused() => {
                tracing::warn!(error = %e, "Redis refuses the lock write; not paying blindly");
                LockAttempt::Refused
            }
            Err(e) => {
                self.breaker.failure();
                tracing::debug!(error = %e, "remote cache tier failed; continuing without it");
                LockAttempt::Unreachable
            }
        }
    }

    async fn read(&self, counters: &Counters, name: &str) -> Option<Answer> {
        let bytes = self.call(counters, |s| s.get(name)).await.flatten()?;
        envelope::decode(&bytes, self.encryption.as_ref(), name.as_bytes())
    }

    async fn write(&self, counters: &Counters, name: &str, answer: &Answer, ttl: Duration) {
        let bytes = envelope::encode(answer, self.encryption.as_ref(), name.as_bytes());
        self.call(counters, |s| s.set(name, bytes, ttl)).await;
    }
}

/// What a lock write came to.
enum LockAttempt {
    /// Redis answered: taken, or held by another replica.
    Answered(bool),
    /// Redis answered with a refusal (OOM, READONLY).
    Refused,
    /// Redis could not be reached (or the breaker is open).
    Unreachable,
}

/// How a flight's calls ended.
enum Called {
    /// No call: the caller's reservation was refused.
    Refused(Refusal),
    /// The last call brought an answer (judged).
    Answered(Arc<Answer>),
    /// The last call brought none; billed as it may have been.
    NoAnswer(TransportError, Billed),
}

/// What the cross-replica protocol decided for a flight.
enum Coordination {
    /// Fetch here; hold this lock token (if the remote tier was reachable).
    Fetch(Option<String>),
    /// Another replica produced the answer.
    Done(Arc<Answer>),
    /// Redis is up but refuses the lock write (OOM, READONLY) and nobody holds the lock:
    /// another replica may be calling unseen, so this one does not pay blindly.
    Refused,
}

impl Inner {
    async fn fresh_in_tiers(
        &self,
        key: &CacheKey,
        max_age: Option<Duration>,
    ) -> Option<(Arc<Answer>, Tier)> {
        let now = SystemTime::now();
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

    /// A flight's whole life: re-check memory, coordinate with replicas, then reserve, send,
    /// judge, settle and retry what is free; store and share.
    async fn resolve(
        &self,
        key: &CacheKey,
        lookup: &dyn Lookup,
        fetch: &dyn Fetch,
        options: FetchOptions,
    ) -> FlightResult {
        // A flight that ended between this caller's read and its start has stored its answer
        // in memory before it left the map: an in-process check, no remote read.
        if !options.force_refresh
            && let Some(a) = self.memory.get(key).await
            && a.is_fresh(SystemTime::now(), options.max_age)
        {
            bump(&self.counters.hits_memory);
            return Ok((a, Source::Tier(Tier::Memory)));
        }
        let started = SystemTime::now();
        let token = match &self.remote {
            None => None,
            Some(remote) => match self.coordinate(remote, key, options, started).await {
                Coordination::Done(answer) => {
                    if answer.verdict.keep_for().is_some() {
                        self.memory.insert(*key, Arc::clone(&answer)).await;
                    }
                    return Ok((answer, Source::OtherReplica));
                }
                Coordination::Fetch(token) => token,
                Coordination::Refused => return Err(FetchError::degraded()),
            },
        };
        let names = self.remote.as_ref().map(|r| r.names(key));
        let renewal = match (&self.remote, &names, &token) {
            (Some(_), Some(n), Some(t)) => Some(self.spawn_renewal(n.lock.clone(), t.clone())),
            _ => None,
        };
        let called = self.call(lookup, fetch).await;
        if let Some(stop) = renewal {
            let _ = stop.send(());
        }
        let result = match called {
            Called::Refused(refusal) => Err(FetchError::refused(refusal)),
            Called::Answered(answer) => {
                self.store(key, &answer, names.as_ref()).await;
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
        if let (Some(remote), Some(n), Some(t)) = (&self.remote, &names, &token) {
            remote.call(&self.counters, |s| s.unlock(&n.lock, t)).await;
        }
        result
    }

    /// The provider calls of one flight: reserve, send, judge once, settle; again only while
    /// the verdict says the failure was free and the retry policy allows.
    async fn call(&self, lookup: &dyn Lookup, fetch: &dyn Fetch) -> Called {
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
                Ok(raw) => lookup.judge(raw),
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
                    fetched_at: SystemTime::now(),
                })),
                Err(e) => Called::NoAnswer(e, verdict.billed()),
            };
        }
    }

    /// Stores a storable answer in both tiers, or shares a non-storable one briefly with
    /// replicas that wait on this fetch; then tells them.
    async fn store(&self, key: &CacheKey, answer: &Arc<Answer>, names: Option<&Names>) {
        let keep_for = answer.verdict.keep_for();
        if keep_for.is_some() {
            self.memory.insert(*key, Arc::clone(answer)).await;
        }
        let (Some(remote), Some(names)) = (&self.remote, names) else {
            return;
        };
        match keep_for {
            Some(ttl) => {
                let ttl = ttl + self.timing.stale_grace;
                remote
                    .write(&self.counters, &names.value, answer, ttl)
                    .await;
            }
            None => {
                let ttl = self.timing.error_share_ttl;
                remote
                    .write(&self.counters, &names.error, answer, ttl)
                    .await;
            }
        }
        remote
            .call(&self.counters, |s| s.publish(&names.channel))
            .await;
    }

    /// An expired answer still within the stale grace, from memory or the remote tier.
    async fn stale(&self, key: &CacheKey, names: Option<&Names>) -> Option<Arc<Answer>> {
        let now = SystemTime::now();
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

    /// Keeps the lock alive while the fetch runs: every third of its TTL.
    fn spawn_renewal(&self, lock: String, token: String) -> tokio::sync::oneshot::Sender<()> {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let ttl = self.timing.lock_ttl;
        let remote = self.remote.as_ref().map(|r| Arc::clone(&r.store));
        tokio::spawn(async move {
            let Some(store) = remote else { return };
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(ttl / 3) => {
                        match store.renew_lock(&lock, &token, ttl).await {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!("cache lock lost while fetching; the fetch goes on");
                                return;
                            }
                            // Redis down: keep trying; the fetch goes on regardless.
                            Err(_) => {}
                        }
                    }
                }
            }
        });
        stop
    }

    /// The cross-replica protocol: take the lock and fetch, or wait for the holder's answer
    /// (notified by pub/sub, polled as a fallback), taking over if its lock lapses.
    async fn coordinate(
        &self,
        remote: &Remote,
        key: &CacheKey,
        options: FetchOptions,
        started: SystemTime,
    ) -> Coordination {
        let names = remote.names(key);
        let token = random_token();
        let deadline = Instant::now() + self.timing.max_remote_wait;
        let mut waited = false;
        let counters = &self.counters;
        // A forced refresh accepts only answers fetched after it started.
        let recent = |a: &Answer| !options.force_refresh || a.fetched_at >= started;
        loop {
            let taken = match remote
                .try_lock(&names.lock, &token, self.timing.lock_ttl)
                .await
            {
                LockAttempt::Answered(taken) => {
                    self.refusing.store(false, Ordering::Relaxed);
                    taken
                }
                // Redis down: the documented fallback, serve without it.
                LockAttempt::Unreachable => return Coordination::Fetch(None),
                LockAttempt::Refused => {
                    self.refusing.store(true, Ordering::Relaxed);
                    bump(&counters.remote_errors);
                    // A lock taken before Redis filled up is still there: wait on its holder.
                    match remote.call(counters, |s| s.exists(&names.lock)).await {
                        Some(true) => false,
                        _ => return Coordination::Refused,
                    }
                }
            };
            if taken {
                if waited {
                    bump(&counters.lock_takeovers);
                }
                // Another replica may have stored the answer just before we took the lock.
                if let Some(a) = remote.read(counters, &names.value).await
                    && recent(&a)
                    && a.is_fresh(SystemTime::now(), options.max_age)
                {
                    remote
                        .call(counters, |s| s.unlock(&names.lock, &token))
                        .await;
                    return Coordination::Done(Arc::new(a));
                }
                return Coordination::Fetch(Some(token));
            }
            if !waited {
                bump(&counters.remote_waits);
                waited = true;
            }
            // Subscribe first, then read: a notification sent in between is not missed.
            let mut subscription = remote
                .call(counters, |s| s.subscribe(&names.channel))
                .await
                .flatten();
            let mut pause = Duration::from_millis(10);
            loop {
                if let Some(a) = remote.read(counters, &names.value).await
                    && recent(&a)
                    && a.is_fresh(SystemTime::now(), options.max_age)
                {
                    return Coordination::Done(Arc::new(a));
                }
                if let Some(a) = remote.read(counters, &names.error).await
                    && a.fetched_at >= started
                {
                    return Coordination::Done(Arc::new(a));
                }
                match remote.call(counters, |s| s.exists(&names.lock)).await {
                    None => return Coordination::Fetch(None),
                    Some(false) => break,
                    Some(true) => {}
                }
                if Instant::now() >= deadline {
                    return Coordination::Fetch(None);
                }
                match subscription.as_mut() {
                    Some(sub) => {
                        tokio::select! {
                            _ = sub.recv() => {}
                            () = tokio::time::sleep(pause * 10) => {}
                        }
                    }
                    None => tokio::time::sleep(pause).await,
                }
                pause = (pause * 2).min(Duration::from_millis(250));
            }
        }
    }
}
