//! The cross-replica lock protocol: take the lock and fetch, or wait for the holder's answer
//! (notified by pub/sub, polled as a fallback), taking over when its lock lapses; the lock
//! renewed while a fetch runs. See `docs/cache.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    /// How long past the start of an outage a flight waits for the remote tier to come back.
    pub(crate) outage_wait: Duration,
}

/// A flight's patience with a remote tier it cannot reach. Without the lock a replica cannot
/// know whether another one is calling for the same query, so rather than pay blindly it waits
/// and tries again (a failover promotes a replica within seconds), until the outage has lasted
/// `outage_wait`: measured from when the remote tier began failing, on the cache's clock, so a
/// flight that starts deep into a long outage does not wait at all.
pub(crate) struct OutageWait<'a> {
    clock: &'a dyn Clock,
    wait: Duration,
    /// When this flight stops waiting, fixed at its first unreachable step (`None` inside: it
    /// never does, for a wait too long to add to a time).
    give_up_at: Option<Option<SystemTime>>,
    pause: Duration,
}

impl<'a> OutageWait<'a> {
    /// The longest pause between two tries.
    const MAX_PAUSE: Duration = Duration::from_millis(500);

    pub(crate) fn new(clock: &'a dyn Clock, wait: Duration) -> Self {
        Self {
            clock,
            wait,
            give_up_at: None,
            pause: Duration::from_millis(25),
        }
    }

    /// Whether the flight has waited for the remote tier.
    pub(crate) fn waited(&self) -> bool {
        self.give_up_at.is_some()
    }

    /// After a step that could not reach the remote tier: `true` once a pause has passed and
    /// the step is worth trying again, `false` when the outage has lasted the wait (the flight
    /// goes on without the remote tier).
    pub(crate) async fn again(&mut self, remote: &Remote, counters: &Counters) -> bool {
        let now = self.clock.now();
        let first = self.give_up_at.is_none();
        let give_up_at = *self.give_up_at.get_or_insert_with(|| {
            let since = remote.breaker.failing_since().unwrap_or(now);
            since.checked_add(self.wait)
        });
        if give_up_at.is_some_and(|end| now >= end) {
            return false;
        }
        if first {
            bump(&counters.outage_waits);
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Self::MAX_PAUSE);
        true
    }
}

/// What a lock write came to, for the protocol.
enum Step {
    /// Redis answered: the lock taken, or held by another replica.
    Taken(bool),
    /// Redis could not be reached: wait for it, or go on without it.
    Unreachable,
    /// The flight is decided (Redis refuses writes and nobody holds the lock).
    Decided(Coordination),
}

/// What a lock write means: refuse when Redis refuses writes and nobody holds the lock
/// (another replica may be calling unseen).
async fn answered(
    inner: &Protocol<'_>,
    remote: &Remote,
    names: &Names,
    attempt: LockAttempt,
) -> Step {
    match attempt {
        LockAttempt::Answered(taken) => {
            inner.refusing.store(false, Ordering::Relaxed);
            Step::Taken(taken)
        }
        LockAttempt::Unreachable | LockAttempt::Found(_) => Step::Unreachable,
        LockAttempt::Refused => {
            inner.refusing.store(true, Ordering::Relaxed);
            bump(&inner.counters.remote_errors);
            // A lock taken before Redis filled up is still there: wait on its holder.
            match remote.call(inner.counters, |s| s.exists(&names.lock)).await {
                Some(true) => Step::Taken(false),
                _ => Step::Decided(Coordination::Refused),
            }
        }
    }
}

/// `t` without its sub-millisecond part.
fn whole_millis(t: SystemTime) -> SystemTime {
    let Ok(since) = t.duration_since(UNIX_EPOCH) else {
        return t;
    };
    u64::try_from(since.as_millis())
        .ok()
        .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        .unwrap_or(t)
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
    let mut outage = OutageWait::new(inner.clock, inner.outage_wait);
    let mut waited = false;
    let counters = inner.counters;
    // Redis keeps an answer's fetch time in whole milliseconds: `started` is compared in
    // them too, or a call that ended in the millisecond this flight started would look older
    // than it (and its failure, or a forced refresh's answer, would be sent again).
    let started = whole_millis(started);
    // A forced refresh accepts only answers fetched after it started.
    let recent = |a: &Answer| !options.force_refresh || a.fetched_at >= started;
    loop {
        // The value, or the lock when there is none, in one atomic step: no value stored by
        // another replica can slip in between.
        let (step, reread) = match remote
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
                    (answered(inner, remote, names, attempt).await, true)
                }
            },
            attempt => (answered(inner, remote, names, attempt).await, false),
        };
        let taken = match step {
            Step::Taken(taken) => taken,
            Step::Decided(decided) => return decided,
            // Redis down: wait for it a while, then the documented fallback, serve without it.
            Step::Unreachable if outage.again(remote, counters).await => continue,
            Step::Unreachable => return Coordination::Fetch(None),
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
        let mut takeover_after = None;
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
                // Redis down while another replica fetches: wait for it a while (the holder
                // stores its answer once Redis is back), then serve without it.
                None if outage.again(remote, counters).await => continue,
                None => return Coordination::Fetch(None),
                // The lock is gone and nothing was left. After an outage that may be a living
                // holder whose lock lapsed while its store could not reach Redis: it keeps
                // trying, so it gets a lock's time to live to store before it is taken over
                // (what a dead holder's lapse costs anyway). Otherwise the holder died or its
                // fetch failed outright: take over now.
                Some(false) if outage.waited() => {
                    let now = inner.clock.now();
                    let grace = *takeover_after.get_or_insert(now + inner.lock_ttl);
                    if now >= grace {
                        break;
                    }
                }
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
