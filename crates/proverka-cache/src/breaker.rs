//! A circuit breaker in front of the remote tier: while Redis fails, skip it, and let one
//! probe through now and then to notice it is back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When to open and how long to stay open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failures_to_open: u32,
    /// How long the breaker stays open before one probe is allowed.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failures_to_open: 3,
            open_for: Duration::from_secs(2),
        }
    }
}

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out; others skip until it reports.
    Probing,
}

/// The breaker's state, behind a mutex held for a few instructions at a time.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a call may go to the remote tier now.
    pub(crate) fn allow(&self) -> bool {
        let mut s = self.lock();
        match *s {
            State::Closed { .. } => true,
            State::Open { until } if Instant::now() >= until => {
                *s = State::Probing;
                true
            }
            State::Open { .. } | State::Probing => false,
        }
    }

    pub(crate) fn success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    pub(crate) fn failure(&self) {
        let mut s = self.lock();
        let failures = match *s {
            State::Closed { failures } => failures + 1,
            State::Open { .. } | State::Probing => self.config.failures_to_open,
        };
        *s = if failures >= self.config.failures_to_open {
            State::Open {
                until: Instant::now() + self.config.open_for,
            }
        } else {
            State::Closed { failures }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_and_probes_after_the_pause() {
        let b = Breaker::new(BreakerConfig {
            failures_to_open: 2,
            open_for: Duration::from_millis(30),
        });
        assert!(b.allow());
        b.failure();
        assert!(b.allow());
        b.failure();
        assert!(!b.allow(), "open after two failures");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow(), "one probe after the pause");
        assert!(!b.allow(), "only one probe at a time");
        b.failure();
        assert!(!b.allow(), "a failed probe opens it again");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow());
        b.success();
        assert!(b.allow() && b.allow());
    }
}
