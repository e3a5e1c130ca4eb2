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
    /// One probe is out since then; others skip until it reports, or until a pause has
    /// passed without a report (its caller was dropped mid-call): then another probe goes.
    Probing {
        since: SystemTime,
    },
}

/// The breaker's state and when the failures began, behind a mutex held for a few
/// instructions at a time.
#[derive(Debug)]
struct Status {
    state: State,
    /// When the failures going on now began (`None`: the last call succeeded).
    failing_since: Option<SystemTime>,
}

/// The breaker's state, behind a mutex held for a few instructions at a time. Its pause is
/// read on the cache's clock, so tests move time instead of waiting for it.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    status: Mutex<Status>,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            status: Mutex::new(Status {
                state: State::Closed { failures: 0 },
                failing_since: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the failures going on now began, on the cache's clock: `None` while the last call
    /// to the remote tier succeeded. Calls the open breaker skips do not end it.
    pub(crate) fn failing_since(&self) -> Option<SystemTime> {
        self.lock().failing_since
    }

    /// Whether a call may go to the remote tier now.
    pub(crate) fn allow(&self) -> bool {
        let mut status = self.lock();
        let s = &mut status.state;
        let since = match *s {
            State::Closed { .. } => return true,
            State::Open { since } | State::Probing { since } => since,
        };
        // A clock set back (an error from `duration_since`) ends the pause too: the worst case
        // is one early probe, never a breaker stuck open.
        let now = self.clock.now();
        if now
            .duration_since(since)
            .map_or(true, |open| open >= self.config.open_for)
        {
            *s = State::Probing { since: now };
            true
        } else {
            false
        }
    }

    pub(crate) fn success(&self) {
        *self.lock() = Status {
            state: State::Closed { failures: 0 },
            failing_since: None,
        };
    }

    pub(crate) fn failure(&self) {
        let now = self.clock.now();
        let mut status = self.lock();
        status.failing_since.get_or_insert(now);
        let failures = match status.state {
            State::Closed { failures } => failures + 1,
            State::Open { .. } | State::Probing { .. } => self.config.failures_to_open,
        };
        status.state = if failures >= self.config.failures_to_open {
            State::Open { since: now }
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
    fn the_outage_begins_at_the_first_failure_and_ends_at_a_success() {
        let clock = Arc::new(crate::ManualClock::default());
        let b = Breaker::new(
            BreakerConfig::default(),
            Arc::clone(&clock) as Arc<dyn Clock>,
        );
        assert_eq!(b.failing_since(), None);
        let began = clock.now();
        b.failure();
        clock.advance(Duration::from_secs(5));
        b.failure();
        b.failure();
        // Skipped calls (the breaker open) and later failures do not move its start.
        assert!(!b.allow());
        assert_eq!(b.failing_since(), Some(began));
        b.success();
        assert_eq!(b.failing_since(), None);
    }

    #[test]
    fn a_probe_that_never_reports_does_not_keep_the_breaker_open() {
        let clock = Arc::new(crate::ManualClock::default());
        let config = BreakerConfig {
            failures_to_open: 1,
            open_for: Duration::from_secs(2),
        };
        let b = Breaker::new(config, Arc::clone(&clock) as Arc<dyn Clock>);
        b.failure();
        clock.advance(config.open_for);
        // The probe's caller is dropped mid-call: no success, no failure.
        assert!(b.allow());
        assert!(!b.allow(), "one probe at a time");
        clock.advance(config.open_for);
        assert!(
            b.allow(),
            "another probe once a pause passed without a report"
        );
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
