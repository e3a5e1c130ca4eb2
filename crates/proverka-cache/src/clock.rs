//! The cache's clock: how old an answer is, whether it is still fresh, whether an expired one
//! is within the stale grace. Injectable ([`TieredCacheBuilder::clock`](crate::TieredCacheBuilder::clock)),
//! so tests move time instead of sleeping through it.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Where the cache reads the time.
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

/// A clock that moves only when told: for tests of ages, freshness and the stale grace.
/// (Answers held in memory are also evicted by the memory tier on the real clock; a test
/// that moves this clock ahead sees them as expired long before that.)
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
