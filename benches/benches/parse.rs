//! Parsing provider answers: the typed model against `serde_json::Value` on the same bytes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proverka_core::{Bytes, RawAnswer};
use proverka_fssp::{FsspAnswer, QueryType};
use std::hint::black_box;

fn fssp(c: &mut Criterion) {
    let body = proverka_benches::fssp_physical(25);
    let raw = RawAnswer::json(Bytes::from(body.clone()));
    let mut group = c.benchmark_group("fssp_physical_25_records");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("typed", |b| {
        b.iter(|| FsspAnswer::from_raw(QueryType::Physical, black_box(&raw)))
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)))
    });
    group.bench_function("judge", |b| {
        b.iter(|| proverka_fssp::judge(QueryType::Physical, black_box(&raw)))
    });
    group.finish();
}

criterion_group!(benches, fssp);
criterion_main!(benches);
