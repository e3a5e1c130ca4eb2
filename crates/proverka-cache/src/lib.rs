//! # proverka-cache
//!
//! Two tiers and a single flight, so a paid provider query is never paid twice: whatever the
//! concurrency, the latency, the replicas or the disconnects.
//!
//! - [`TieredCache`]: moka in memory (bounded in bytes), an optional shared
//!   [`RemoteStore`] ([`RedisStore`] on Redis or a Redis Cluster, [`MemoryStore`] for tests),
//!   and [`TieredCache::get_or_fetch`], which makes exactly one fetch per key at a time,
//!   in a detached task, across every caller of every replica.
//! - Redis is optional and its faults cost neither correctness nor latency: short timeouts, a
//!   circuit breaker, automatic reconnects; a Redis error never reaches a caller.
//! - Values in Redis are versioned envelopes, optionally encrypted
//!   ([`EncryptionKey`], ChaCha20-Poly1305); Redis names are keyed hashes: no name, INN or
//!   token appears in a key.
//! - Freshness control as HTTP has it: [`FetchOptions::max_age`],
//!   [`FetchOptions::force_refresh`], and a stale grace for provider failures.
//!
//! - The flight owns the whole miss ([`Fetch`]): reserve, send, judge once, re-send only what
//!   the provider says was free ([`RetryPolicy`](proverka_core::RetryPolicy)), report each
//!   call ([`ProviderCall`]), store, share. An answer that may have been billed
//!   ([`Billed::Unknown`]) is never re-sent and never stored.
//!
//! The crate knows nothing of any provider: it stores [`RawAnswer`]s by
//! [`Lookup::cache_key`](proverka_core::Lookup::cache_key) for as long as
//! [`Lookup::judge`](proverka_core::Lookup::judge) says.
//!
//! ```
//! use std::sync::Arc;
//! use proverka_cache::{FetchOptions, TieredCache};
//! use proverka_core::{Lookup, RawAnswer, TransportError};
//! # async fn run(lookup: Arc<dyn Lookup>) -> Result<(), proverka_cache::FetchError> {
//! let cache = TieredCache::builder().memory_bytes(64 << 20).build();
//! // The fetch sends one request; the flight judges, retries what is free, stores, shares.
//! let served = cache
//!     .get_or_fetch(lookup, FetchOptions::default(), || async {
//!         Ok::<_, TransportError>(RawAnswer::json(r#"{"success":1,"found":1}"#))
//!     })
//!     .await?;
//! println!("{} {:?}", served.status.as_header(), served.answer.raw.body);
//! # Ok(()) }
//! ```

mod breaker;
mod compress;
mod envelope;
mod fetch;
mod free_first;
mod pacing;
mod redis_store;
mod remote;
mod stats;
mod tiered;

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proverka_core::{Billed, RawAnswer, Verdict};

pub use breaker::BreakerConfig;
pub use compress::{Dictionaries, DictionaryError};
pub use envelope::{Compression, decode as decode_envelope, encode as encode_envelope};
pub use fetch::{Fetch, ProviderCall, Refusal};
pub use free_first::{FreeAttempt, FreeQueue, QueueEvent};
pub use pacing::Ticket;
pub use proverka_core::seal::{EncryptionKey, Keyring};
/// The cache reads time through core's clock (injectable; see [`TieredCacheBuilder::clock`]).
pub use proverka_core::{Clock, ManualClock, SystemClock};
pub use redis_store::{RedisOptions, RedisStore};
pub use remote::{BoxFuture, MemoryStore, ReadOrLock, RemoteError, RemoteStore, Subscription};
pub use stats::CacheStats;
pub use tiered::{Miss, Probe, RemoteStatus, TieredCache, TieredCacheBuilder, Turn};

/// Bytes of bookkeeping counted per memory entry on top of its body (key, `Arc`, metadata,
/// moka's node, allocator overhead), so that `memory_bytes` bounds the real resident size.
/// Measured at 1.06–1.6 KB (`memory-per-entry` in the benches crate; `docs/performance.md`).
pub const ENTRY_OVERHEAD: usize = 1024;

/// A provider's answer as fetched, with the adapter's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer, byte for byte.
    pub raw: RawAnswer,
    /// What the adapter decided it is.
    pub verdict: Verdict,
    /// When it was fetched (wall clock, shared across replicas).
    pub fetched_at: SystemTime,
}

impl Answer {
    /// How old it is at `now`.
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.fetched_at).unwrap_or_default()
    }

    /// How long it stays fresh after `now` (zero for answers that are never stored).
    pub fn remaining(&self, now: SystemTime) -> Duration {
        self.verdict
            .keep_for()
            .map_or(Duration::ZERO, |ttl| ttl.saturating_sub(self.age(now)))
    }

    /// Stored, not expired, and no older than `max_age` when given.
    pub fn is_fresh(&self, now: SystemTime, max_age: Option<Duration>) -> bool {
        let age = self.age(now);
        self.verdict.keep_for().is_some_and(|ttl| age < ttl) && max_age.is_none_or(|m| age <= m)
    }

    fn weight(&self) -> usize {
        self.raw.body.len() + self.raw.content_type.as_ref().map_or(0, String::len) + ENTRY_OVERHEAD
    }
}

/// Which tier a hit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// This process's memory.
    Memory,
    /// The shared remote tier.
    Remote,
}

/// How a caller's answer was obtained: the proxy's `X-Cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheStatus {
    /// A fresh stored answer.
    Hit(Tier),
    /// This caller started the fetch.
    Miss,
    /// This caller waited on a fetch another caller (or replica) started.
    Coalesced,
    /// An expired answer, served because the provider failed (stale grace).
    Stale,
}

impl CacheStatus {
    /// `HIT`, `MISS`, `COALESCED` or `STALE`.
    pub fn as_header(&self) -> &'static str {
        match self {
            Self::Hit(_) => "HIT",
            Self::Miss => "MISS",
            Self::Coalesced => "COALESCED",
            Self::Stale => "STALE",
        }
    }
}

/// What a caller gets: the answer, and how.
#[derive(Debug, Clone)]
pub struct Served {
    /// The answer (shared, not copied).
    pub answer: Arc<Answer>,
    /// Hit, miss, coalesced or stale.
    pub status: CacheStatus,
}

impl Served {
    /// The answer's age at `now` (the HTTP `Age` header), read on the cache's clock
    /// ([`TieredCache::now`]).
    pub fn age(&self, now: SystemTime) -> Duration {
        self.answer.age(now)
    }
}

/// How a caller wants its answer, as HTTP `Cache-Control` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    /// Accept only answers no older than this (`max-age=N`).
    pub max_age: Option<Duration>,
    /// Fetch anew even when a fresh answer is stored (`no-cache`); still single-flighted.
    pub force_refresh: bool,
    /// Serve an expired answer within the stale grace when the provider fails.
    pub allow_stale: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            max_age: None,
            force_refresh: false,
            allow_stale: true,
        }
    }
}

/// A flight that brought no answer, shared by every caller that waited on it: either no call
/// was made ([`FetchError::refusal`]) or no answer came back ([`FetchError::billed`] says
/// whether the provider may have billed the call anyway).
#[derive(Debug, Clone)]
pub struct FetchError {
    source: Arc<dyn StdError + Send + Sync>,
    refused: bool,
    billed: Billed,
    coalesced: bool,
}

impl FetchError {
    pub(crate) fn no_answer(e: Arc<dyn StdError + Send + Sync>, billed: Billed) -> Self {
        Self {
            source: e,
            refused: false,
            billed,
            coalesced: false,
        }
    }

    /// Too many flights at once (`max_flights`): nothing was sent.
    pub(crate) fn busy() -> Self {
        Self::refused(Refusal::new(Busy))
    }

    /// Redis refuses the cross-replica lock write: nothing was sent (another replica may be
    /// calling unseen).
    pub(crate) fn degraded() -> Self {
        Self::refused(Refusal::new(Degraded))
    }

    /// Whether no call was made because Redis refuses writes.
    pub fn is_degraded(&self) -> bool {
        self.refused && self.source.downcast_ref::<Degraded>().is_some()
    }

    /// Whether no call was made because too many flights were running.
    pub fn is_busy(&self) -> bool {
        self.refused && self.source.downcast_ref::<Busy>().is_some()
    }

    pub(crate) fn refused(refusal: Refusal) -> Self {
        Self {
            source: refusal.into_source(),
            refused: true,
            billed: Billed::No,
            coalesced: false,
        }
    }

    fn coalesced_if(mut self, coalesced: bool) -> Self {
        self.coalesced = coalesced;
        self
    }

    /// The fetch's own error.
    pub fn error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.source
    }

    /// The fetch's error as a concrete type (`TransportError`, a refusal's reason, …).
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.source.downcast_ref::<T>()
    }

    /// Whether no call was made because [`Fetch::reserve`] refused it (a budget).
    pub fn refusal(&self) -> bool {
        self.refused
    }

    /// Whether the provider billed the call that brought no answer: [`Billed::Unknown`] after
    /// a timeout or a broken connection once the request was sent, [`Billed::No`] when it
    /// never left or was refused.
    pub fn billed(&self) -> Billed {
        self.billed
    }

    /// Whether this caller waited on another caller's fetch.
    pub fn coalesced(&self) -> bool {
        self.coalesced
    }
}

/// Redis refuses writes, so replicas cannot coordinate.
#[derive(Debug, thiserror::Error)]
#[error(
    "the shared cache refuses writes (Redis OOM or READONLY): replicas cannot coordinate, nothing was sent"
)]
pub struct Degraded;

/// Too many flights at once.
#[derive(Debug, thiserror::Error)]
#[error("too many provider calls in progress (max_flights); nothing was sent")]
pub struct Busy;

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.refused {
            write!(
                f,
                "the provider call was refused before it was sent: {}",
                self.source
            )
        } else {
            write!(f, "fetching from the provider failed: {}", self.source)
        }
    }
}

impl StdError for FetchError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}
