//! What a caller's first read of the tiers found ([`Probe`]), and the miss it hands to its
//! flight ([`Miss`]): a miss's one round trip to Redis reads the entry and, when there is
//! none, takes the cross-replica lock, so the flight that follows goes straight to the
//! provider.

use std::sync::Arc;

use proverka_core::CacheKey;

use super::inner::{Inner, Probed};
use super::remote_tier::Names;
use crate::Served;

/// What [`TieredCache::probe`](crate::TieredCache::probe) found.
#[derive(Debug)]
pub enum Probe {
    /// A fresh answer, from memory or Redis.
    Hit(Served),
    /// None: hand it to [`TieredCache::flight_after`](crate::TieredCache::flight_after).
    Miss(Miss),
}

/// A miss as [`TieredCache::probe`](crate::TieredCache::probe) left it: the entry's remote
/// names, computed once, and the cross-replica lock if the read took it. Hand it to
/// [`TieredCache::flight_after`](crate::TieredCache::flight_after); dropped instead (the
/// caller was refused, or went away), it gives the lock back.
#[must_use = "a miss may hold the cross-replica lock: fly it, or drop it to give the lock back"]
pub struct Miss {
    pub(super) key: CacheKey,
    pub(super) probed: Probed,
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miss")
            .field("key", &self.key)
            .field("holds_lock", &self.probed.lock.is_some())
            .finish()
    }
}

impl Miss {
    /// What the flight takes over; the miss then holds nothing to give back.
    pub(super) fn take(&mut self) -> Probed {
        std::mem::take(&mut self.probed)
    }

    /// Gives the lock back now and tells replicas waiting on it (a caller that joined
    /// another caller's flight of this process instead of leading its own).
    pub(super) async fn release(mut self) {
        let probed = self.take();
        release(&self.inner, probed).await;
    }
}

async fn release(inner: &Inner, probed: Probed) {
    if let (Some(remote), Some(names), Some(token)) = (&inner.remote, &probed.names, &probed.lock) {
        let Names { lock, channel, .. } = names;
        remote
            .call(&inner.counters, |s| s.unlock(lock, token))
            .await;
        remote.call(&inner.counters, |s| s.publish(channel)).await;
    }
}

impl Drop for Miss {
    fn drop(&mut self) {
        let probed = self.take();
        if probed.lock.is_none() {
            return;
        }
        let inner = Arc::clone(&self.inner);
        // Outside a runtime the lock lapses by its time to live instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { release(&inner, probed).await });
        }
    }
}
