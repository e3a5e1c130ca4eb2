//! Parsing provider answers: the typed model against `serde_json::Value` on the same bytes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::SystemTime;

use proverka_core::{Bytes, Lookup, RawAnswer};
use proverka_fssp::{FsspAnswer, FsspQuery, QueryType};

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
    let query = FsspQuery::from_pairs(&[
        ("type", "physical"),
        ("region", "77"),
        ("lastname", "Иванов"),
        ("firstname", "Иван"),
    ])
    .expect("a valid query");
    let now = SystemTime::now();
    group.bench_function("judge", |b| b.iter(|| query.judge(black_box(&raw), now)));
    group.finish();
}

/// One fixture of each other adapter through its parser.
fn others(c: &mut Criterion) {
    let read = |p: &str, f: &str| {
        RawAnswer::json(Bytes::from(
            std::fs::read(proverka_benches::fixtures_dir(p).join(f)).unwrap_or_default(),
        ))
    };
    let mut group = c.benchmark_group("adapters");
    let court = read("court", "found_both_courts.json");
    group.bench_function("court_found_both", |b| {
        b.iter(|| proverka_court::parse(black_box(&court)))
    });
    let npd = read("npd", "found_self_employed.json");
    group.bench_function("npd_found", |b| {
        b.iter(|| proverka_npd::parse(black_box(&npd)))
    });
    let alfa = read("alfa", "foreign_citizen_id_card_list.json");
    group.bench_function("alfa_two_accounts", |b| {
        b.iter(|| proverka_alfa::parse(black_box(&alfa)))
    });
    group.finish();
}

criterion_group!(benches, fssp, others);
criterion_main!(benches);
