//! [`RemoteStore`]: the shared tier (Redis in production, memory in tests).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{broadcast, mpsc};

use crate::pacing::Ticket;
use crate::{Clock, SystemClock};

/// A boxed future, so stores can be used as `Arc<dyn RemoteStore>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A failure of the remote tier. The cache never passes it to a caller: it counts it and
/// skips the tier, except that a refused lock write stops a flight from paying blindly (see
/// [`RemoteError::is_refused`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("remote cache tier: {message}")]
pub struct RemoteError {
    message: String,
    refused: bool,
    unauthorized: bool,
}

impl RemoteError {
    /// The store could not be reached (down, a timeout, a broken connection).
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            refused: false,
            unauthorized: false,
        }
    }

    /// The store answered, but refused the command (Redis `OOM` at `maxmemory` with
    /// `noeviction`, `READONLY` on a replica): it is up, and writes do not take.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            refused: true,
            unauthorized: false,
        }
    }

    /// The store refused the configured credentials (Redis `WRONGPASS`, `NOAUTH`, `NOPERM`):
    /// a misconfiguration, not an outage; it will not pass by itself.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            refused: false,
            unauthorized: true,
        }
    }

    /// Whether the store answered and refused, rather than being unreachable.
    pub fn is_refused(&self) -> bool {
        self.refused
    }

    /// Whether the store refused the configured credentials.
    pub fn is_unauthorized(&self) -> bool {
        self.unauthorized
    }
}

/// What [`RemoteStore::read_or_lock`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOrLock {
    /// The value.
    Value(Vec<u8>),
    /// No value, and the lock was free: it is now the caller's token's.
    Locked,
    /// No value, and another holder has the lock.
    Held,
}

/// Notifications for one channel; dropping it unsubscribes.
pub type Subscription = mpsc::Receiver<()>;

/// The operations the cache needs from its shared tier. Keys and channels are already hashed
/// names under the configured prefix; values are envelopes.
pub trait RemoteStore: Send + Sync + fmt::Debug {
    /// Reads a value.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, RemoteError>>;
    /// Writes a value that expires after `ttl`.
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), RemoteError>>;
    /// Reads `value` and, only when there is none, takes `lock` for `token` (as
    /// [`try_lock`](Self::try_lock)), in one step where the store allows: a miss's lock in one round
    /// trip. The default makes it of the other operations: read, lock, and read again once the
    /// lock is taken (a value stored in between is returned, and the lock given back).
    fn read_or_lock<'a>(
        &'a self,
        value: &'a str,
        lock: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<ReadOrLock, RemoteError>> {
        Box::pin(async move {
            if let Some(v) = self.get(value).await? {
                return Ok(ReadOrLock::Value(v));
            }
            if !self.try_lock(lock, token, ttl).await? {
                return Ok(ReadOrLock::Held);
            }
            if let Some(v) = self.get(value).await? {
                self.unlock(lock, token).await?;
                return Ok(ReadOrLock::Value(v));
            }
            Ok(ReadOrLock::Locked)
        })
    }
    /// Writes `value` under `key` for `ttl`, releases `lock` if `token` still holds it, and
    /// notifies `channel`, in one step where the store allows (a miss's last round trip).
    /// The lock is released and the channel told even when the write is refused; the write's
    /// error is returned. The default makes it of the other operations.
    #[allow(clippy::too_many_arguments)]
    fn store_and_unlock<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
        lock: &'a str,
        token: Option<&'a str>,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Box::pin(async move {
            let stored = self.set(key, value, ttl).await;
            if let Some(token) = token {
                self.unlock(lock, token).await?;
            }
            self.publish(channel).await?;
            stored
        })
    }
    /// Takes a lock (`SET key token NX PX ttl`): `true` if taken.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, RemoteError>>;
    /// Extends a lock still held by `token`: `false` if it is no longer ours.
    fn renew_lock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, RemoteError>>;
    /// Releases a lock still held by `token` (another owner's lock is left alone).
    fn unlock<'a>(&'a self, key: &'a str, token: &'a str)
    -> BoxFuture<'a, Result<(), RemoteError>>;
    /// Whether a key exists (a lock still held).
    fn exists<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, RemoteError>>;
    /// Tells subscribers of `channel` that something changed.
    fn publish<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<(), RemoteError>>;
    /// Subscribes to `channel`; `None` where the store cannot push (the cache polls).
    fn subscribe<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subscription>, RemoteError>>;
    /// Takes a turn of `interval` in a queue of paced turns, in one atomic step: the earliest
    /// start from now that neither falls within a turn already taken nor runs into a later
    /// one (so turns given back are taken again). With a `max_wait`, a turn starting later
    /// than that is not taken (`None`). Returns how long until the turn starts and its
    /// ticket. Now is the store's clock, shared by replicas; the queue lives `ttl` at least.
    fn take_turn<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        max_wait: Option<Duration>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<(Duration, Ticket)>, RemoteError>>;
    /// Gives back a turn that has not started (its caller left), for the next caller to take.
    fn give_back_turn<'a>(
        &'a self,
        key: &'a str,
        ticket: Ticket,
    ) -> BoxFuture<'a, Result<(), RemoteError>>;
    /// Checks the store answers.
    fn ping(&self) -> BoxFuture<'_, Result<(), RemoteError>>;
    /// What in the store's own settings could drop or refuse the cache's keys (Redis's
    /// `maxmemory` with an eviction policy): one warning a line, none by default.
    fn setting_warnings(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(std::future::ready(Vec::new()))
    }
}

#[derive(Debug, Default)]
struct Cells {
    values: HashMap<String, (Vec<u8>, SystemTime)>,
}

impl Cells {
    fn live(&mut self, key: &str, now: SystemTime) -> Option<&Vec<u8>> {
        if self.values.get(key).is_some_and(|(_, exp)| *exp <= now) {
            self.values.remove(key);
        }
        self.values.get(key).map(|(v, _)| v)
    }
}

/// An in-process [`RemoteStore`] with the semantics of the Redis one, for tests: several
/// caches sharing one `MemoryStore` behave as replicas sharing one Redis.
/// [`MemoryStore::set_down`] makes every operation fail, as a dead Redis would. Expiry and
/// turns are read on its own clock, as Redis reads its own ([`MemoryStore::with_clock`]).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    cells: Arc<Mutex<Cells>>,
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<()>>>>,
    down: Arc<AtomicBool>,
    turns: Arc<crate::pacing::LocalTurns>,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store on the system's clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose expiry and turns are read on `clock` (tests move it).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            cells: Arc::default(),
            channels: Arc::default(),
            down: Arc::default(),
            turns: Arc::default(),
            clock,
        }
    }

    /// Makes every operation fail (`true`) or work again (`false`).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Writes raw bytes under a key (tests: corrupt values).
    pub fn put_raw(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        self.lock()
            .values
            .insert(key.to_owned(), (value, self.clock.now() + ttl));
    }

    /// Every live key (tests: no personal data in key names).
    pub fn keys(&self) -> Vec<String> {
        let now = self.clock.now();
        self.lock()
            .values
            .iter()
            .filter(|(_, (_, exp))| *exp > now)
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cells> {
        self.cells
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check(&self) -> Result<(), RemoteError> {
        if self.down.load(Ordering::SeqCst) {
            Err(RemoteError::unreachable("memory store is down"))
        } else {
            Ok(())
        }
    }

    fn ready<T: Send + 'static>(
        r: Result<T, RemoteError>,
    ) -> BoxFuture<'static, Result<T, RemoteError>> {
        Box::pin(std::future::ready(r))
    }
}

impl RemoteStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, RemoteError>> {
        Self::ready(
            self.check()
                .map(|()| self.lock().live(key, self.clock.now()).cloned()),
        )
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Self::ready(self.check().map(|()| self.put_raw(key, value, ttl)))
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, RemoteError>> {
        Self::ready(self.check().map(|()| {
            let now = self.clock.now();
            let mut cells = self.lock();
            if cells.live(key, now).is_some() {
                return false;
            }
            cells
                .values
                .insert(key.to_owned(), (token.as_bytes().to_vec(), now + ttl));
            true
        }))
    }

    fn read_or_lock<'a>(
        &'a self,
        value: &'a str,
        lock: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<ReadOrLock, RemoteError>> {
        Self::ready(self.check().map(|()| {
            let now = self.clock.now();
            let mut cells = self.lock();
            if let Some(v) = cells.live(value, now) {
                return ReadOrLock::Value(v.clone());
            }
            if cells.live(lock, now).is_some() {
                return ReadOrLock::Held;
            }
            cells
                .values
                .insert(lock.to_owned(), (token.as_bytes().to_vec(), now + ttl));
            ReadOrLock::Locked
        }))
    }

    fn renew_lock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, RemoteError>> {
        Self::ready(self.check().map(|()| {
            let now = self.clock.now();
            let mut cells = self.lock();
            if cells.live(key, now).is_some_and(|v| v == token.as_bytes()) {
                cells
                    .values
                    .insert(key.to_owned(), (token.as_bytes().to_vec(), now + ttl));
                true
            } else {
                false
            }
        }))
    }

    fn unlock<'a>(
        &'a self,
        key: &'a str,
        token: &'a str,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Self::ready(self.check().map(|()| {
            let now = self.clock.now();
            let mut cells = self.lock();
            if cells.live(key, now).is_some_and(|v| v == token.as_bytes()) {
                cells.values.remove(key);
            }
        }))
    }

    fn exists<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, RemoteError>> {
        Self::ready(
            self.check()
                .map(|()| self.lock().live(key, self.clock.now()).is_some()),
        )
    }

    fn publish<'a>(&'a self, channel: &'a str) -> BoxFuture<'a, Result<(), RemoteError>> {
        Self::ready(self.check().map(|()| {
            let channels = self
                .channels
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(tx) = channels.get(channel) {
                let _ = tx.send(());
            }
        }))
    }

    fn subscribe<'a>(
        &'a self,
        channel: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subscription>, RemoteError>> {
        if let Err(e) = self.check() {
            return Self::ready(Err(e));
        }
        let mut rx = {
            let mut channels = self
                .channels
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            channels
                .entry(channel.to_owned())
                .or_insert_with(|| broadcast::channel(16).0)
                .subscribe()
        };
        let (tx, out) = mpsc::channel(4);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tx.closed() => return,
                    msg = rx.recv() => match msg {
                        Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {
                            if tx.send(()).await.is_err() {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
        });
        Self::ready(Ok(Some(out)))
    }

    fn take_turn<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        max_wait: Option<Duration>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<(Duration, Ticket)>, RemoteError>> {
        let _ = ttl;
        Self::ready(
            self.check()
                .map(|()| self.turns.take(key, self.clock.now(), interval, max_wait)),
        )
    }

    fn give_back_turn<'a>(
        &'a self,
        key: &'a str,
        ticket: Ticket,
    ) -> BoxFuture<'a, Result<(), RemoteError>> {
        Self::ready(self.check().map(|()| self.turns.give_back(key, ticket)))
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), RemoteError>> {
        Self::ready(self.check())
    }
}
