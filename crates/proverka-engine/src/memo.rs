//! The memo of validated queries: the hot path of a repeated query skips validation and key
//! hashing.

use std::sync::Arc;
use std::time::Duration;

use proverka_core::{Lookup, Parsed, Provider, Rekeyed};

/// Validated lookups by request: the hot path of a repeated query skips validation and key
/// hashing. Keyed by a 128-bit hash of (provider, mode, path tail, raw query), so the memo
/// holds no raw query (which may carry a client's token). Only successful validations are
/// kept, and they stay valid (dates only move forward), except a query the adapter calls not
/// [`stable`](Parsed::stable) (a date implied from the clock): it is never memoized.
pub struct ParseMemo {
    entries: moka::sync::Cache<u128, Memoized>,
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

/// One memoized query and what it is counted as.
#[derive(Clone)]
struct Memoized {
    lookup: Arc<dyn Lookup>,
    weight: u32,
}

/// A request as the memo knows it: a 128-bit hash of (provider, route kind, path tail, raw
/// query), and how long that text was (what the validated query holds is read from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoId {
    hash: u128,
    text_bytes: u32,
}

impl ParseMemo {
    /// What one memoized query is counted as beyond its text: its hash, the keyed lookup and
    /// its allocations, moka's node. Measured with `memo-per-entry` in the benches crate at
    /// 520–600 bytes (docs/performance.md).
    pub const ENTRY_OVERHEAD: u64 = 640;

    /// What a memoized query's text is counted as: one and a half times its bytes. The
    /// validated query keeps the decoded values (never longer than the text: measured at
    /// 1.0x for ASCII values, 0.4x for percent-encoded Cyrillic) and whatever an adapter
    /// derives from them; the half is that margin.
    pub fn text_weight(text_bytes: u64) -> u64 {
        text_bytes.saturating_add(text_bytes / 2)
    }

    /// A memo holding at most `max_bytes` (a sixteenth of `memory_mb`, from the same budget),
    /// each query counted by its real size.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .weigher(|_, m: &Memoized| m.weight)
                .max_capacity(max_bytes.max(64 * Self::ENTRY_OVERHEAD))
                .time_to_idle(Duration::from_secs(600))
                .build(),
            hashers: Default::default(),
        }
    }

    /// The memo's id of one request: provider, route kind, path tail and raw query text.
    pub fn id(&self, provider: Provider, typed: bool, tail: &str, query: &str) -> MemoId {
        use std::hash::BuildHasher;
        let request = (provider, typed, tail, query);
        MemoId {
            hash: (u128::from(self.hashers.0.hash_one(request)) << 64)
                | u128::from(self.hashers.1.hash_one(request)),
            text_bytes: u32::try_from(tail.len() + query.len()).unwrap_or(u32::MAX),
        }
    }
}

impl ParseMemo {
    /// The validated query of a request seen before.
    pub fn get(&self, id: MemoId) -> Option<Arc<dyn Lookup>> {
        self.entries.get(&id.hash).map(|m| m.lookup)
    }

    /// A validated query with its cache key computed once, remembered when the adapter says
    /// the same text always means the same query.
    pub fn remember(&self, id: MemoId, parsed: Parsed) -> Arc<dyn Lookup> {
        let key = parsed.lookup.cache_key();
        let keyed: Arc<dyn Lookup> = Arc::new(Rekeyed::new(parsed.lookup, key));
        if parsed.stable {
            let weight =
                Self::ENTRY_OVERHEAD.saturating_add(Self::text_weight(u64::from(id.text_bytes)));
            self.entries.insert(
                id.hash,
                Memoized {
                    lookup: Arc::clone(&keyed),
                    weight: u32::try_from(weight).unwrap_or(u32::MAX),
                },
            );
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

#[cfg(test)]
mod tests {
    use super::*;
    use proverka_core::QueryInput;

    #[test]
    fn a_query_is_counted_by_its_text_so_the_memo_keeps_to_its_bytes() {
        let fssp = proverka::adapters()
            .into_iter()
            .find(|a| a.provider() == Provider::Fssp)
            .expect("FSSP is registered");
        let max = 1 << 20;
        let memo = ParseMemo::new(max);
        let query = |i: usize| {
            format!(
                "type=legal&name=Apteka{i}&adress={}&region=77",
                "a".repeat(3_800)
            )
        };
        for i in 0..1_000 {
            let text = query(i);
            let owned: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect();
            let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (&**k, &**v)).collect();
            let parsed = fssp
                .parse(&QueryInput {
                    tail: "",
                    pairs: &pairs,
                    typed: false,
                    // FSSP's queries do not depend on the day.
                    now: std::time::UNIX_EPOCH,
                })
                .expect("valid");
            memo.remember(memo.id(Provider::Fssp, false, "", &text), parsed);
        }
        memo.run_pending_tasks();
        let one = ParseMemo::ENTRY_OVERHEAD + ParseMemo::text_weight(query(0).len() as u64);
        assert!(
            one > query(0).len() as u64 + 512,
            "a 3.9 KB query counts {one} B"
        );
        assert!(memo.weighted_size() <= max);
        // A thousand 3.9 KB queries do not fit in 1 MiB: the memo keeps what its bytes allow.
        assert!(
            memo.entries.entry_count() <= max / one + 1,
            "{} entries kept",
            memo.entries.entry_count()
        );
    }
}
