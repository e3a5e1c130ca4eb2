//! The proxy's in-process hit path: a drop-in FSSP request in, the cached bytes out, no socket;
//! and a typed hit (`/v1/npd`: the envelope with the adapter's model rendered from the cached
//! bytes).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proverka_core::Bytes;
use proverka_proxy::{Config, Proxy};
use std::hint::black_box;

const QUERY: &str = "/api/fssp.php?type=physical&lastname=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2&firstname=%D0%98%D0%B2%D0%B0%D0%BD&birthdate=12.12.1982&region=50";

const TYPED: &str = "/v1/npd?inn=540304378234&date=2026-01-15";

fn request() -> http::Request<Bytes> {
    http::Request::get(QUERY).body(Bytes::new()).unwrap()
}

fn typed() -> http::Request<Bytes> {
    http::Request::get(TYPED).body(Bytes::new()).unwrap()
}

fn proxy(c: &mut Criterion) {
    // As in the binary, a subscriber is installed (this one records nothing): without any,
    // tracing's `log` compatibility (enabled by sqlx) would format every span for `log`.
    let _ = tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let proxy = rt.block_on(async {
        let config = Config::from_toml(
            &format!(
                "{}listen = \"127.0.0.1:0\"\n",
                proverka_testkit::own_store()
            ),
            &[],
        )
        .unwrap();
        let proxy = Proxy::with_sandbox(config).await.unwrap();
        let warm = proxy.handle(request()).await;
        assert_eq!(warm.headers()["x-cache"], "MISS");
        let warm = proxy.handle(typed()).await;
        assert_eq!(warm.headers()["x-cache"], "MISS");
        proxy
    });
    let size = rt.block_on(proxy.handle(request())).body().len();
    let mut group = c.benchmark_group("proxy");
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("drop_in_fssp_hit_in_process", |b| {
        b.to_async(&rt).iter(|| async {
            let response = proxy.handle(request()).await;
            debug_assert_eq!(response.headers()["x-cache"], "HIT");
            black_box(response)
        })
    });
    group.bench_function("typed_npd_hit_in_process", |b| {
        b.to_async(&rt).iter(|| async {
            let response = proxy.handle(typed()).await;
            debug_assert_eq!(response.headers()["x-cache"], "HIT");
            black_box(response)
        })
    });
    group.finish();
}

criterion_group!(benches, proxy);
criterion_main!(benches);
