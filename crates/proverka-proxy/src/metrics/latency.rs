//! Requests by (route, cache status): their count and latency histogram, lock-free and
//! sharded by thread so the hit path never contends for a lock or a cache line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use super::{CACHE, REQUEST_BUCKETS, RouteLabels, Text};

/// Shards of each request-latency histogram: a worker thread writes its own shard, so the
/// hit path of two cores never contends for one cache line. (One shared `Histogram` per
/// route, which takes a lock per observation, cost 12 % of the hit path's throughput over
/// HTTP in `benches/load/compare-nginx.sh`; prometheus-client still encodes these.)
const SHARDS: usize = 8;

/// The shard of the calling thread.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

/// One thread's share of a latency histogram: per-bucket counts (the last is `+Inf`), the
/// count and the sum in nanoseconds. Aligned so two shards never share a cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
struct LatencyShard {
    buckets: [AtomicU64; REQUEST_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// A lock-free latency histogram of one (route, cache status), sharded by thread.
#[derive(Debug, Default)]
pub(super) struct ShardedLatency {
    shards: [LatencyShard; SHARDS],
}

impl ShardedLatency {
    pub(super) fn observe(&self, took: Duration) {
        let shard = &self.shards[shard_index()];
        let secs = took.as_secs_f64();
        let i = REQUEST_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(REQUEST_BUCKETS.len());
        shard.buckets[i].fetch_add(1, Ordering::Relaxed);
        shard.count.fetch_add(1, Ordering::Relaxed);
        shard.sum_nanos.fetch_add(
            u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(super) fn count(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.count.load(Ordering::Relaxed))
            .sum()
    }

    /// Sum (seconds), count and per-bucket counts with their upper bounds, over the shards.
    pub(super) fn read(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let mut buckets: Vec<(f64, u64)> = REQUEST_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::MAX))
            .map(|bound| (bound, 0))
            .collect();
        let (mut sum_nanos, mut count) = (0u64, 0u64);
        for shard in &self.shards {
            for (b, n) in buckets.iter_mut().zip(&shard.buckets) {
                b.1 += n.load(Ordering::Relaxed);
            }
            count += shard.count.load(Ordering::Relaxed);
            sum_nanos = sum_nanos.saturating_add(shard.sum_nanos.load(Ordering::Relaxed));
        }
        (sum_nanos as f64 / 1e9, count, buckets)
    }
}

/// Requests by (route, cache status): their count and latency, sharded by thread.
#[derive(Debug)]
pub(super) struct RequestStats {
    pub(super) routes: Vec<Text>,
    pub(super) slots: Vec<[ShardedLatency; 5]>,
}

/// Encodes [`RequestStats`] as `proverka_requests_total` and
/// `proverka_request_duration_seconds` (the series that have seen a request).
#[derive(Debug)]
pub(super) struct RequestCollector(pub(super) Arc<RequestStats>);

impl Collector for RequestCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = &self.0;
        let seen =
            || {
                stats
                    .routes
                    .iter()
                    .zip(&stats.slots)
                    .flat_map(|(route, slots)| {
                        slots.iter().zip(CACHE).filter(|(h, _)| h.count() > 0).map(
                            move |(h, cache)| {
                                (
                                    RouteLabels {
                                        route: route.clone(),
                                        cache,
                                    },
                                    h,
                                )
                            },
                        )
                    })
            };
        {
            let mut family = encoder.encode_descriptor(
                "requests",
                "Requests by route and X-Cache status",
                None,
                MetricType::Counter,
            )?;
            for (labels, h) in seen() {
                family
                    .encode_family(&labels)?
                    .encode_counter::<NoLabelSet, u64, f64>(&h.count(), None)?;
            }
        }
        let seconds = Unit::Seconds;
        let mut family = encoder.encode_descriptor(
            "request_duration",
            "Time to answer a request, by route and X-Cache status",
            Some(&seconds),
            MetricType::Histogram,
        )?;
        for (labels, h) in seen() {
            let (sum, count, buckets) = h.read();
            family
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
        }
        Ok(())
    }
}
