//! Evenly spaced turns: what a provider that limits calls per IP address needs, shared by
//! replicas on the remote tier and kept in memory without it.
//!
//! A queue is the set of turns taken and not yet over, each one a [`Ticket`]: a start and
//! how long it holds the queue (one call's interval, or a rest after a refusal). A new turn
//! takes the earliest gap from now that fits it, so a turn given back before it started
//! (its caller left) is taken by the next caller: callers who left delay nobody.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whole milliseconds of a duration, saturating.
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One turn taken in a queue: when it starts (ms since the epoch, on the clock of the tier
/// that keeps the queue), how long it holds the queue, and a random number of its own (so a
/// ticket given back late never frees a later turn that took the same place). What gives
/// the turn back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub(crate) start_ms: u64,
    pub(crate) len_ms: u64,
    pub(crate) nonce: u64,
}

impl Ticket {
    pub(crate) fn new(start_ms: u64, len_ms: u64) -> Self {
        use chacha20poly1305::aead::OsRng;
        use chacha20poly1305::aead::rand_core::RngCore;
        Self {
            start_ms,
            len_ms,
            nonce: OsRng.next_u64(),
        }
    }

    /// Its name in a remote queue (a sorted set's member; the start is also its score).
    pub(crate) fn member(self) -> String {
        format!("{}:{}:{:016x}", self.start_ms, self.len_ms, self.nonce)
    }
}

/// Where a turn of `len` ms starts at the earliest, seen at `now` (ms), among the turns
/// `taken` (start and length, by start): the first moment from now when it neither starts
/// within an earlier turn nor runs into a later one. `None` when that is more than
/// `max_wait` away.
pub(crate) fn place(
    now: u64,
    taken: impl IntoIterator<Item = (u64, u64)>,
    len: u64,
    max_wait: Option<Duration>,
) -> Option<u64> {
    let mut start = now;
    for (t, l) in taken {
        if t.saturating_add(l) <= start {
            continue;
        }
        if start.saturating_add(len) <= t {
            break;
        }
        start = t.saturating_add(l);
    }
    if max_wait.is_some_and(|m| start - now > ms(m)) {
        return None;
    }
    Some(start)
}

/// One queue's turns by start: their length and nonce.
type Queue = BTreeMap<u64, (u64, u64)>;

/// Queues of turns kept in this process: the remote tier's stand-in when there is none or
/// it is failing.
#[derive(Debug, Default)]
pub(crate) struct LocalTurns {
    queues: Mutex<HashMap<String, Queue>>,
}

impl LocalTurns {
    /// Takes a turn of `interval` in queue `id`: the wait until it starts and its ticket.
    pub(crate) fn take(
        &self,
        id: &str,
        now: SystemTime,
        interval: Duration,
        max_wait: Option<Duration>,
    ) -> Option<(Duration, Ticket)> {
        let now = unix_ms(now);
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let queue = queues.entry(id.to_owned()).or_default();
        queue.retain(|t, (l, _)| t.saturating_add(*l) > now);
        let len = ms(interval);
        let start = place(now, queue.iter().map(|(t, (l, _))| (*t, *l)), len, max_wait)?;
        let ticket = Ticket::new(start, len);
        if len > 0 {
            queue.insert(start, (len, ticket.nonce));
        }
        Some((Duration::from_millis(start - now), ticket))
    }

    /// Gives a turn back: the next caller may take its place.
    pub(crate) fn give_back(&self, id: &str, ticket: Ticket) {
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(queue) = queues.get_mut(id)
            && queue.get(&ticket.start_ms) == Some(&(ticket.len_ms, ticket.nonce))
        {
            queue.remove(&ticket.start_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: u64 = 30_000;

    #[test]
    fn turns_are_spaced_and_a_long_wait_is_refused() {
        let max = Some(Duration::from_secs(10));
        // An idle queue: now.
        assert_eq!(place(1_000, [], I, max), Some(1_000));
        // The next turn is 30 s away: refused with a 10 s limit, taken without one.
        assert_eq!(place(1_000, [(1_000, I)], I, max), None);
        assert_eq!(place(1_000, [(1_000, I)], I, None), Some(31_000));
        // Within the limit.
        assert_eq!(place(25_000, [(1_000, I)], I, max), Some(31_000));
        // A turn over is no obstacle.
        assert_eq!(place(40_000, [(1_000, I)], I, max), Some(40_000));
    }

    #[test]
    fn a_turn_takes_the_first_gap_that_fits_it() {
        // Turns at 0 and 90 s: a 30 s turn fits at 30 s, a 70 s one only after 120 s.
        let taken = [(0, I), (90_000, I)];
        assert_eq!(place(10_000, taken, I, None), Some(30_000));
        assert_eq!(place(10_000, taken, 70_000, None), Some(120_000));
        // A rest of 60 s holds the queue for 60 s.
        assert_eq!(place(10_000, [(0, 60_000)], I, None), Some(60_000));
    }

    #[test]
    fn local_turns_keep_their_queue() {
        let turns = LocalTurns::default();
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let i = Duration::from_secs(30);
        let wait = |x: Option<(Duration, Ticket)>| x.map(|(w, _)| w);
        assert_eq!(wait(turns.take("q", t, i, None)), Some(Duration::ZERO));
        assert_eq!(
            wait(turns.take("q", t, i, Some(Duration::from_secs(10)))),
            None,
            "the second turn is 30 s away"
        );
        assert_eq!(wait(turns.take("q", t, i, None)), Some(i));
        assert_eq!(wait(turns.take("other", t, i, None)), Some(Duration::ZERO));
    }

    #[test]
    fn turns_given_back_delay_nobody() {
        let turns = LocalTurns::default();
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let i = Duration::from_secs(60);
        let (first, _) = turns.take("q", t, i, None).unwrap();
        assert_eq!(first, Duration::ZERO);
        // Twenty callers queue behind it, then leave.
        let left: Vec<_> = (0..20)
            .map(|_| turns.take("q", t, i, None).unwrap())
            .collect();
        assert_eq!(left.last().map(|(w, _)| *w), Some(i * 20));
        for (_, ticket) in left.iter().rev().step_by(2).chain(left.iter().step_by(2)) {
            turns.give_back("q", *ticket);
        }
        // The next live caller waits what it would have without them: one interval.
        assert_eq!(turns.take("q", t, i, None).map(|(w, _)| w), Some(i));
        // A ticket given back twice, or one never taken, changes nothing.
        turns.give_back("q", left[0].1);
        assert_eq!(turns.take("q", t, i, None).map(|(w, _)| w), Some(i * 2));
    }
}
