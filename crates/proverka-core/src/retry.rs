//! [`RetryPolicy`]: when to send a failed query again. A pure function of the attempt number
//! and what the failure says about itself, so it can be tested with a table.

use std::time::Duration;

use crate::Charged;

/// Bounded exponential backoff, only for failures that are retryable *and* were not charged:
/// a retry must never risk paying twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled before each further one.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 1 s then 2 s apart.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub const NEVER: Self = Self {
        max_attempts: 1,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// After attempt number `attempt` (1-based) was judged `verdict`: how long to wait before
    /// sending again, or `None` when it must not be sent again (an answer, anything billed or
    /// possibly billed, a failure not worth retrying, or no attempts left).
    pub fn after(&self, attempt: u32, verdict: &crate::Verdict) -> Option<Duration> {
        let charged = if verdict.billed().is_no() {
            Charged::No
        } else {
            Charged::Unknown
        };
        self.next_delay(attempt, verdict.free_to_resend(), charged)
    }

    /// After failed attempt number `attempt` (1-based): how long to wait before the next
    /// one, or `None` to give up.
    pub fn next_delay(&self, attempt: u32, retryable: bool, charged: Charged) -> Option<Duration> {
        if !retryable || charged != Charged::No || attempt >= self.max_attempts {
            return None;
        }
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        Some(self.base_delay.saturating_mul(factor).min(self.max_delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let p = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let ms = Duration::from_millis;
        let cases = [
            (1, true, Charged::No, Some(ms(100))),
            (2, true, Charged::No, Some(ms(200))),
            (3, true, Charged::No, Some(ms(300))),
            (4, true, Charged::No, None),
            (1, false, Charged::No, None),
            (1, true, Charged::Unknown, None),
            (1, true, Charged::Yes, None),
        ];
        for (attempt, retryable, charged, expected) in cases {
            assert_eq!(
                p.next_delay(attempt, retryable, charged),
                expected,
                "{attempt} {retryable} {charged:?}"
            );
        }
        assert_eq!(RetryPolicy::NEVER.next_delay(1, true, Charged::No), None);
        assert_eq!(
            RetryPolicy::default().next_delay(40, true, Charged::No),
            None
        );
        let long = RetryPolicy {
            max_attempts: 100,
            ..p
        };
        assert_eq!(long.next_delay(64, true, Charged::No), Some(ms(300)));
    }
}
