//! Counters of what the cache did.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the cache's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Answers served from the process's memory.
    pub hits_memory: u64,
    /// Answers served from the remote tier (Redis).
    pub hits_remote: u64,
    /// Callers that started a flight (found nothing fresh).
    pub misses: u64,
    /// Callers that joined a flight another caller of this process started.
    pub coalesced: u64,
    /// Flights that waited for another replica's fetch instead of fetching.
    pub remote_waits: u64,
    /// Calls to the provider made by this process.
    pub fetches: u64,
    /// Those that failed (no answer at all).
    pub fetch_errors: u64,
    /// Remote-tier operations that failed or were skipped after failures.
    pub remote_errors: u64,
    /// Of those, the ones the open breaker skipped (they never reached the remote tier).
    pub remote_skipped: u64,
    /// Locks taken over from a replica whose lock expired.
    pub lock_takeovers: u64,
    /// Flights that could not reach the remote tier and waited for it instead of paying
    /// without the cross-replica lock (`TieredCacheBuilder::outage_wait`).
    pub outage_waits: u64,
    /// Expired answers served because the provider failed (stale grace).
    pub stale_served: u64,
    /// Bytes held in memory (weighted size of tier 1).
    pub bytes_held: u64,
    /// Entries in memory.
    pub entries: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) hits_memory: AtomicU64,
    pub(crate) hits_remote: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) remote_waits: AtomicU64,
    pub(crate) fetches: AtomicU64,
    pub(crate) fetch_errors: AtomicU64,
    pub(crate) remote_errors: AtomicU64,
    pub(crate) remote_skipped: AtomicU64,
    pub(crate) lock_takeovers: AtomicU64,
    pub(crate) outage_waits: AtomicU64,
    pub(crate) stale_served: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self, bytes_held: u64, entries: u64) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits_memory: get(&self.hits_memory),
            hits_remote: get(&self.hits_remote),
            misses: get(&self.misses),
            coalesced: get(&self.coalesced),
            remote_waits: get(&self.remote_waits),
            fetches: get(&self.fetches),
            fetch_errors: get(&self.fetch_errors),
            remote_errors: get(&self.remote_errors),
            remote_skipped: get(&self.remote_skipped),
            lock_takeovers: get(&self.lock_takeovers),
            outage_waits: get(&self.outage_waits),
            stale_served: get(&self.stale_served),
            bytes_held,
            entries,
        }
    }
}
