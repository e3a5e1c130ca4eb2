//! What a caller's first read of the tiers found ([`Probe`]), and the miss it hands to its
//! flight ([`Miss`]): the entry's Redis names, computed once a request.

use proverka_core::CacheKey;

use super::inner::Probed;
use crate::Served;

/// What [`TieredCache::probe`](crate::TieredCache::probe) found.
#[derive(Debug)]
pub enum Probe {
    /// A fresh answer, from memory or Redis.
    Hit(Served),
    /// None: hand it to [`TieredCache::flight_after`](crate::TieredCache::flight_after).
    Miss(Miss),
}

/// A miss as [`TieredCache::probe`](crate::TieredCache::probe) left it, for
/// [`TieredCache::flight_after`](crate::TieredCache::flight_after): the entry's remote
/// names, computed once. It holds no lock: dropping it costs nothing.
pub struct Miss {
    pub(super) key: CacheKey,
    pub(super) probed: Probed,
}

impl std::fmt::Debug for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Miss").field("key", &self.key).finish()
    }
}
