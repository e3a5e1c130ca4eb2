//! Evenly spaced turns (a GCRA queue): what a provider that limits calls per IP address
//! needs, shared by replicas on the remote tier and kept in memory without it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One turn of a queue whose next free time is `next` (ms), seen at `now` (ms): the queue's
/// new next free time and the wait until the turn, or `None` when the turn starts more than
/// `max_wait` away.
pub(crate) fn turn(
    now: u64,
    next: u64,
    interval: Duration,
    max_wait: Option<Duration>,
) -> Option<(u64, Duration)> {
    let start = now.max(next);
    let wait = Duration::from_millis(start - now);
    if max_wait.is_some_and(|m| wait > m) {
        return None;
    }
    let interval = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
    Some((start.saturating_add(interval), wait))
}

/// Queues of turns kept in this process: the remote tier's stand-in when there is none or
/// it is failing.
#[derive(Debug, Default)]
pub(crate) struct LocalTurns {
    next: Mutex<HashMap<String, u64>>,
}

impl LocalTurns {
    pub(crate) fn take(
        &self,
        id: &str,
        now: SystemTime,
        interval: Duration,
        max_wait: Option<Duration>,
    ) -> Option<Duration> {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = next.entry(id.to_owned()).or_insert(0);
        let (taken, wait) = turn(unix_ms(now), *slot, interval, max_wait)?;
        *slot = taken;
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_are_spaced_and_a_long_wait_is_refused() {
        let i = Duration::from_secs(30);
        let max = Some(Duration::from_secs(10));
        // An idle queue: now.
        assert_eq!(turn(1_000, 0, i, max), Some((31_000, Duration::ZERO)));
        // The next turn is 30 s away: refused with a 10 s limit, taken without one.
        assert_eq!(turn(1_000, 31_000, i, max), None);
        assert_eq!(
            turn(1_000, 31_000, i, None),
            Some((61_000, Duration::from_secs(30)))
        );
        // Within the limit.
        assert_eq!(
            turn(25_000, 31_000, i, max),
            Some((61_000, Duration::from_secs(6)))
        );
    }

    #[test]
    fn local_turns_keep_their_queue() {
        let turns = LocalTurns::default();
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let i = Duration::from_secs(30);
        assert_eq!(turns.take("q", t, i, None), Some(Duration::ZERO));
        assert_eq!(
            turns.take("q", t, i, Some(Duration::from_secs(10))),
            None,
            "the second turn is 30 s away"
        );
        assert_eq!(turns.take("q", t, i, None), Some(Duration::from_secs(30)));
        assert_eq!(turns.take("other", t, i, None), Some(Duration::ZERO));
    }
}
