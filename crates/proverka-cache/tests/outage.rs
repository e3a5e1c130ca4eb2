//! Replicas on an in-memory shared store through a Redis outage: a miss waits for Redis
//! instead of paying without the cross-replica lock, a holder stores what it paid for once
//! Redis is back, and past the outage wait each replica goes on without it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{BREAKER_OPEN_FOR, LOCK_TTL, TestLookup, Upstream, shared_builder};
use proverka_cache::{CacheStatus, Clock, ManualClock, MemoryStore, TieredCache};

const OUTAGE_WAIT: Duration = Duration::from_secs(20);

/// Two replicas on one store and one clock (the store's expiry, the breakers' pauses and the
/// outage wait are all read on it: the test moves it).
fn replicas_on_one_clock(
    store: &MemoryStore,
    clock: &Arc<ManualClock>,
) -> (TieredCache, TieredCache) {
    let replica = || {
        shared_builder(store)
            .clock(Arc::clone(clock) as Arc<dyn Clock>)
            .build()
    };
    (replica(), replica())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_wait_out_a_short_redis_outage_and_then_pay_once() {
    let clock = Arc::new(ManualClock::default());
    let store = MemoryStore::with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
    let (a, b) = replicas_on_one_clock(&store, &clock);
    let upstream = Upstream::default();
    let lookup = TestLookup::named("asked on two replicas during a failover");
    store.set_down(true);
    let on_a = common::spawn_caller(&a, &lookup, upstream.answer("once", Duration::ZERO));
    let on_b = common::spawn_caller(&b, &lookup, upstream.answer("twice", Duration::ZERO));
    // Neither can see whether the other calls: both wait for Redis, neither pays.
    common::until("both replicas wait for Redis", || {
        a.stats().outage_waits + b.stats().outage_waits == 2
    })
    .await;
    assert_eq!(upstream.calls(), 0);
    // Redis is back within the wait (and the breakers' pause is over): one replica takes the
    // lock and pays, the other waits for its answer.
    store.set_down(false);
    clock.advance(BREAKER_OPEN_FOR);
    let (on_a, on_b) = (on_a.await.unwrap().unwrap(), on_b.await.unwrap().unwrap());
    assert_eq!(on_a.answer.raw.body, on_b.answer.raw.body);
    assert_eq!(
        upstream.calls(),
        1,
        "one provider call across both replicas"
    );
    let mut statuses = [on_a.status, on_b.status];
    statuses.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(statuses, [CacheStatus::Coalesced, CacheStatus::Miss]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_outage_wait_each_replica_serves_without_redis() {
    let clock = Arc::new(ManualClock::default());
    let store = MemoryStore::with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
    let (a, b) = replicas_on_one_clock(&store, &clock);
    let upstream = Upstream::default();
    let lookup = TestLookup::named("asked during a long outage");
    store.set_down(true);
    let on_a = common::spawn_caller(&a, &lookup, upstream.answer("a", Duration::ZERO));
    let on_b = common::spawn_caller(&b, &lookup, upstream.answer("b", Duration::ZERO));
    common::until("both replicas wait for Redis", || {
        a.stats().outage_waits + b.stats().outage_waits == 2
    })
    .await;
    // The outage outlasts the wait: the documented fallback, each replica pays once.
    clock.advance(OUTAGE_WAIT);
    assert_eq!(on_a.await.unwrap().unwrap().status, CacheStatus::Miss);
    assert_eq!(on_b.await.unwrap().unwrap().status, CacheStatus::Miss);
    assert_eq!(upstream.calls(), 2);
    // A query first asked this deep into the outage does not wait at all.
    let waits = a.stats().outage_waits;
    let later = upstream
        .serve(&a, TestLookup::named("asked later"), "at once")
        .await
        .unwrap();
    assert_eq!(later.status, CacheStatus::Miss);
    assert_eq!(a.stats().outage_waits, waits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_stores_what_it_paid_for_once_redis_is_back_and_its_waiter_pays_nothing() {
    let clock = Arc::new(ManualClock::default());
    let store = MemoryStore::with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
    let (a, b) = replicas_on_one_clock(&store, &clock);
    let upstream = Upstream::default();
    let lookup = TestLookup::named("paid while Redis went away");
    // Replica a holds the lock and calls; replica b waits on it.
    let run = common::holder_and_waiter(&a, &b, &lookup, &upstream).await;
    // Redis goes away; then the provider answers a, which cannot store it.
    store.set_down(true);
    run.gate.add_permits(1);
    let served = run.holder.await.unwrap().unwrap();
    assert_eq!(
        (&served.answer.raw.body[..], served.status),
        (&b"paid once"[..], CacheStatus::Miss),
        "a's caller is served without waiting for Redis"
    );
    common::until(
        "a keeps its answer and b keeps waiting, both for Redis",
        || a.stats().outage_waits == 1 && b.stats().outage_waits == 1,
    )
    .await;
    // Redis is back: a stores what it paid for, and b gets it instead of calling again.
    store.set_down(false);
    clock.advance(BREAKER_OPEN_FOR);
    let waited = run.waiter.await.unwrap().unwrap();
    assert_eq!(
        (&waited.answer.raw.body[..], waited.status),
        (&b"paid once"[..], CacheStatus::Coalesced)
    );
    assert_eq!(upstream.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_lapsed_in_an_outage_is_not_taken_over_while_its_holder_stores() {
    let clock = Arc::new(ManualClock::default());
    let store = MemoryStore::with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
    let (a, b) = replicas_on_one_clock(&store, &clock);
    let upstream = Upstream::default();
    let lookup = TestLookup::named("lock lapsed while Redis was away");
    let run = common::holder_and_waiter(&a, &b, &lookup, &upstream).await;
    store.set_down(true);
    run.gate.add_permits(1);
    run.holder.await.unwrap().unwrap();
    common::until("both wait for Redis", || {
        a.stats().outage_waits == 1 && b.stats().outage_waits == 1
    })
    .await;
    // The outage outlasts a's lock: when Redis is back, the lock is gone and a has not stored
    // yet. b gives a living holder a lock's time to live (on the clock, which stays) to store.
    clock.advance(LOCK_TTL + BREAKER_OPEN_FOR);
    store.set_down(false);
    let waited = run.waiter.await.unwrap().unwrap();
    assert_eq!(&waited.answer.raw.body[..], b"paid once");
    assert_eq!((upstream.calls(), b.stats().lock_takeovers), (1, 0));
}
