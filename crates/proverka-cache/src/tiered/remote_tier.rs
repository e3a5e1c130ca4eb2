//! The remote tier as the cache uses it: its breaker, its naming (keyed hashes), reads and
//! writes of envelopes, and lock writes that tell a refusal from an outage.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use hmac::{Hmac, Mac};
use proverka_core::seal::Keyring;
use proverka_core::{CacheKey, Provider};
use sha2::Sha256;

use crate::Answer;
use crate::breaker::Breaker;
use crate::compress::Dictionaries;
use crate::envelope::{self, Compression};
use crate::remote::{BoxFuture, ReadOrLock, RemoteError, RemoteStore};
use crate::stats::{Counters, bump};

/// The remote tier with its breaker and naming.
pub(crate) struct Remote {
    pub(crate) store: Arc<dyn RemoteStore>,
    pub(crate) breaker: Breaker,
    pub(crate) prefix: String,
    pub(crate) encryption: Option<Keyring>,
    pub(crate) dictionaries: Dictionaries,
    pub(crate) naming_key: [u8; 32],
}

/// Redis names of one entry: value, lock, shared error, channel, all with one hash tag.
#[derive(Clone)]
pub(crate) struct Names {
    pub(crate) value: String,
    pub(crate) lock: String,
    pub(crate) error: String,
    pub(crate) channel: String,
}

/// A token naming one holder of a cross-replica lock.
pub(crate) fn lock_token() -> String {
    // A lock's token only has to be unique to its holder: 8 random bytes drawn once a process
    // (no other process shares them) and a counter (no other flight of it shares that), so a
    // miss pays no system call for it.
    static PROCESS: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let process = PROCESS.get_or_init(|| {
        let mut bytes = [0u8; 8];
        OsRng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    });
    format!("{process}{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Why a remote write did not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unanswered {
    /// Redis answered with a refusal (OOM, READONLY).
    Refused,
    /// Redis could not be reached (or the breaker is open): the outage may pass.
    Unreachable,
}

impl From<Unanswered> for LockAttempt {
    fn from(unanswered: Unanswered) -> Self {
        match unanswered {
            Unanswered::Refused => Self::Refused,
            Unanswered::Unreachable => Self::Unreachable,
        }
    }
}

/// What a lock write came to.
pub(crate) enum LockAttempt {
    /// The entry's value was there (read in the same step): no lock was taken.
    Found(Vec<u8>),
    /// Redis answered: taken, or held by another replica.
    Answered(bool),
    /// Redis answered with a refusal (OOM, READONLY).
    Refused,
    /// Redis could not be reached (or the breaker is open).
    Unreachable,
}

impl Remote {
    /// A keyed hash of `parts` under the naming key, in hex: what a remote name holds instead
    /// of anything readable.
    fn hashed(&self, parts: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.naming_key)
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The remote names of one query's entry.
    pub(crate) fn names(&self, key: &CacheKey) -> Names {
        let id = self.hashed(&[key.digest()]);
        let base = format!("{}{{{id}}}", self.prefix);
        Names {
            value: format!("{base}:v"),
            lock: format!("{base}:l"),
            error: format!("{base}:e"),
            channel: format!("{base}:n"),
        }
    }

    /// The remote name of state that belongs to no provider and no query, `kind` `id` (a
    /// queue of paced turns: `("turns", "pace:<provider>")`): hashed under the naming key in its own
    /// domain, so it never meets a query's names, and it never names a provider's query.
    pub(crate) fn shared_name(&self, kind: &str, id: &str) -> String {
        let hash = self.hashed(&[b"shared\0", kind.as_bytes(), b"\0", id.as_bytes()]);
        format!("{}{{{hash}}}:{kind}", self.prefix)
    }

    /// One remote operation through the breaker; a failure is counted and becomes `None`.
    pub(crate) async fn call<'a, T>(
        &'a self,
        counters: &Counters,
        op: impl FnOnce(&'a dyn RemoteStore) -> BoxFuture<'a, Result<T, RemoteError>>,
    ) -> Option<T> {
        if !self.breaker.allow() {
            bump(&counters.remote_errors);
            bump(&counters.remote_skipped);
            return None;
        }
        match op(&*self.store).await {
            Ok(v) => {
                self.breaker.success();
                Some(v)
            }
            Err(e) => {
                self.breaker.failure();
                bump(&counters.remote_errors);
                tracing::debug!(error = %e, "remote cache tier failed; continuing without it");
                None
            }
        }
    }

    /// Tries the cross-replica lock, telling a Redis that refuses the write from one that
    /// cannot be reached (counted as [`call`](Self::call) counts; a refusal is counted by the
    /// caller, which decides what it means).
    pub(crate) async fn try_lock(
        &self,
        counters: &Counters,
        lock: &str,
        token: &str,
        ttl: Duration,
    ) -> LockAttempt {
        let taken = self.store.try_lock(lock, token, ttl);
        match self.attempted(counters, taken).await {
            Ok(taken) => LockAttempt::Answered(taken),
            Err(unanswered) => unanswered.into(),
        }
    }

    /// Reads the value under `name`.
    pub(crate) async fn read(&self, counters: &Counters, name: &str) -> Option<Answer> {
        let bytes = self.call(counters, |s| s.get(name)).await.flatten()?;
        self.decode(name, &bytes)
    }

    /// Opens and decompresses a value read under `name`; `None` for one that does not.
    pub(crate) fn decode(&self, name: &str, bytes: &[u8]) -> Option<Answer> {
        envelope::decode(
            bytes,
            self.encryption.as_ref(),
            name.as_bytes(),
            &self.dictionaries,
        )
    }

    /// The entry's value or, when there is none, the lock taken for `token`, in one step:
    /// counted and told apart as [`try_lock`](Self::try_lock) does.
    pub(crate) async fn read_or_lock(
        &self,
        counters: &Counters,
        names: &Names,
        token: &str,
        ttl: Duration,
    ) -> LockAttempt {
        let found = self
            .store
            .read_or_lock(&names.value, &names.lock, token, ttl);
        match self.attempted(counters, found).await {
            Ok(ReadOrLock::Value(bytes)) => LockAttempt::Found(bytes),
            Ok(ReadOrLock::Locked) => LockAttempt::Answered(true),
            Ok(ReadOrLock::Held) => LockAttempt::Answered(false),
            Err(unanswered) => unanswered.into(),
        }
    }

    /// A write through the breaker (skipped while it is open), telling a refusal (Redis is up
    /// and said no: the caller's to count) from an outage (counted here).
    async fn attempted<T>(
        &self,
        counters: &Counters,
        write: impl Future<Output = Result<T, RemoteError>>,
    ) -> Result<T, Unanswered> {
        if !self.breaker.allow() {
            bump(&counters.remote_errors);
            bump(&counters.remote_skipped);
            return Err(Unanswered::Unreachable);
        }
        match write.await {
            Ok(done) => {
                self.breaker.success();
                Ok(done)
            }
            Err(e) if e.is_refused() => {
                // Redis answered: it is up (a breaker probing it closes).
                self.breaker.success();
                tracing::warn!(error = %e, "Redis refuses a write");
                Err(Unanswered::Refused)
            }
            Err(e) => {
                self.breaker.failure();
                bump(&counters.remote_errors);
                tracing::debug!(error = %e, "remote cache tier failed");
                Err(Unanswered::Unreachable)
            }
        }
    }

    /// A miss's last round trip: `bytes` (an envelope) stored under `name` (the entry's value
    /// or its shared error) for `ttl`, the lock released if `token` holds it, waiting replicas
    /// told. `Err(Unreachable)`: none of it happened for sure, and it is worth trying again.
    pub(crate) async fn store_and_unlock(
        &self,
        counters: &Counters,
        names: &Names,
        name: &str,
        bytes: Vec<u8>,
        ttl: Duration,
        token: Option<&str>,
    ) -> Result<(), Unanswered> {
        let stored =
            self.store
                .store_and_unlock(name, bytes, ttl, &names.lock, token, &names.channel);
        let result = self.attempted(counters, stored).await;
        if let Err(Unanswered::Refused) = result {
            // Redis refused the value (OOM); the script still released the lock and told the
            // waiting replicas.
            bump(&counters.remote_errors);
        }
        result
    }

    /// `provider`'s answer as stored under `name`: compressed, then sealed.
    pub(crate) fn envelope(&self, name: &str, answer: &Answer, provider: Provider) -> Vec<u8> {
        let compression = Compression {
            dictionaries: &self.dictionaries,
            provider,
        };
        envelope::encode(
            answer,
            self.encryption.as_ref(),
            name.as_bytes(),
            Some(compression),
        )
    }
}
