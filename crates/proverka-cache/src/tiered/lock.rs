//! The cross-replica lock protocol: take the lock and fetch, or wait for the holder's answer
//! (notified by pub/sub, polled as a fallback), taking over when its lock lapses; the lock
//! renewed while a fetch runs. See `docs/cache.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::remote_tier::{LockAttempt, Names, Remote, lock_token};
use crate::remote::RemoteStore;
use crate::stats::{Counters, bump};
use crate::{Answer, Clock, FetchOptions};

/// What the cross-replica protocol decided for a flight.
pub(crate) enum Coordination {
    /// Fetch here; hold this lock token (if the remote tier was reachable).
    Fetch(Option<String>),
    /// Another replica produced the answer.
    Done(Arc<Answer>),
    /// Redis is up but refuses the lock write (OOM, READONLY) and nobody holds the lock:
    /// another replica may be calling unseen, so this one does not pay blindly.
    Refused,
}

/// Keeps the lock alive while the fetch runs: every third of its TTL.
pub(crate) fn spawn_renewal(
    store: Arc<dyn RemoteStore>,
    lock: String,
    token: String,
    ttl: Duration,
) -> tokio::sync::oneshot::Sender<()> {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                () = tokio::time::sleep(ttl / 3) => {
                    match store.renew_lock(&lock, &token, ttl).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("cache lock lost while fetching; the fetch goes on");
                            return;
                        }
                        // Redis down: keep trying; the fetch goes on regardless.
                        Err(_) => {}
                    }
                }
            }
        }
    });
    stop
}

/// What the cross-replica protocol reads and marks of the cache it runs for.
pub(crate) struct Protocol<'a> {
    /// The cache's counters.
    pub(crate) counters: &'a Counters,
    /// Set while Redis refuses lock writes.
    pub(crate) refusing: &'a AtomicBool,
    /// Freshness is read on it.
    pub(crate) clock: &'a dyn Clock,
    /// The lock's time to live.
    pub(crate) lock_ttl: Duration,
    /// The longest a flight waits for another replica's fetch.
    pub(crate) max_remote_wait: Duration,
}

/// Whether a lock write took (`Ok`), or what the flight does instead: fetch without Redis
/// when it cannot be reached (the documented fallback), refuse when it refuses writes and
/// nobody holds the lock (another replica may be calling unseen).
async fn answered(
    inner: &Protocol<'_>,
    remote: &Remote,
    names: &Names,
    attempt: LockAttempt,
) -> Result<bool, Coordination> {
    match attempt {
        LockAttempt::Answered(taken) => {
            inner.refusing.store(false, Ordering::Relaxed);
            Ok(taken)
        }
        // Redis down: the documented fallback, serve without it.
        LockAttempt::Unreachable | LockAttempt::Found(_) => Err(Coordination::Fetch(None)),
        LockAttempt::Refused => {
            inner.refusing.store(true, Ordering::Relaxed);
            bump(&inner.counters.remote_errors);
            // A lock taken before Redis filled up is still there: wait on its holder.
            match remote.call(inner.counters, |s| s.exists(&names.lock)).await {
                Some(true) => Ok(false),
                _ => Err(Coordination::Refused),
            }
        }
    }
}

/// The cross-replica protocol: take the lock and fetch, or wait for the holder's answer
/// (notified by pub/sub, polled as a fallback), taking over if its lock lapses.
pub(crate) async fn coordinate(
    inner: &Protocol<'_>,
    remote: &Remote,
    names: &Names,
    options: FetchOptions,
    started: SystemTime,
) -> Coordination {
    let token = lock_token();
    let deadline = Instant::now() + inner.max_remote_wait;
    let mut waited = false;
    let counters = inner.counters;
    // A forced refresh accepts only answers fetched after it started.
    let recent = |a: &Answer| !options.force_refresh || a.fetched_at >= started;
    loop {
        // The value, or the lock when there is none, in one atomic step: no value stored by
        // another replica can slip in between.
        let (taken, reread) = match remote
            .read_or_lock(counters, names, &token, inner.lock_ttl)
            .await
        {
            LockAttempt::Found(bytes) => match remote.decode(&names.value, &bytes) {
                Some(a) if recent(&a) && a.is_fresh(inner.clock.now(), options.max_age) => {
                    inner.refusing.store(false, Ordering::Relaxed);
                    return Coordination::Done(Arc::new(a));
                }
                // A value this caller cannot use (too old for it, or one it must refresh):
                // the lock is taken regardless, and the value read again once it is.
                _ => {
                    let attempt = remote
                        .try_lock(counters, &names.lock, &token, inner.lock_ttl)
                        .await;
                    match answered(inner, remote, names, attempt).await {
                        Ok(taken) => (taken, true),
                        Err(decided) => return decided,
                    }
                }
            },
            attempt => match answered(inner, remote, names, attempt).await {
                Ok(taken) => (taken, false),
                Err(decided) => return decided,
            },
        };
        if taken {
            if waited {
                bump(&counters.lock_takeovers);
            }
            // Another replica may have stored the answer just before we took the lock.
            if reread
                && let Some(a) = remote.read(counters, &names.value).await
                && recent(&a)
                && a.is_fresh(inner.clock.now(), options.max_age)
            {
                remote
                    .call(counters, |s| s.unlock(&names.lock, &token))
                    .await;
                return Coordination::Done(Arc::new(a));
            }
            return Coordination::Fetch(Some(token));
        }
        if !waited {
            bump(&counters.remote_waits);
            waited = true;
        }
        // Subscribe first, then read: a notification sent in between is not missed.
        let mut subscription = remote
            .call(counters, |s| s.subscribe(&names.channel))
            .await
            .flatten();
        let mut pause = Duration::from_millis(10);
        loop {
            if let Some(a) = remote.read(counters, &names.value).await
                && recent(&a)
                && a.is_fresh(inner.clock.now(), options.max_age)
            {
                return Coordination::Done(Arc::new(a));
            }
            if let Some(a) = remote.read(counters, &names.error).await
                && a.fetched_at >= started
            {
                return Coordination::Done(Arc::new(a));
            }
            match remote.call(counters, |s| s.exists(&names.lock)).await {
                None => return Coordination::Fetch(None),
                Some(false) => break,
                Some(true) => {}
            }
            if Instant::now() >= deadline {
                return Coordination::Fetch(None);
            }
            match subscription.as_mut() {
                Some(sub) => {
                    tokio::select! {
                        _ = sub.recv() => {}
                        () = tokio::time::sleep(pause * 10) => {}
                    }
                }
                None => tokio::time::sleep(pause).await,
            }
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }
}
