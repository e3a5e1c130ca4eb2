//! The memo of validated queries: the hot path of a repeated query skips validation and key
//! hashing.

use std::sync::Arc;
use std::time::Duration;

use proverka_core::{Lookup, Parsed, Provider};

/// A lookup whose cache key was computed once, when it was first validated.
pub(crate) struct Keyed {
    pub(crate) inner: Arc<dyn Lookup>,
    pub(crate) key: proverka_core::CacheKey,
}

impl Lookup for Keyed {
    fn provider(&self) -> Provider {
        self.inner.provider()
    }
    fn query_kind(&self) -> &'static str {
        self.inner.query_kind()
    }
    fn cache_key(&self) -> proverka_core::CacheKey {
        self.key
    }
    fn cost(&self) -> proverka_core::Cost {
        self.inner.cost()
    }
    fn upstream_request(&self) -> proverka_core::UpstreamRequest {
        self.inner.upstream_request()
    }
    fn judge(&self, raw: &proverka_core::RawAnswer) -> proverka_core::Verdict {
        self.inner.judge(raw)
    }
    fn render(
        &self,
        raw: &proverka_core::RawAnswer,
    ) -> Result<serde_json::Value, proverka_core::RenderError> {
        self.inner.render(raw)
    }
}

/// Validated lookups by request: the hot path of a repeated query skips validation and key
/// hashing. Keyed by a 128-bit hash of (provider, mode, path tail, raw query), so the memo
/// holds no raw query (which may carry a client's token). Only successful validations are
/// kept, and they stay valid (dates only move forward), except a query the adapter calls not
/// [`stable`](Parsed::stable) (a date implied from the clock): it is never memoized.
pub struct ParseMemo {
    entries: moka::sync::Cache<u128, Arc<dyn Lookup>>,
    hashers: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
}

impl std::fmt::Debug for ParseMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseMemo")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl ParseMemo {
    /// What one memoized query is counted as (its hash, the keyed lookup, moka's node).
    pub const ENTRY_BYTES: u64 = 512;

    /// A memo holding at most `max_bytes` (a sixteenth of `memory_mb`, from the same budget).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .weigher(|_, _| u32::try_from(Self::ENTRY_BYTES).unwrap_or(u32::MAX))
                .max_capacity(max_bytes.max(64 * Self::ENTRY_BYTES))
                .time_to_idle(Duration::from_secs(600))
                .build(),
            hashers: Default::default(),
        }
    }

    /// The memo's id of one request: provider, route kind, path tail and raw query text.
    pub fn id(&self, provider: Provider, typed: bool, tail: &str, query: &str) -> u128 {
        use std::hash::BuildHasher;
        let request = (provider, typed, tail, query);
        (u128::from(self.hashers.0.hash_one(request)) << 64)
            | u128::from(self.hashers.1.hash_one(request))
    }
}

impl ParseMemo {
    /// The validated query of a request seen before.
    pub fn get(&self, id: u128) -> Option<Arc<dyn Lookup>> {
        self.entries.get(&id)
    }

    /// A validated query with its cache key computed once, remembered when the adapter says
    /// the same text always means the same query.
    pub fn remember(&self, id: u128, parsed: Parsed) -> Arc<dyn Lookup> {
        let keyed: Arc<dyn Lookup> = Arc::new(Keyed {
            key: parsed.lookup.cache_key(),
            inner: parsed.lookup,
        });
        if parsed.stable {
            self.entries.insert(id, Arc::clone(&keyed));
        }
        keyed
    }

    /// What the memo holds, in bytes as it counts them.
    pub fn weighted_size(&self) -> u64 {
        self.entries.weighted_size()
    }

    /// Pending maintenance done now (so sizes are current).
    pub fn run_pending_tasks(&self) {
        self.entries.run_pending_tasks();
    }
}
