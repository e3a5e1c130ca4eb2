//! A provider-free `Lookup` and a counting fetch for the cache tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proverka_core::{
    Billed, CacheKey, Cost, Lookup, Provider, RawAnswer, TransportError, TransportErrorKind,
    UpstreamRequest, Verdict,
};

/// A lookup whose answers are judged by their body: `ERR…` is a free, retryable provider
/// error, `BAD…` unreadable and possibly billed, anything else an answer kept for `ttl`.
#[derive(Debug, Clone)]
pub struct TestLookup {
    pub name: String,
    pub ttl: Duration,
}

impl TestLookup {
    pub fn named(name: &str) -> Arc<dyn Lookup> {
        Arc::new(Self {
            name: name.to_owned(),
            ttl: Duration::from_secs(3600),
        })
    }

    pub fn with_ttl(name: &str, ttl: Duration) -> Arc<dyn Lookup> {
        Arc::new(Self {
            name: name.to_owned(),
            ttl,
        })
    }
}

impl Lookup for TestLookup {
    fn provider(&self) -> Provider {
        Provider::Fssp
    }
    fn query_kind(&self) -> &'static str {
        "test"
    }
    fn cache_key(&self) -> CacheKey {
        CacheKey::builder(Provider::Fssp, "test")
            .text("name", &self.name)
            .build()
    }
    fn cost(&self) -> Cost {
        Cost::Paid { typical: None }
    }
    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new("/test")
    }
    fn judge(&self, raw: &RawAnswer, _now: std::time::SystemTime) -> Verdict {
        if raw.body.starts_with(b"ERR") {
            Verdict::ProviderError {
                code: "456".into(),
                billed: Billed::No,
                retryable: true,
            }
        } else if raw.body.starts_with(b"BAD") {
            Verdict::Unreadable {
                billed: Billed::Unknown,
                what: "invalid JSON".into(),
            }
        } else {
            Verdict::Answer {
                billed: Billed::Yes(None),
                keep_for: self.ttl,
                reported: proverka_core::Reported::default(),
            }
        }
    }
    /// The cache never renders; the body as a JSON string keeps the trait honest.
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, proverka_core::RenderError> {
        Ok(String::from_utf8_lossy(&raw.body).into_owned().into())
    }
}

/// A boxed fetch, as `TieredCache::get_or_fetch` takes it.
pub type Fetch = Box<
    dyn Fn() -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<RawAnswer, TransportError>> + Send>,
        > + Send
        + Sync,
>;

/// Counts calls; each returns `body` after `delay`.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub calls: Arc<AtomicUsize>,
    /// Woken at every call, so a test waits on the count, never on a clock.
    pub called: Arc<tokio::sync::Notify>,
}

/// A connection that failed before the request was written: certainly not billed.
pub fn unreachable() -> TransportError {
    TransportError::new(
        TransportErrorKind::Connect,
        Provider::Fssp,
        "/test",
        false,
        None,
    )
}

/// A call that timed out after its request was sent: billed unknown.
pub fn timed_out_after_sending() -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        Provider::Fssp,
        "/test",
        true,
        None,
    )
}

/// Whether a fetch error is the one [`unreachable`] makes.
pub fn is_unreachable(e: &proverka_cache::FetchError) -> bool {
    e.downcast_ref::<TransportError>()
        .is_some_and(|t| t.kind() == TransportErrorKind::Connect)
}

impl Upstream {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Waits until `n` fetches have started (on the count, not on a clock).
    pub async fn started(&self, n: usize) {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let called = self.called.notified();
                let mut called = std::pin::pin!(called);
                // Registered before the count is read, so a call between the two wakes it.
                called.as_mut().enable();
                if self.calls() >= n {
                    return;
                }
                called.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} fetches never started"));
    }

    /// `get_or_fetch` with the default options and a fetch answering `body` at once.
    pub async fn serve(
        &self,
        cache: &proverka_cache::TieredCache,
        lookup: Arc<dyn Lookup>,
        body: &'static str,
    ) -> Result<proverka_cache::Served, proverka_cache::FetchError> {
        self.serve_as(cache, lookup, proverka_cache::FetchOptions::default(), body)
            .await
    }

    /// `get_or_fetch` with `options` and a fetch answering `body` at once.
    pub async fn serve_as(
        &self,
        cache: &proverka_cache::TieredCache,
        lookup: Arc<dyn Lookup>,
        options: proverka_cache::FetchOptions,
        body: &'static str,
    ) -> Result<proverka_cache::Served, proverka_cache::FetchError> {
        cache
            .get_or_fetch(lookup, options, self.answer(body, Duration::ZERO))
            .await
    }

    /// `get_or_fetch` with `options` and a fetch that fails at once, before its request was
    /// written (free).
    pub async fn serve_failed(
        &self,
        cache: &proverka_cache::TieredCache,
        lookup: Arc<dyn Lookup>,
        options: proverka_cache::FetchOptions,
    ) -> Result<proverka_cache::Served, proverka_cache::FetchError> {
        cache
            .get_or_fetch(lookup, options, self.fail(Duration::ZERO))
            .await
    }

    /// A fetch that answers `body` after `delay`.
    pub fn answer(&self, body: &'static str, delay: Duration) -> Fetch {
        self.respond(Some(body), delay)
    }

    /// A fetch that fails after `delay`, before its request was written (free).
    pub fn fail(&self, delay: Duration) -> Fetch {
        self.respond(None, delay)
    }

    /// A fetch that answers `body` once `gate` gives it a permit (the test decides when the
    /// provider answers, instead of a delay).
    pub fn answer_when(&self, body: &'static str, gate: Arc<tokio::sync::Semaphore>) -> Fetch {
        self.when(gate, move || Ok(RawAnswer::json(body)))
    }

    /// A fetch that times out, its request sent (billed unknown), once `gate` gives it a
    /// permit.
    pub fn time_out_when(&self, gate: Arc<tokio::sync::Semaphore>) -> Fetch {
        self.when(gate, || Err(timed_out_after_sending()))
    }

    /// A fetch that comes to `outcome` once `gate` gives it a permit.
    fn when(
        &self,
        gate: Arc<tokio::sync::Semaphore>,
        outcome: impl Fn() -> Result<RawAnswer, TransportError> + Copy + Send + Sync + 'static,
    ) -> Fetch {
        let calls = Arc::clone(&self.calls);
        let called = Arc::clone(&self.called);
        Box::new(move || {
            let (calls, called, gate) =
                (Arc::clone(&calls), Arc::clone(&called), Arc::clone(&gate));
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                called.notify_waiters();
                gate.acquire().await.expect("the gate stays open").forget();
                outcome()
            })
        })
    }

    fn respond(&self, body: Option<&'static str>, delay: Duration) -> Fetch {
        let calls = Arc::clone(&self.calls);
        let called = Arc::clone(&self.called);
        Box::new(move || {
            let calls = Arc::clone(&calls);
            let called = Arc::clone(&called);
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                called.notify_waiters();
                tokio::time::sleep(delay).await;
                body.map(RawAnswer::json).ok_or_else(unreachable)
            })
        })
    }
}

/// A caller of `lookup` (default options) on a task of its own, fetching with `fetch`.
pub fn spawn_caller(
    cache: &proverka_cache::TieredCache,
    lookup: &Arc<dyn Lookup>,
    fetch: impl proverka_cache::Fetch,
) -> tokio::task::JoinHandle<Result<proverka_cache::Served, proverka_cache::FetchError>> {
    let (cache, lookup) = (cache.clone(), Arc::clone(lookup));
    tokio::spawn(async move {
        cache
            .get_or_fetch(lookup, proverka_cache::FetchOptions::default(), fetch)
            .await
    })
}

/// `n` concurrent callers of one key, spread round-robin over `caches` (replicas), each with a
/// fetch answering `"shared"` after `latency`. Asserts every caller got the answer; returns
/// how many times the upstream was called.
pub async fn callers_on_replicas(
    caches: &[proverka_cache::TieredCache],
    name: &str,
    n: usize,
    latency: Duration,
) -> usize {
    let upstream = Upstream::default();
    let lookup = TestLookup::named(name);
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            spawn_caller(
                &caches[i % caches.len()],
                &lookup,
                upstream.answer("shared", latency),
            )
        })
        .collect();
    for t in tasks {
        assert_eq!(&t.await.unwrap().unwrap().answer.raw.body[..], b"shared");
    }
    upstream.calls()
}

/// The cross-replica lock, whatever the shared store (in memory or Redis): a replica took the
/// lock of a key on `store` and died, nobody renews it. `cache` (on the same store, with
/// `lock_ttl`) waits for the lock to lapse, takes it over and fetches once; the takeover counter
/// says so, not a clock.
pub async fn a_dead_holders_lock_is_taken_over(
    store: &dyn proverka_cache::RemoteStore,
    cache: &proverka_cache::TieredCache,
    lock_ttl: Duration,
) {
    let lookup = TestLookup::named("crashed holder");
    let lock = cache
        .remote_value_name(&*lookup)
        .unwrap()
        .replace(":v", ":l");
    assert!(
        store
            .try_lock(&lock, "dead-replica", lock_ttl)
            .await
            .unwrap()
    );
    let upstream = Upstream::default();
    let served = upstream.serve(cache, lookup, "taken over").await.unwrap();
    assert_eq!(&served.answer.raw.body[..], b"taken over");
    assert_eq!((upstream.calls(), cache.stats().lock_takeovers), (1, 1));
}

/// The cross-replica lock: replica `a` fetches for three lock TTLs (`lock_ttl` is theirs);
/// its renewal keeps replica `b` waiting for that answer, never fetching a second time.
pub async fn a_live_holder_keeps_its_lock(
    a: &proverka_cache::TieredCache,
    b: &proverka_cache::TieredCache,
    lock_ttl: Duration,
) {
    let upstream = Upstream::default();
    let lookup = TestLookup::named("live holder");
    let first = spawn_caller(a, &lookup, upstream.answer("long", lock_ttl * 3));
    upstream.started(1).await;
    let waited = upstream.serve(b, lookup, "dup").await.unwrap();
    assert_eq!(
        (&waited.answer.raw.body[..], waited.status),
        (&b"long"[..], proverka_cache::CacheStatus::Coalesced)
    );
    first.await.unwrap().unwrap();
    assert_eq!(upstream.calls(), 1);
}

/// Waits until `reached` holds, yielding in between: a wait on a state, never on a clock.
///
/// # Panics
/// When it does not hold within 30 s (`what` says what never happened).
pub async fn until(what: &str, reached: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while !reached() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: never happened"));
}

/// The lock TTL of [`shared_builder`]'s replicas.
pub const LOCK_TTL: Duration = Duration::from_millis(300);
/// How long [`shared_builder`]'s breaker stays open.
pub const BREAKER_OPEN_FOR: Duration = Duration::from_millis(100);

/// A replica on `store`: a short lock TTL ([`LOCK_TTL`]) and a breaker that opens after two
/// failures for [`BREAKER_OPEN_FOR`].
pub fn shared_builder(store: &proverka_cache::MemoryStore) -> proverka_cache::TieredCacheBuilder {
    proverka_cache::TieredCache::builder()
        .remote(Arc::new(store.clone()) as Arc<dyn proverka_cache::RemoteStore>)
        .lock_ttl(LOCK_TTL)
        .breaker(proverka_cache::BreakerConfig {
            failures_to_open: 2,
            open_for: BREAKER_OPEN_FOR,
        })
}

/// Callers on two replicas: the holder's has the lock and is calling (its provider answers
/// `"paid once"`, or what the test made it do, when `gate` lets it), the waiter's waits on it (its own call would answer
/// `"paid twice"`).
pub struct HolderAndWaiter {
    pub holder: tokio::task::JoinHandle<Result<proverka_cache::Served, proverka_cache::FetchError>>,
    pub waiter: tokio::task::JoinHandle<Result<proverka_cache::Served, proverka_cache::FetchError>>,
    pub gate: Arc<tokio::sync::Semaphore>,
}

/// Starts [`HolderAndWaiter`]: `lookup` asked on replica `holder`, then, once its call has
/// started, on replica `waiter`, which waits on it (on the count, not on a clock).
pub async fn holder_and_waiter(
    holder: &proverka_cache::TieredCache,
    waiter: &proverka_cache::TieredCache,
    lookup: &Arc<dyn Lookup>,
    upstream: &Upstream,
) -> HolderAndWaiter {
    holder_and_waiter_with(holder, waiter, lookup, upstream, |gate| {
        upstream.answer_when("paid once", gate)
    })
    .await
}

/// As [`holder_and_waiter`], the holder's call made by `holder_fetch` from the gate.
pub async fn holder_and_waiter_with(
    holder: &proverka_cache::TieredCache,
    waiter: &proverka_cache::TieredCache,
    lookup: &Arc<dyn Lookup>,
    upstream: &Upstream,
    holder_fetch: impl FnOnce(Arc<tokio::sync::Semaphore>) -> Fetch,
) -> HolderAndWaiter {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let on_holder = spawn_caller(holder, lookup, holder_fetch(Arc::clone(&gate)));
    upstream.started(1).await;
    let on_waiter = spawn_caller(
        waiter,
        lookup,
        upstream.answer("paid twice", Duration::ZERO),
    );
    until("the waiter waits on the holder's call", || {
        waiter.stats().remote_waits == 1
    })
    .await;
    HolderAndWaiter {
        holder: on_holder,
        waiter: on_waiter,
        gate,
    }
}
