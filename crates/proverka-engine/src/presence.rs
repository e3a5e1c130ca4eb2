//! [`Presence`]: this process, as the store of record knows it. A process that writes intents
//! registers and keeps a heartbeat, so that the intents of one that died after sending can be
//! told from those of a live one and settled `unknown` (never sent again on their own), and
//! so that a batch is held by one live process at a time.
//!
//! A process is known to be gone when it is on this host and its process id is no longer
//! that process (Linux: `/proc/<pid>/stat`'s start time), or, on another host, when its
//! heartbeat is older than [`STALE_AFTER`]. A starting replica never settles a live replica's
//! calls. Hosts are told apart by their host name: give each replica its own (containers do).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use proverka_core::Clock;
use proverka_store::{Abandoned, Instance, Store, StoreError};

/// How often a live process says so.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// A process on another host whose last heartbeat is older than this is taken for gone.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// This process in the store: registered, beating, recovering what dead processes left.
#[derive(Debug)]
pub struct Presence {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    me: Instance,
    registered: AtomicBool,
    registering: tokio::sync::Mutex<()>,
    /// The store did not answer the last time it was asked: calls are refused at once (no
    /// request waits out the store's timeout) until a probe finds it back.
    down: AtomicBool,
}

impl Presence {
    /// This process (`program` names it: `proverka-proxy 0.1.0`), registered with the store
    /// in the background at once (what dead processes left is settled then) and kept alive by
    /// a heartbeat for as long as the presence lives. A store that does not answer is not
    /// fatal: registration is tried again with each heartbeat and by [`Presence::ensure`],
    /// and until it succeeds no intent can be written (so no paid call goes out). Call within
    /// a tokio runtime.
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, program: &str) -> Arc<Self> {
        let now = clock.now();
        let pid = std::process::id();
        let presence = Arc::new(Self {
            me: Instance {
                id: random_id(pid, now),
                host: host_name(),
                pid,
                pid_start: process_start(pid).unwrap_or(0),
                program: program.to_owned(),
                started: now,
                heartbeat: now,
            },
            store,
            clock,
            registered: AtomicBool::new(false),
            registering: tokio::sync::Mutex::new(()),
            down: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&presence);
        tokio::spawn(beating(weak));
        presence
    }

    /// Whether the store did not answer the last time it was asked (until a probe finds it
    /// back): paid calls are refused at once meanwhile.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Notes what the store answered: a store that cannot be reached is down until a probe
    /// finds it back.
    pub fn noted<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &result
            && e.is_unavailable()
            && !self.down.swap(true, Ordering::SeqCst)
        {
            tracing::warn!(error = %e, "the store of record does not answer: paid calls are refused until it does");
        }
        result
    }

    /// Asks a store that was down whether it answers again; returns whether it is up.
    pub async fn probe(&self) -> bool {
        if !self.is_down() {
            return true;
        }
        if self.store.ping().await.is_ok() {
            self.down.store(false, Ordering::SeqCst);
            tracing::info!("the store of record answers again");
            return self.ensure().await;
        }
        false
    }

    /// Registered now, if the store answers: what must hold before an intent is written or a
    /// batch is claimed.
    pub async fn ensure(&self) -> bool {
        if self.is_down() {
            return false;
        }
        if !self.is_registered() {
            let _one_at_a_time = self.registering.lock().await;
            if !self.is_registered() {
                self.beat().await;
            }
        }
        self.is_registered()
    }

    /// This process's id in the store.
    pub fn id(&self) -> &str {
        &self.me.id
    }

    /// This process as the store knows it.
    pub fn instance(&self) -> &Instance {
        &self.me
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Whether this process is registered (intents may be written).
    pub fn is_registered(&self) -> bool {
        self.registered.load(Ordering::SeqCst)
    }

    /// One heartbeat: registers when not yet registered (then recovers), else says it lives.
    async fn beat(&self) {
        let now = self.clock.now();
        if self.is_registered() {
            if let Err(e) = self.noted(self.store.heartbeat(&self.me.id, now).await) {
                tracing::warn!(error = %e, "heartbeat to the store of record failed");
            }
            return;
        }
        let mut me = self.me.clone();
        me.heartbeat = now;
        match self.noted(self.store.register(&me).await) {
            Ok(()) => {
                self.registered.store(true, Ordering::SeqCst);
                if let Err(e) = self.recover().await {
                    tracing::warn!(error = %e, "recovery of abandoned intents failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot register with the store of record"),
        }
    }

    /// Declares gone every process known to be gone (see the module's documentation): their
    /// open intents are settled `unknown` at their reservations.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn recover(&self) -> Result<Abandoned, StoreError> {
        let now = self.clock.now();
        let dead: Vec<String> = self
            .store
            .instances()
            .await?
            .into_iter()
            .filter(|i| i.id != self.me.id && gone(i, &self.me.host, now))
            .map(|i| i.id)
            .collect();
        if dead.is_empty() {
            return Ok(Abandoned::default());
        }
        let abandoned = self.store.declare_dead(&dead, now).await?;
        if abandoned.intents > 0 {
            tracing::warn!(
                processes = dead.len(),
                calls = abandoned.intents,
                reserved_rub = %abandoned.amount,
                "calls of processes that died after sending are billed unknown at their reservations"
            );
        }
        Ok(abandoned)
    }

    /// Leaves cleanly: this process is declared gone, and a call it still has open (one that
    /// outlived the shutdown grace) is settled `unknown` now rather than by the next process.
    pub async fn leave(&self) {
        if let Err(e) = self
            .store
            .declare_dead(std::slice::from_ref(&self.me.id), self.clock.now())
            .await
        {
            tracing::warn!(error = %e, "could not leave the store of record cleanly");
        }
        self.registered.store(false, Ordering::SeqCst);
    }
}

async fn beating(presence: Weak<Presence>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats = 0u64;
    loop {
        tick.tick().await;
        let Some(p) = presence.upgrade() else { return };
        if p.is_down() {
            p.probe().await;
        } else if p.is_registered() {
            p.beat().await;
        } else {
            p.ensure().await;
        }
        beats += 1;
        // Other processes' deaths are looked for now and then, not on every beat.
        if beats.is_multiple_of(6) && p.is_registered() {
            let _ = p.recover().await;
        }
    }
}

/// Whether `other` is known to be gone, seen from `host` at `now`.
fn gone(other: &Instance, host: &str, now: SystemTime) -> bool {
    if other.host == host
        && let Some(alive) = process_alive(other.pid, other.pid_start)
    {
        return !alive;
    }
    now.duration_since(other.heartbeat)
        .is_ok_and(|age| age > STALE_AFTER)
}

/// Whether the process `pid` that started at `start` still runs on this host; `None` where
/// the host cannot tell (no `/proc`).
fn process_alive(pid: u32, start: u64) -> Option<bool> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return None;
    }
    Some(match process_start(pid) {
        None => false,
        Some(now) => start == 0 || now == start,
    })
}

/// A process's start time (`/proc/<pid>/stat`, field 22, after the command in parentheses).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_command = &stat[stat.rfind(')')? + 1..];
    after_command.split_whitespace().nth(19)?.parse().ok()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn random_id(pid: u32, now: SystemTime) -> String {
    use std::hash::BuildHasher as _;
    // std's RandomState is seeded from the OS per process: two processes never share an id.
    let state = std::collections::hash_map::RandomState::new();
    format!(
        "{:016x}{:08x}",
        state.hash_one((pid, now)),
        state.hash_one(pid) as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(host: &str, pid: u32, pid_start: u64, heartbeat: SystemTime) -> Instance {
        Instance {
            id: "x".into(),
            host: host.into(),
            pid,
            pid_start,
            program: "t".into(),
            started: heartbeat,
            heartbeat,
        }
    }

    #[test]
    fn a_live_process_here_is_alive_whatever_its_heartbeat() {
        let me = std::process::id();
        let start = process_start(me).expect("/proc on the test machine");
        let long_ago = SystemTime::UNIX_EPOCH;
        let now = SystemTime::now();
        assert!(!gone(
            &other(&host_name(), me, start, long_ago),
            &host_name(),
            now
        ));
        // The same pid with another start time is another process: the one recorded is gone.
        assert!(gone(
            &other(&host_name(), me, start + 1, now),
            &host_name(),
            now
        ));
    }

    #[test]
    fn a_process_elsewhere_is_gone_only_after_its_heartbeat_is_stale() {
        let now = SystemTime::now();
        let fresh = other("elsewhere", 1, 1, now - Duration::from_secs(10));
        let stale = other(
            "elsewhere",
            1,
            1,
            now - STALE_AFTER - Duration::from_secs(1),
        );
        assert!(!gone(&fresh, "here", now));
        assert!(gone(&stale, "here", now));
    }

    #[test]
    fn a_pid_that_is_not_running_here_is_gone() {
        // Pids are below 2^22 on Linux: this one is never running.
        assert_eq!(process_alive(u32::MAX - 1, 5), Some(false));
    }
}
