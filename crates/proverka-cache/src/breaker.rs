//! A circuit breaker in front of the remote tier: while Redis fails, skip it, and let one
//! probe through now and then to notice it is back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::Clock;

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
        since: SystemTime,
    },
    /// One probe is out; others skip until it reports.
    Probing,
}

/// The breaker's state, behind a mutex held for a few instructions at a time. Its pause is
/// read on the cache's clock, so tests move time instead of waiting for it.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
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
            // A clock set back (an error from `duration_since`) ends the pause too: the worst
            // case is one early probe, never a breaker stuck open.
            State::Open { since }
                if self
                    .clock
                    .now()
                    .duration_since(since)
                    .map_or(true, |open| open >= self.config.open_for) =>
            {
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
                since: self.clock.now(),
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
        let clock = Arc::new(crate::ManualClock::default());
        let b = Breaker::new(
            BreakerConfig {
                failures_to_open: 2,
                open_for: Duration::from_millis(30),
            },
            Arc::clone(&clock) as Arc<dyn Clock>,
        );
        assert!(b.allow());
        b.failure();
        assert!(b.allow());
        b.failure();
        assert!(!b.allow(), "open after two failures");
        clock.advance(Duration::from_millis(29));
        assert!(!b.allow(), "still open within the pause");
        clock.advance(Duration::from_millis(1));
        assert!(b.allow(), "one probe after the pause");
        assert!(!b.allow(), "only one probe at a time");
        b.failure();
        assert!(!b.allow(), "a failed probe opens it again");
        clock.advance(Duration::from_millis(30));
        assert!(b.allow());
        b.success();
        assert!(b.allow() && b.allow());
    }

    #[test]
    fn a_clock_set_back_ends_the_pause() {
        let clock = Arc::new(crate::ManualClock::default());
        let b = Breaker::new(
            BreakerConfig {
                failures_to_open: 1,
                open_for: Duration::from_secs(60),
            },
            Arc::clone(&clock) as Arc<dyn Clock>,
        );
        b.failure();
        assert!(!b.allow());
        // Back by an hour: the pause cannot be measured, so one probe goes.
        let back = crate::ManualClock::starting_at(clock.now() - Duration::from_secs(3600));
        let b = Breaker {
            clock: Arc::new(back),
            ..b
        };
        assert!(b.allow());
    }
}
