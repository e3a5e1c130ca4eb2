//! A watch list's schedule: every so often (`--every 1d`), or a cron expression read in Moscow
//! time (`--cron "0 9 * * Mon-Fri"`; Moscow keeps UTC+3 all year).

use std::str::FromStr as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset};

/// When a list's subjects are due again.
#[derive(Debug, Clone)]
pub(crate) enum Schedule {
    /// A fixed interval after each answer.
    Every(Duration),
    /// The next time the expression names, after each answer.
    Cron(Box<cron::Schedule>),
}

/// Moscow's offset from UTC (no daylight saving since 2014).
fn moscow() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).expect("three hours is a valid offset")
}

impl Schedule {
    /// `--every`: a whole number above 0 and s, m, h or d.
    ///
    /// # Errors
    /// Anything else.
    pub(crate) fn every(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let unit = match t.chars().last() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            _ => return Err("a number and s, m, h or d: 1d, 12h, 30m".into()),
        };
        let n: u64 = t[..t.len() - 1]
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("a whole number above 0, then s, m, h or d: 1d, 12h, 30m")?;
        Ok(Self::Every(Duration::from_secs(n.saturating_mul(unit))))
    }

    /// `--cron`: five fields (minute hour day month weekday) as crontab writes them, or six
    /// with seconds first; read in Moscow time.
    ///
    /// # Errors
    /// An expression the cron crate does not read.
    pub(crate) fn cron(text: &str) -> Result<Self, String> {
        let fields = text.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {}", text.trim()),
            6 | 7 => text.trim().to_owned(),
            _ => {
                return Err(format!(
                    "{text:?}: five fields (minute hour day month weekday)"
                ));
            }
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| format!("{text:?}: {e}"))?;
        if schedule.upcoming(moscow()).next().is_none() {
            return Err(format!("{text:?} never comes"));
        }
        Ok(Self::Cron(Box::new(schedule)))
    }

    /// A list's schedule as the store keeps it (`1d`, or `cron:EXPR`).
    ///
    /// # Errors
    /// Text no version of proverka wrote.
    pub(crate) fn parse(stored: &str) -> Result<Self, String> {
        match stored.strip_prefix("cron:") {
            Some(expr) => Self::cron(expr),
            None => Self::every(stored),
        }
    }

    /// When a subject answered at `at` is due again.
    pub(crate) fn next_after(&self, at: SystemTime) -> SystemTime {
        match self {
            Self::Every(d) => at + *d,
            Self::Cron(c) => {
                let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let now: DateTime<FixedOffset> =
                    DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
                        .unwrap_or_default()
                        .with_timezone(&moscow());
                c.after(&now)
                    .next()
                    .and_then(|next| u64::try_from(next.timestamp()).ok())
                    .map_or(at + Duration::from_secs(86_400), |s| {
                        UNIX_EPOCH + Duration::from_secs(s)
                    })
            }
        }
    }

    /// How long apart two runs are (around `at`): an answer younger than this in a shared
    /// cache is not asked for again.
    pub(crate) fn interval(&self, at: SystemTime) -> Duration {
        match self {
            Self::Every(d) => *d,
            Self::Cron(_) => {
                let next = self.next_after(at);
                let after = self.next_after(next);
                after
                    .duration_since(next)
                    .unwrap_or(Duration::from_secs(60))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 (a Monday) 10:00 in Moscow.
    fn monday_10() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_626_800)
    }

    #[test]
    fn intervals_read_their_units() {
        assert!(matches!(Schedule::every("1d"), Ok(Schedule::Every(d)) if d.as_secs() == 86_400));
        assert!(matches!(Schedule::every("12h"), Ok(Schedule::Every(d)) if d.as_secs() == 43_200));
        assert!(matches!(Schedule::every("30m"), Ok(Schedule::Every(d)) if d.as_secs() == 1_800));
        for bad in ["", "d", "0d", "-1d", "1w", "1.5h", "1 d"] {
            assert!(Schedule::every(bad).is_err(), "{bad}");
        }
        assert!(matches!(Schedule::parse("7d"), Ok(Schedule::Every(_))));
    }

    #[test]
    fn a_cron_expression_is_read_in_moscow_time() {
        // Weekdays at 09:00 Moscow: from Monday 10:00, Tuesday 09:00 (06:00 UTC).
        let s = Schedule::parse("cron:0 9 * * Mon-Fri").unwrap();
        let next = s.next_after(monday_10());
        assert_eq!(
            next.duration_since(monday_10()).unwrap(),
            Duration::from_secs(23 * 3600)
        );
        assert_eq!(s.interval(monday_10()), Duration::from_secs(86_400));
        // Friday 09:00 is followed by Monday 09:00.
        let friday_10 = monday_10() + Duration::from_secs(4 * 86_400);
        let monday_9 = monday_10() + Duration::from_secs(7 * 86_400 - 3600);
        assert_eq!(s.next_after(friday_10), monday_9);
        for bad in ["", "0 9 * *", "61 9 * * *", "0 9 * * Xyz", "a b c d e"] {
            assert!(Schedule::cron(bad).is_err(), "{bad}");
        }
    }
}
