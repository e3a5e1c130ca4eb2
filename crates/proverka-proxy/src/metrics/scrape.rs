//! What is read at scrape time (the cache's counters, Redis's state, calls in flight) rather
//! than counted as it happens.

use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use proverka_cache::CacheStats;

use super::lock;

/// What is read at scrape time rather than counted as it happens.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scrape {
    pub(crate) cache: CacheStats,
    pub(crate) in_flight: usize,
    /// `None` without Redis.
    pub(crate) redis_up: Option<bool>,
    /// `None` without Redis.
    pub(crate) redis_degraded: Option<bool>,
    pub(crate) memo_bytes: u64,
}

/// Encodes the [`Scrape`] values of the scrape in progress.
#[derive(Debug, Default)]
pub(super) struct ScrapeCollector(pub(super) Arc<Mutex<Scrape>>);

impl Collector for ScrapeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let s = lock(&self.0).clone();
        let c = &s.cache;
        for (name, help, value) in [
            (
                "cache_hits_memory",
                "Answers served from memory",
                c.hits_memory,
            ),
            (
                "cache_hits_redis",
                "Answers served from Redis",
                c.hits_remote,
            ),
            (
                "cache_misses",
                "Requests that started a provider call",
                c.misses,
            ),
            (
                "cache_coalesced",
                "Requests that waited on another's call",
                c.coalesced,
            ),
            (
                "cache_remote_waits",
                "Calls left to another replica",
                c.remote_waits,
            ),
            (
                "cache_fetch_errors",
                "Provider calls with no answer",
                c.fetch_errors,
            ),
            (
                "cache_redis_errors",
                "Redis operations failed or skipped",
                c.remote_errors,
            ),
            (
                "cache_lock_takeovers",
                "Locks taken over from dead replicas",
                c.lock_takeovers,
            ),
            (
                "cache_redis_outage_waits",
                "Calls that waited for an unreachable Redis instead of paying without its lock",
                c.outage_waits,
            ),
            (
                "cache_stale",
                "Expired answers served in the stale grace",
                c.stale_served,
            ),
        ] {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let gauge = |value: i64| ConstGauge::new(value);
        let bytes = Unit::Bytes;
        for (name, help, unit, value) in [
            (
                "cache",
                "Bytes held in the memory tier",
                Some(&bytes),
                i64::try_from(c.bytes_held).unwrap_or(i64::MAX),
            ),
            (
                "memo",
                "Bytes counted for memoized validated queries (a sixteenth of memory_mb at most)",
                Some(&bytes),
                i64::try_from(s.memo_bytes).unwrap_or(i64::MAX),
            ),
            (
                "provider_calls_in_flight",
                "Provider calls in flight",
                None,
                i64::try_from(s.in_flight).unwrap_or(i64::MAX),
            ),
        ] {
            let g = gauge(value);
            g.encode(encoder.encode_descriptor(name, help, unit, g.metric_type())?)?;
        }
        if let Some(up) = s.redis_up {
            let g = gauge(i64::from(up));
            g.encode(encoder.encode_descriptor(
                "redis_up",
                "1 if Redis answers, 0 if not; absent without Redis",
                None,
                g.metric_type(),
            )?)?;
        }
        if let Some(degraded) = s.redis_degraded {
            let g = gauge(i64::from(degraded));
            g.encode(encoder.encode_descriptor(
                "redis_degraded",
                "1 while Redis answers but refuses writes (OOM, READONLY): new queries get 503",
                None,
                g.metric_type(),
            )?)?;
        }
        Ok(())
    }
}
