//! Against a real `redis-server` (started by the test on a free loopback port) and a real
//! 3-node Redis Cluster: replicas, lock takeover, Redis dying and coming back, encryption.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestLookup, Upstream};
use proverka_cache::{
    BreakerConfig, CacheStatus, Clock, EncryptionKey, FetchOptions, Keyring, ManualClock,
    RedisOptions, RedisStore, RemoteStatus, RemoteStore, Tier, TieredCache,
};
use proverka_testkit::redis::{RedisCluster, RedisServer, TlsRedisServer};

fn options() -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_millis(300),
        response_timeout: Duration::from_millis(300),
    }
}

const LOCK_TTL: Duration = Duration::from_millis(600);

fn cache_on(store: Arc<dyn RemoteStore>) -> TieredCache {
    TieredCache::builder()
        .remote(store)
        .lock_ttl(LOCK_TTL)
        .breaker(BreakerConfig {
            failures_to_open: 2,
            open_for: Duration::from_millis(200),
        })
        .build()
}

fn single(redis: &RedisServer) -> Arc<dyn RemoteStore> {
    Arc::new(RedisStore::single(&redis.url(), options()).unwrap())
}

async fn five_hundred_callers_on_two_replicas(a: TieredCache, b: TieredCache) {
    let calls =
        common::callers_on_replicas(&[a, b], "two replicas", 500, Duration::from_millis(800)).await;
    assert_eq!(calls, 1, "exactly one provider call across both replicas");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_redis_make_one_fetch() {
    let redis = RedisServer::start();
    five_hundred_callers_on_two_replicas(cache_on(single(&redis)), cache_on(single(&redis))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_a_three_node_cluster_make_one_fetch() {
    let cluster = RedisCluster::start(3);
    let store = || -> Arc<dyn RemoteStore> {
        Arc::new(RedisStore::cluster(&cluster.urls(), options()).unwrap())
    };
    let (a, b) = (cache_on(store()), cache_on(store()));
    five_hundred_callers_on_two_replicas(a.clone(), b.clone()).await;
    // And the answer is a tier-2 hit for a third replica.
    let c = cache_on(store());
    let hit = c
        .cached(&*TestLookup::named("two replicas"), None)
        .await
        .unwrap();
    assert_eq!(hit.status, CacheStatus::Hit(Tier::Remote));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_master_killed_mid_call_costs_no_second_call() {
    let mut cluster = RedisCluster::start_replicated(3);
    let urls = cluster.urls();
    // Replicas with the default lock TTL, breaker and outage wait.
    let replica = || {
        let store = RedisStore::cluster(&urls, options()).unwrap();
        TieredCache::builder().remote(Arc::new(store)).build()
    };
    let (a, b) = (replica(), replica());
    let upstream = Upstream::default();
    let lookup = TestLookup::named("asked while its master dies");
    // Replica a holds the lock and calls; replica b waits on it.
    let run = common::holder_and_waiter(&a, &b, &lookup, &upstream).await;
    // The master serving the entry dies (its replica has the lock); the provider then answers.
    let name = a.remote_value_name(&*lookup).unwrap();
    // (The cluster comes back from the blocking task: dropping it would stop every node.)
    let _cluster = tokio::task::spawn_blocking(move || {
        cluster.kill_master_serving(&name);
        cluster
    })
    .await
    .unwrap();
    run.gate.add_permits(1);
    let served = run.holder.await.unwrap().unwrap();
    assert_eq!(&served.answer.raw.body[..], b"paid once");
    // a stores it once the replica is promoted; b, which waited through the failover, gets it.
    let waited = run.waiter.await.unwrap().unwrap();
    assert_eq!(
        (&waited.answer.raw.body[..], waited.status),
        (&b"paid once"[..], CacheStatus::Coalesced)
    );
    assert_eq!(
        upstream.calls(),
        1,
        "one provider call through the failover"
    );
    assert!(
        b.stats().outage_waits >= 1,
        "b saw the outage and waited it out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_holder_is_taken_over_a_live_one_is_not() {
    let redis = RedisServer::start();
    let store = single(&redis);
    common::a_dead_holders_lock_is_taken_over(&*store, &cache_on(Arc::clone(&store)), LOCK_TTL)
        .await;
    common::a_live_holder_keeps_its_lock(&cache_on(store), &cache_on(single(&redis)), LOCK_TTL)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dying_mid_run_costs_no_caller_anything() {
    const FAILURES_TO_OPEN: u32 = 2;
    const OPEN_FOR: Duration = Duration::from_secs(2);
    let mut redis = RedisServer::start();
    // The breaker's pause is read on this clock: the test moves it, never waits for it.
    let clock = Arc::new(ManualClock::default());
    let cache = TieredCache::builder()
        .remote(single(&redis))
        .breaker(BreakerConfig {
            failures_to_open: FAILURES_TO_OPEN,
            open_for: OPEN_FOR,
        })
        // Misses go on without Redis at once (waiting it out is tested on the cluster).
        .outage_wait(Duration::ZERO)
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .build();
    let upstream = Upstream::default();
    let before = TestLookup::named("stored before the restart");
    upstream
        .serve(&cache, before.clone(), "kept")
        .await
        .unwrap();
    assert_eq!(cache.remote_status().await, RemoteStatus::Up);

    // A new process finds the answer in Redis.
    let hit = upstream
        .serve(&cache_on(single(&redis)), before, "dup")
        .await
        .unwrap();
    assert_eq!(hit.status, CacheStatus::Hit(Tier::Remote));

    redis.stop();
    let reached_redis =
        |stats: proverka_cache::CacheStats| stats.remote_errors - stats.remote_skipped;
    let failed_before = reached_redis(cache.stats());
    for i in 0..30 {
        let lookup = TestLookup::named(&format!("while down {i}"));
        let served = upstream.serve(&cache, lookup, "ok").await;
        assert!(served.is_ok(), "a dead Redis must not fail a caller");
    }
    // The breaker skips Redis after its failures: thirty misses try a dead Redis only as
    // often as it takes to open (each try may wait for a timeout), the rest skip it.
    assert_eq!(
        reached_redis(cache.stats()) - failed_before,
        u64::from(FAILURES_TO_OPEN)
    );
    assert!(cache.stats().remote_skipped > 0);
    assert_eq!(cache.remote_status().await, RemoteStatus::Down);

    redis.restart();
    // Each turn ends the breaker's pause; the probe fails until the client has reconnected,
    // then the answer is written to Redis and the breaker closes.
    let lookup = TestLookup::named("after the restart");
    let refresh = FetchOptions {
        force_refresh: true,
        ..FetchOptions::default()
    };
    let mut stored = false;
    for _ in 0..200 {
        clock.advance(OPEN_FOR);
        upstream
            .serve_as(&cache, lookup.clone(), refresh, "ok")
            .await
            .unwrap();
        if cache_on(single(&redis))
            .cached(&*lookup, None)
            .await
            .is_some()
        {
            stored = true;
            break;
        }
    }
    assert!(stored, "tier 2 is used again once Redis is back");
    assert_eq!(cache.remote_status().await, RemoteStatus::Up);
}

#[tokio::test]
async fn encrypted_values_hide_the_body_and_bad_values_are_misses() {
    let redis = RedisServer::start();
    let store = single(&redis);
    let key = EncryptionKey::from_hex(&"ab".repeat(32)).unwrap();
    let cache = TieredCache::builder()
        .remote(Arc::clone(&store))
        .encryption(key)
        .build();
    let upstream = Upstream::default();
    let lookup = TestLookup::named("Иванов");
    upstream
        .serve(&cache, lookup.clone(), "{\"debtor_name\":\"ИВАНОВ\"}")
        .await
        .unwrap();
    let name = cache.remote_value_name(&*lookup).unwrap();
    let stored = store.get(&name).await.unwrap().unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains("ИВАНОВ"),
        "value at rest is encrypted"
    );
    assert!(!name.contains("Иванов"));

    // Another key cannot read it: a miss, not an error.
    let other = TieredCache::builder()
        .remote(Arc::clone(&store))
        .encryption(EncryptionKey::from_hex(&"cd".repeat(32)).unwrap())
        .build();
    assert!(other.cached(&*lookup, None).await.is_none());
    // Garbage under the name: a miss, never a panic.
    store
        .set(&name, b"not an envelope".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();
    let fresh = TieredCache::builder()
        .remote(store)
        .encryption(EncryptionKey::from_bytes([0xab; 32]))
        .build();
    assert!(fresh.cached(&*lookup, None).await.is_none());
}

#[tokio::test]
async fn rediss_with_a_private_ca_carries_the_cache_and_an_unknown_ca_is_refused() {
    let redis = TlsRedisServer::start();
    let ca = std::fs::read(redis.ca_pem()).unwrap();
    let tls = || -> Arc<dyn RemoteStore> {
        Arc::new(RedisStore::single_with_ca(&redis.url(), ca.clone(), options()).unwrap())
    };
    let key = EncryptionKey::from_bytes([0x33; 32]);
    let replica = |store| {
        TieredCache::builder()
            .remote(store)
            .encryption(key.clone())
            .build()
    };
    let upstream = Upstream::default();
    let first = replica(tls());
    assert_eq!(first.remote_status().await, RemoteStatus::Up);
    let lookup = TestLookup::named("Иванов");
    upstream
        .serve(&first, lookup.clone(), "{\"debtor_name\":\"ИВАНОВ\"}")
        .await
        .unwrap();
    // Another replica over TLS reads it: it went through the TLS port into that Redis.
    assert!(replica(tls()).cached(&*lookup, None).await.is_some());
    let name = first.remote_value_name(&*lookup).unwrap();
    let plain = RedisStore::single(&redis.plain().url(), options()).unwrap();
    assert!(plain.get(&name).await.unwrap().is_some());
    // A server whose certificate no trusted CA signed: no connection, never plain text.
    let untrusted = replica(Arc::new(
        RedisStore::single(&redis.url(), options()).unwrap(),
    ));
    assert_eq!(untrusted.remote_status().await, RemoteStatus::Down);
    assert!(untrusted.cached(&*lookup, None).await.is_none());
    // A CA for a plain URL would go unused: refused.
    assert!(RedisStore::single_with_ca(&redis.plain().url(), ca.clone(), options()).is_err());
}

#[tokio::test]
async fn a_key_put_in_front_keeps_the_entries_written_before_it() {
    let redis = RedisServer::start();
    let store = single(&redis);
    let old = EncryptionKey::from_bytes([0x11; 32]);
    let new = EncryptionKey::from_bytes([0x22; 32]);
    let upstream = Upstream::default();
    let before = TieredCache::builder()
        .remote(Arc::clone(&store))
        .encryption(old.clone())
        .build();
    let paid_before = TestLookup::named("Иванов");
    upstream
        .serve(&before, paid_before.clone(), "{\"debtor_name\":\"ИВАНОВ\"}")
        .await
        .unwrap();
    // A replica with the new key in front: the same names, and the entry paid before the
    // rotation is read, not paid again.
    let rotating = || {
        TieredCache::builder()
            .remote(Arc::clone(&store))
            .encryption_keys(Keyring::new([new.clone(), old.clone()]).unwrap())
            .build()
    };
    let after = rotating();
    assert_eq!(
        after.remote_value_name(&*paid_before),
        before.remote_value_name(&*paid_before)
    );
    assert!(after.cached(&*paid_before, None).await.is_some());
    // What it writes now is sealed under the new key: another replica that has it reads it;
    // one that only has the old key gets a miss, never garbage.
    let paid_after = TestLookup::named("Петров");
    upstream
        .serve(&after, paid_after.clone(), "{\"debtor_name\":\"ПЕТРОВ\"}")
        .await
        .unwrap();
    assert!(rotating().cached(&*paid_after, None).await.is_some());
    assert!(before.cached(&*paid_after, None).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_are_shared_by_replicas_through_redis() {
    let redis = RedisServer::start();
    let (a, b) = (cache_on(single(&redis)), cache_on(single(&redis)));
    let interval = Duration::from_secs(30);
    let limit = Some(Duration::from_secs(10));
    // Ten replicas' worth of callers at once, each willing to wait 10 s for a turn 30 s
    // apart: exactly one gets a turn, whatever the interleaving and whichever replica.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let cache = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let turn = cache.take_turn("pace:fns", interval, limit).await;
                turn.map(|t| t.wait)
            })
        })
        .collect();
    let mut turns = Vec::new();
    for t in tasks {
        turns.extend(t.await.unwrap());
    }
    assert_eq!(turns, [Duration::ZERO]);
    // Without a limit the next caller queues about 30 s ahead, on the other replica too.
    let next = b.take_turn("pace:fns", interval, None).await.unwrap().wait;
    assert!(
        next > Duration::from_secs(20) && next <= interval,
        "{next:?}"
    );
    let after = a.take_turn("pace:fns", interval, None).await.unwrap().wait;
    assert!(after > Duration::from_secs(50), "{after:?}");
    // Another queue is its own.
    assert_eq!(
        a.take_turn("pace:other", interval, limit)
            .await
            .map(|t| t.wait),
        Some(Duration::ZERO)
    );
    // A queue is named by its own kind, hashed, never by a query's key or a provider.
    let mut conn = admin(&redis).await;
    let names: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        assert!(
            name.starts_with("proverka:{") && name.ends_with("}:turns"),
            "{name}"
        );
        assert!(!name.contains("pace") && !name.contains("fssp"), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_given_back_on_one_replica_are_taken_on_another() {
    let redis = RedisServer::start();
    let (a, b) = (cache_on(single(&redis)), cache_on(single(&redis)));
    let interval = Duration::from_secs(60);
    let first = a.take_turn("pace:egrul", interval, None).await.unwrap();
    assert_eq!(first.wait, Duration::ZERO);
    // Twenty callers queue behind it on replica A (up to 20 minutes), then leave.
    let mut left = Vec::new();
    for _ in 0..20 {
        left.push(a.take_turn("pace:egrul", interval, None).await.unwrap());
    }
    assert!(left[19].wait > interval * 19, "{:?}", left[19].wait);
    for turn in left {
        a.give_back_turn("pace:egrul", turn).await;
    }
    // The next live caller, on replica B, waits what it would without them: one interval.
    let next = b
        .take_turn("pace:egrul", interval, None)
        .await
        .unwrap()
        .wait;
    assert!(
        next > interval - Duration::from_secs(10) && next <= interval,
        "{next:?}"
    );
    // And a rest (a longer turn) queues after the live ones, whatever their gaps.
    let rest = b
        .take_turn("pace:egrul", Duration::from_secs(600), None)
        .await
        .unwrap()
        .wait;
    assert!(rest > interval * 2 - Duration::from_secs(10), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_told_from_an_outage() {
    let redis = RedisServer::start_with(
        proverka_testkit::redis::free_port(),
        &["--requirepass", "the-right-one"],
    );
    let url = |password: &str| format!("redis://:{password}@127.0.0.1:{}/", redis.port());
    let wrong = cache_on(Arc::new(
        RedisStore::single(&url("a-wrong-one"), options()).unwrap(),
    ));
    assert_eq!(wrong.remote_status().await, RemoteStatus::Unauthorized);
    let right = cache_on(Arc::new(
        RedisStore::single(&url("the-right-one"), options()).unwrap(),
    ));
    assert_eq!(right.remote_status().await, RemoteStatus::Up);
    let none = cache_on(single(&redis));
    assert_eq!(none.remote_status().await, RemoteStatus::Unauthorized);
}

/// A connection of the test's own to `redis` (counting, flushing scripts).
async fn admin(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// The commands Redis ran since its counters were reset, by name (`INFO commandstats`),
/// without the ones this count itself sends. Commands a script runs count too: a round trip
/// is an `evalsha` (or any command outside one).
async fn commands_since_reset(redis: &RedisServer) -> std::collections::BTreeMap<String, u64> {
    let mut conn = admin(redis).await;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .filter(|(name, _)| {
            !["info", "config", "hello", "client"]
                .iter()
                .any(|own| name.starts_with(own))
        })
        .collect()
}

async fn reset_counts(redis: &RedisServer) {
    let mut conn = admin(redis).await;
    let () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miss_costs_redis_three_round_trips_and_a_shared_hit_one() {
    let redis = RedisServer::start();
    let cache = cache_on(single(&redis));
    let upstream = Upstream::default();
    // A first miss loads the scripts (EVAL once each): a server's first time only.
    upstream
        .serve(&cache, TestLookup::named("warm-up"), "w")
        .await
        .unwrap();
    reset_counts(&redis).await;
    let miss = upstream
        .serve(&cache, TestLookup::named("a miss"), "paid once")
        .await
        .unwrap();
    assert_eq!(miss.status, CacheStatus::Miss);
    // Three round trips: the read every request makes (a GET), then two scripts by digest:
    // read-or-lock (a GET, a SET NX within it) and store-unlock-notify (a SET, the lock's GET
    // and DEL, a PUBLISH within it); nothing else.
    let counted = commands_since_reset(&redis).await;
    let expected = [
        ("evalsha", 2),
        ("get", 3),
        ("set", 2),
        ("del", 1),
        ("publish", 1),
    ];
    assert_eq!(
        counted,
        expected
            .map(|(n, c)| (n.to_owned(), c))
            .into_iter()
            .collect(),
        "{counted:?}"
    );
    // Another replica, its memory cold: one round trip for the hit.
    reset_counts(&redis).await;
    let other = cache_on(single(&redis));
    let hit = upstream
        .serve(&other, TestLookup::named("a miss"), "never")
        .await
        .unwrap();
    assert_eq!(hit.status, CacheStatus::Hit(Tier::Remote));
    assert_eq!(&hit.answer.raw.body[..], b"paid once");
    let counted = commands_since_reset(&redis).await;
    let expected = [("get", 1)];
    assert_eq!(
        counted,
        expected
            .map(|(n, c)| (n.to_owned(), c))
            .into_iter()
            .collect(),
        "{counted:?}"
    );
    assert_eq!(upstream.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_redis_without_the_scripts_is_sent_them_again() {
    let redis = RedisServer::start();
    let cache = cache_on(single(&redis));
    let upstream = Upstream::default();
    upstream
        .serve(&cache, TestLookup::named("first"), "1")
        .await
        .unwrap();
    // What a restart or a failover to a fresh replica does: the server forgets its scripts.
    let mut conn = admin(&redis).await;
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    let served = upstream
        .serve(&cache, TestLookup::named("second"), "2")
        .await
        .unwrap();
    assert_eq!(served.status, CacheStatus::Miss);
    let other = cache_on(single(&redis));
    let hit = other
        .cached(&*TestLookup::named("second"), None)
        .await
        .unwrap();
    assert_eq!(&hit.answer.raw.body[..], b"2");
    assert_eq!(cache.stats().remote_errors, 0);
}
