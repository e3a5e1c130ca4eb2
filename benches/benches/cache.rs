//! The cache's hit paths and the single flight's overhead.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use proverka_benches::{BenchLookup, Never};
use proverka_cache::{FetchOptions, RedisOptions, RedisStore, RemoteStore, TieredCache};
use proverka_core::{Lookup, RawAnswer};
use std::hint::black_box;

fn body() -> RawAnswer {
    RawAnswer::json(proverka_benches::fssp_physical(1))
}

fn cache(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis = proverka_testkit::redis::RedisServer::start();
    let _runtime = rt.enter();
    let store: Arc<dyn RemoteStore> =
        Arc::new(RedisStore::single(&redis.url(), RedisOptions::default()).unwrap());

    let memory_only = TieredCache::builder().build();
    let warm: Arc<dyn Lookup> = Arc::new(BenchLookup("warm".into()));
    // As a proxy builds it: the shared tier compresses with the providers' dictionaries.
    let dictionaries = proverka_benches::dictionaries::shipped();
    let shared = || {
        TieredCache::builder()
            .remote(Arc::clone(&store))
            .dictionaries(dictionaries.clone())
            .build()
    };
    let with_redis = shared();
    rt.block_on(async {
        for cache in [&memory_only, &with_redis] {
            cache
                .get_or_fetch(Arc::clone(&warm), FetchOptions::default(), || async {
                    Ok::<_, Never>(body())
                })
                .await
                .unwrap();
        }
    });

    let mut group = c.benchmark_group("cache");
    group.bench_function("tier1_hit", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(memory_only.cached(&*warm, None).await) })
    });
    group.bench_function("tier1_hit_get_or_fetch", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                memory_only
                    .get_or_fetch(Arc::clone(&warm), FetchOptions::default(), || async {
                        Ok::<_, Never>(body())
                    })
                    .await,
            )
        })
    });
    group.bench_function("tier2_hit_loopback_redis", |b| {
        b.to_async(&rt).iter_batched(
            // A new process: nothing in memory, the answer in Redis.
            shared,
            |fresh| async move { black_box(fresh.cached(&BenchLookup("warm".into()), None).await) },
            BatchSize::SmallInput,
        )
    });
    // What the engine does before a paid call: the read that would also take the lock.
    group.bench_function("tier2_hit_probe_loopback_redis", |b| {
        b.to_async(&rt).iter_batched(
            shared,
            |fresh| async move {
                black_box(
                    fresh
                        .probe(&BenchLookup("warm".into()), FetchOptions::default())
                        .await,
                )
            },
            BatchSize::SmallInput,
        )
    });
    let next = AtomicU64::new(0);
    group.bench_function("coalesced_100_waiters", |b| {
        b.to_async(&rt).iter(|| async {
            let key = Arc::new(BenchLookup(
                next.fetch_add(1, Ordering::Relaxed).to_string(),
            ));
            let waiters: Vec<_> = (0..100)
                .map(|_| {
                    let (cache, key) = (memory_only.clone(), Arc::clone(&key) as Arc<dyn Lookup>);
                    tokio::spawn(async move {
                        cache
                            .get_or_fetch(key, FetchOptions::default(), || async {
                                tokio::task::yield_now().await;
                                Ok::<_, Never>(RawAnswer::json("{}"))
                            })
                            .await
                    })
                })
                .collect();
            for w in waiters {
                black_box(w.await.unwrap().unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, cache);
criterion_main!(benches);
