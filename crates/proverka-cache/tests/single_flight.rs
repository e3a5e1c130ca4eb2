//! One process (and replicas on an in-memory shared store): single flight, cancellation,
//! errors, freshness control, stale grace, remote faults.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{BREAKER_OPEN_FOR, LOCK_TTL, TestLookup, Upstream, shared_builder};
use proverka_cache::{
    CacheStatus, FetchOptions, ManualClock, MemoryStore, Probe, RemoteStore, Tier, TieredCache,
};

const SLOW: Duration = Duration::from_millis(300);
fn shared_cache(store: &MemoryStore) -> TieredCache {
    shared_builder(store).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_make_one_fetch() {
    let cache = TieredCache::builder().build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("Иванов");
    let tasks: Vec<_> = (0..1000)
        .map(|_| common::spawn_caller(&cache, &lookup, upstream.answer("{\"ok\":1}", SLOW)))
        .collect();
    let mut statuses = std::collections::HashMap::new();
    for t in tasks {
        let served = t.await.unwrap().unwrap();
        assert_eq!(&served.answer.raw.body[..], b"{\"ok\":1}");
        *statuses.entry(served.status.as_header()).or_insert(0) += 1;
    }
    assert_eq!(upstream.calls(), 1);
    assert_eq!(statuses["MISS"], 1);
    assert_eq!(statuses.values().sum::<i32>(), 1000);
    let stats = cache.stats();
    assert_eq!(stats.fetches, 1);
    assert_eq!(stats.misses, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_first_caller_does_not_cancel_the_fetch() {
    let cache = TieredCache::builder().build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("Петров");
    let first = common::spawn_caller(&cache, &lookup, upstream.answer("paid", SLOW));
    upstream.started(1).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    // Callers arriving while the orphaned fetch runs join it.
    let second = cache
        .get_or_fetch(
            lookup.clone(),
            FetchOptions::default(),
            upstream.answer("second", SLOW),
        )
        .await
        .unwrap();
    assert_eq!(&second.answer.raw.body[..], b"paid");
    assert_eq!(second.status, CacheStatus::Coalesced);
    let third = cache
        .get_or_fetch(
            lookup,
            FetchOptions::default(),
            upstream.answer("third", SLOW),
        )
        .await
        .unwrap();
    assert_eq!(third.status, CacheStatus::Hit(Tier::Memory));
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test]
async fn the_answer_is_stored_even_when_every_caller_left() {
    let cache = TieredCache::builder().build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("Сидоров");
    let caller = common::spawn_caller(&cache, &lookup, upstream.answer("paid", SLOW));
    // The only caller leaves once the provider call has started.
    upstream.started(1).await;
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    assert!(cache.wait_idle(Duration::from_secs(5)).await);
    let hit = cache
        .cached(&*lookup, None)
        .await
        .expect("stored after the caller left");
    assert_eq!(&hit.answer.raw.body[..], b"paid");
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_shared_with_waiters_and_not_cached() {
    let cache = TieredCache::builder().build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("error");
    let tasks: Vec<_> = (0..50)
        .map(|_| common::spawn_caller(&cache, &lookup, upstream.fail(SLOW)))
        .collect();
    let mut coalesced = 0;
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert!(common::is_unreachable(&e));
        coalesced += usize::from(e.coalesced());
    }
    assert_eq!((upstream.calls(), coalesced), (1, 49));
    // A provider error answer is passed on but not stored either.
    let served = upstream
        .serve(&cache, lookup.clone(), "ERR 456")
        .await
        .unwrap();
    assert_eq!(served.status, CacheStatus::Miss);
    assert!(served.answer.verdict.keep_for().is_none());
    assert!(cache.cached(&*lookup, None).await.is_none());
    assert_eq!(upstream.calls(), 2);
}

#[tokio::test]
async fn max_age_and_force_refresh() {
    let clock = Arc::new(ManualClock::default());
    let cache = TieredCache::builder().clock(clock.clone()).build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("age");
    upstream.serve(&cache, lookup.clone(), "v1").await.unwrap();
    clock.advance(Duration::from_secs(60));
    let young = FetchOptions {
        max_age: Some(Duration::from_secs(30)),
        ..FetchOptions::default()
    };
    let fresh = upstream
        .serve_as(&cache, lookup.clone(), young, "v2")
        .await
        .unwrap();
    assert_eq!(
        (&fresh.answer.raw.body[..], fresh.status),
        (&b"v2"[..], CacheStatus::Miss)
    );
    let relaxed = FetchOptions {
        max_age: Some(Duration::from_secs(3600)),
        ..FetchOptions::default()
    };
    let hit = upstream
        .serve_as(&cache, lookup.clone(), relaxed, "v3")
        .await
        .unwrap();
    assert_eq!(
        (&hit.answer.raw.body[..], hit.status),
        (&b"v2"[..], CacheStatus::Hit(Tier::Memory))
    );
    // no-cache: fetched anew even on a hit, and still one fetch for concurrent callers.
    let force = FetchOptions {
        force_refresh: true,
        ..FetchOptions::default()
    };
    let (a, b) = tokio::join!(
        cache.get_or_fetch(lookup.clone(), force, upstream.answer("v4", SLOW)),
        cache.get_or_fetch(lookup.clone(), force, upstream.answer("v5", SLOW)),
    );
    assert_eq!(&a.unwrap().answer.raw.body[..], b"v4");
    assert_eq!(&b.unwrap().answer.raw.body[..], b"v4");
    assert_eq!(upstream.calls(), 3);
}

#[tokio::test]
async fn stale_grace_serves_an_expired_answer_when_the_provider_fails() {
    let clock = Arc::new(ManualClock::default());
    let cache = TieredCache::builder()
        .clock(clock.clone())
        .stale_grace(Duration::from_secs(24 * 3600))
        .build();
    let upstream = Upstream::default();
    let lookup = TestLookup::with_ttl("stale", Duration::from_secs(3600));
    upstream.serve(&cache, lookup.clone(), "old").await.unwrap();
    // Two hours later the answer (kept an hour) has expired, within a day's grace.
    clock.advance(Duration::from_secs(2 * 3600));
    let served = upstream
        .serve_failed(&cache, lookup.clone(), FetchOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (&served.answer.raw.body[..], served.status),
        (&b"old"[..], CacheStatus::Stale)
    );
    let served = upstream
        .serve(&cache, lookup.clone(), "ERR busy")
        .await
        .unwrap();
    assert_eq!(served.status, CacheStatus::Stale);
    let strict = FetchOptions {
        allow_stale: false,
        ..FetchOptions::default()
    };
    assert!(
        upstream
            .serve_failed(&cache, lookup.clone(), strict)
            .await
            .is_err()
    );
    // Without a grace, an expired answer is never served.
    let no_grace = TieredCache::builder().clock(clock.clone()).build();
    let short = TestLookup::with_ttl("nograce", Duration::from_secs(3600));
    upstream
        .serve(&no_grace, short.clone(), "old")
        .await
        .unwrap();
    clock.advance(Duration::from_secs(2 * 3600));
    assert!(
        upstream
            .serve_failed(&no_grace, short, FetchOptions::default())
            .await
            .is_err()
    );
    assert_eq!(cache.stats().stale_served, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_store_make_one_fetch() {
    let store = MemoryStore::new();
    let (a, b) = (shared_cache(&store), shared_cache(&store));
    let calls = common::callers_on_replicas(
        &[a.clone(), b.clone()],
        "replicas",
        500,
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(calls, 1);
    assert_eq!(a.stats().remote_waits + b.stats().remote_waits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_holder_s_lock_lapses_and_one_waiter_takes_over() {
    let store = MemoryStore::new();
    common::a_dead_holders_lock_is_taken_over(&store, &shared_cache(&store), LOCK_TTL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_holder_keeps_its_lock_past_the_ttl() {
    let store = MemoryStore::new();
    common::a_live_holder_keeps_its_lock(&shared_cache(&store), &shared_cache(&store), LOCK_TTL)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_remote_tier_never_fails_a_caller_and_is_used_again_later() {
    let store = MemoryStore::new();
    // The breaker's pause is read on this clock: the test moves it instead of waiting.
    let clock = Arc::new(ManualClock::default());
    // No outage wait: every miss goes straight on without Redis (the waits are tested below).
    let cache = shared_builder(&store)
        .clock(clock.clone())
        .outage_wait(Duration::ZERO)
        .build();
    let upstream = Upstream::default();
    store.set_down(true);
    for i in 0..20 {
        let lookup = TestLookup::named(&format!("down {i}"));
        let served = upstream.serve(&cache, lookup, "ok").await.unwrap();
        assert_eq!(served.status, CacheStatus::Miss);
    }
    assert!(cache.stats().remote_errors > 0);
    assert!(store.keys().is_empty());
    assert!(cache.stats().remote_skipped > 0, "the breaker opened");
    store.set_down(false);
    clock.advance(BREAKER_OPEN_FOR);
    let lookup = TestLookup::named("back");
    upstream.serve(&cache, lookup.clone(), "ok").await.unwrap();
    assert!(
        !store.keys().is_empty(),
        "the remote tier is written again once it is back"
    );
    // A new process (another cache on the same store) finds it in tier 2.
    let restarted = shared_cache(&store);
    let hit = upstream.serve(&restarted, lookup, "dup").await.unwrap();
    assert_eq!(hit.status, CacheStatus::Hit(Tier::Remote));
    assert_eq!(upstream.calls(), 21);
}

#[tokio::test]
async fn undecodable_remote_values_are_misses() {
    let store = MemoryStore::new();
    let cache = shared_cache(&store);
    let lookup = TestLookup::named("corrupt");
    let name = cache.remote_value_name(&*lookup).unwrap();
    for garbage in [
        b"".to_vec(),
        b"PVK\x01".to_vec(),
        b"PVK\x01\x00\xff\xff".to_vec(),
        vec![0xff; 100],
        b"PVK\x01\x01short".to_vec(),
    ] {
        store.put_raw(&name, garbage, Duration::from_secs(60));
        assert!(cache.cached(&*lookup, None).await.is_none());
    }
    let upstream = Upstream::default();
    let served = upstream.serve(&cache, lookup, "fresh").await.unwrap();
    assert_eq!(served.status, CacheStatus::Miss);
}

#[tokio::test]
async fn remote_names_hold_no_personal_data() {
    let store = MemoryStore::new();
    let cache = shared_cache(&store);
    let upstream = Upstream::default();
    let lookup = TestLookup::named("Иванов Иван 7707083893");
    upstream.serve(&cache, lookup, "x").await.unwrap();
    let keys = store.keys();
    assert!(!keys.is_empty());
    for k in keys {
        assert!(k.starts_with("proverka:{") && k.is_ascii(), "{k}");
        assert!(
            !k.contains("7707083893") && !k.to_lowercase().contains("иван"),
            "{k}"
        );
    }
}

#[tokio::test]
async fn the_flight_re_sends_only_what_the_verdict_calls_free() {
    let cache = TieredCache::builder()
        .retry(proverka_core::RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        })
        .build();
    // A free, retryable provider error, then the answer: two calls, one answer, stored.
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let served = cache
        .get_or_fetch(
            TestLookup::named("free"),
            FetchOptions::default(),
            move || {
                let n = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    Ok(proverka_core::RawAnswer::json(if n == 0 {
                        "ERR 456"
                    } else {
                        "v"
                    }))
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(&served.answer.raw.body[..], b"v");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    // An unreadable HTTP 200 (possibly billed): one call, passed on, never stored.
    let upstream = Upstream::default();
    let lookup = TestLookup::named("unknown");
    let served = upstream
        .serve(&cache, lookup.clone(), "BAD {")
        .await
        .unwrap();
    assert_eq!(
        served.answer.verdict.billed(),
        proverka_core::Billed::Unknown
    );
    assert_eq!(upstream.calls(), 1, "never re-sent");
    assert!(cache.cached(&*lookup, None).await.is_none(), "never stored");
    // A failed connect never reached the provider: re-sent up to the policy's attempts.
    let down = Upstream::default();
    let e = down
        .serve_failed(&cache, TestLookup::named("down"), FetchOptions::default())
        .await
        .unwrap_err();
    assert_eq!((down.calls(), e.billed()), (3, proverka_core::Billed::No));
}

/// A fetch whose reservation is refused until told otherwise (a client without budget).
struct Budgeted {
    allow: bool,
    release: Option<tokio::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>,
    upstream: common::Fetch,
}

#[derive(Debug, thiserror::Error)]
#[error("no budget left")]
struct NoBudget;

impl proverka_cache::Fetch for Budgeted {
    fn send(
        &self,
    ) -> proverka_cache::BoxFuture<
        '_,
        Result<proverka_core::RawAnswer, proverka_core::TransportError>,
    > {
        (self.upstream)()
    }
    fn reserve(&self) -> proverka_cache::BoxFuture<'_, Result<(), proverka_cache::Refusal>> {
        Box::pin(async move {
            if let Some(release) = &self.release
                && let Some(rx) = release.lock().await.take()
            {
                let _ = rx.await;
            }
            if self.allow {
                Ok(())
            } else {
                Err(proverka_cache::Refusal::new(NoBudget))
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_leader_s_joiners_ask_again_on_their_own_account() {
    let cache = TieredCache::builder().build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("refused");
    let (release, released) = tokio::sync::oneshot::channel();
    let poor = Budgeted {
        allow: false,
        release: Some(tokio::sync::Mutex::new(Some(released))),
        upstream: upstream.answer("v", Duration::ZERO),
    };
    let rich = Budgeted {
        allow: true,
        release: None,
        upstream: upstream.answer("v", Duration::ZERO),
    };
    let leader = common::spawn_caller(&cache, &lookup, poor);
    while cache.in_flight() == 0 {
        tokio::task::yield_now().await;
    }
    let joiner = common::spawn_caller(&cache, &lookup, rich);
    // Wait until the second caller has joined the first one's flight, then refuse it.
    while cache.stats().coalesced == 0 {
        tokio::task::yield_now().await;
    }
    release.send(()).unwrap();
    let e = leader.await.unwrap().unwrap_err();
    assert!(e.refusal() && e.downcast_ref::<NoBudget>().is_some(), "{e}");
    let served = joiner.await.unwrap().unwrap();
    assert_eq!(
        served.status,
        CacheStatus::Miss,
        "it led a flight of its own"
    );
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_after_an_uncached_result_leads_a_flight_of_its_own() {
    // An error is shared with the callers waiting for it, never with one who asks after it
    // was given: the flight leaves the map before its result goes out. Otherwise a caller
    // arriving in between joins the finished flight and gets its error without a call.
    let cache = TieredCache::builder().build();
    let upstream = Upstream::default();
    for i in 0..300 {
        let lookup = TestLookup::named(&format!("error {i}"));
        let options = FetchOptions::default();
        let first = upstream
            .serve_as(&cache, lookup.clone(), options, "ERR 456")
            .await;
        let second = upstream.serve_as(&cache, lookup, options, "ERR 456").await;
        assert_eq!(
            (first.unwrap().status, second.unwrap().status),
            (CacheStatus::Miss, CacheStatus::Miss),
            "round {i}"
        );
    }
    assert_eq!(cache.stats().coalesced, 0);
}

/// A flight whose task dies while sending (a panic) may have been billed: its caller is told
/// "billed: unknown", and nothing is stored.
#[tokio::test]
async fn a_flight_that_dies_while_sending_is_billed_unknown_and_not_stored() {
    let cache = TieredCache::builder().build();
    let lookup = TestLookup::named("dies-while-sending");
    let fetch: common::Fetch =
        Box::new(|| Box::pin(async { panic!("the flight dies while sending") }));
    let e = cache
        .get_or_fetch(Arc::clone(&lookup), FetchOptions::default(), fetch)
        .await
        .unwrap_err();
    assert_eq!(e.billed(), proverka_core::Billed::Unknown);
    assert!(cache.cached(&*lookup, None).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_takes_no_lock_so_a_caller_refused_after_it_holds_nobody_up() {
    let store = Arc::new(MemoryStore::new());
    let cache = TieredCache::builder().remote(store.clone()).build();
    let lookup = TestLookup::named("refused before flying");
    let lock = cache
        .remote_value_name(&*lookup)
        .unwrap()
        .replace(":v", ":l");
    let Probe::Miss(miss) = cache.probe(&*lookup, FetchOptions::default()).await else {
        panic!("nothing is cached yet");
    };
    // The caller is refused (its budget) and never flies: nobody waits on a lock of its.
    drop(miss);
    assert!(!store.exists(&lock).await.unwrap());
    // A caller that flies after its probe is served once.
    let upstream = Upstream::default();
    let Probe::Miss(miss) = cache.probe(&*lookup, FetchOptions::default()).await else {
        panic!("nothing is cached yet");
    };
    let served = cache
        .flight_after(miss, Arc::clone(&lookup), FetchOptions::default(), || {
            upstream.answer("once", Duration::ZERO)
        })
        .await
        .unwrap();
    assert_eq!(
        (&served.answer.raw.body[..], served.status),
        (&b"once"[..], CacheStatus::Miss)
    );
    assert!(matches!(
        cache.probe(&*lookup, FetchOptions::default()).await,
        Probe::Hit(_)
    ));
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_waiting_on_another_s_unreadable_answer_gets_it_and_sends_nothing() {
    let store = MemoryStore::new();
    let (a, b) = (shared_cache(&store), shared_cache(&store));
    let upstream = Upstream::default();
    let lookup = TestLookup::named("billed unknown across replicas");
    // Replica a's call comes back unreadable after it was sent: billed unknown. Replica b
    // asks meanwhile: it waits on a's flight and gets its result, never re-sending a query
    // that may have been billed.
    let run = common::holder_and_waiter_with(&a, &b, &lookup, &upstream, |gate| {
        upstream.answer_when("BAD body", gate)
    })
    .await;
    run.gate.add_permits(1);
    let waited = run.waiter.await.unwrap().unwrap();
    assert_eq!(&waited.answer.raw.body[..], b"BAD body");
    assert!(waited.answer.verdict.billed() == proverka_core::Billed::Unknown);
    let led = run.holder.await.unwrap().unwrap();
    assert!(led.answer.verdict.billed() == proverka_core::Billed::Unknown);
    assert_eq!(upstream.calls(), 1);
    // And it is stored for nobody: the next caller decides to pay again.
    assert!(b.cached(&*lookup, None).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_waiting_on_another_s_timed_out_call_gets_its_failure_and_sends_nothing() {
    let store = MemoryStore::new();
    let (a, b) = (shared_cache(&store), shared_cache(&store));
    let upstream = Upstream::default();
    let lookup = TestLookup::named("timed out across replicas");
    // Replica a's call will time out after its request was sent: billed unknown. Replica b
    // asks meanwhile and waits on it; then a's call times out. b gets that failure, billed
    // unknown, and never re-sends a query the provider may have billed.
    let run = common::holder_and_waiter_with(&a, &b, &lookup, &upstream, |gate| {
        upstream.time_out_when(gate)
    })
    .await;
    run.gate.add_permits(1);
    let waited = run.waiter.await.unwrap().unwrap_err();
    assert!(waited.billed() == proverka_core::Billed::Unknown);
    let timeout = waited
        .downcast_ref::<proverka_core::TransportError>()
        .expect("the failure as the provider call had it");
    assert_eq!(timeout.kind(), proverka_core::TransportErrorKind::Timeout);
    let led = run.holder.await.unwrap().unwrap_err();
    assert!(led.billed() == proverka_core::Billed::Unknown);
    assert_eq!(upstream.calls(), 1);
    // Nothing is stored: the next caller decides to pay again.
    assert!(b.cached(&*lookup, None).await.is_none());
}
