//! [`Clock`]: the one source of time for everything that decides about money or freshness
//! (the cache's ages and stale grace, the engine's Moscow day, ledger times, heartbeats).
//! Injectable, so tests move time instead of sleeping through it; nothing on a money path
//! reads the system clock directly.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Where time is read.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system's clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told: for tests of ages, freshness, the stale grace, Moscow
/// days and heartbeats. (A cache's memory tier also evicts on the real clock; a test that
/// moves this clock ahead sees entries as expired long before that.)
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn starting_at(start: SystemTime) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock `by` ahead.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock to `at` (backwards too: a clock set back is a case to test).
    pub fn set(&self, at: SystemTime) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Default for ManualClock {
    /// A clock showing the system's time when made.
    fn default() -> Self {
        Self::starting_at(SystemTime::now())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
