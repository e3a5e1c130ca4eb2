//! Calendar-checked dates: [`Date`], written as `dd.mm.yyyy` ([`Date::parse_dmy`]) by FSSP and
//! as `YYYY-MM-DD` ([`Date::parse_iso`]) by NPD and Alfa-Bank.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A real calendar date (proleptic Gregorian, years 1000–9999).
///
/// ```
/// use proverka_core::Date;
/// assert_eq!(Date::parse_dmy("29.02.2024")?.to_iso(), "2024-02-29");
/// assert!(Date::parse_dmy("29.02.2023").is_err());
/// assert!(Date::parse_iso("2024-13-01").is_err());
/// # Ok::<(), proverka_core::DateError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a string is not a [`Date`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// Not of the expected shape (`dd.mm.yyyy` or `YYYY-MM-DD`).
    #[error("date must be written as {expected}")]
    Format {
        /// The expected pattern.
        expected: &'static str,
    },
    /// The right shape, but no such day (31.02, month 13, year 0999 …).
    #[error("no such calendar day")]
    NoSuchDay,
}

/// Moscow is UTC+3 all year (no daylight saving since 2014).
const MOSCOW_OFFSET_SECS: u64 = 3 * 3600;

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Date {
    /// A date from its parts.
    ///
    /// # Errors
    /// [`DateError::NoSuchDay`] when the day does not exist or the year is outside 1000–9999.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Self, DateError> {
        if !(1000..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay);
        }
        Ok(Self { year, month, day })
    }

    /// Parses `dd.mm.yyyy` (FSSP's `birthdate`, `process_date` …).
    ///
    /// # Errors
    /// [`DateError`] for another shape or a day that does not exist.
    pub fn parse_dmy(s: &str) -> Result<Self, DateError> {
        const FMT: DateError = DateError::Format {
            expected: "dd.mm.yyyy",
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[2] != b'.' || b[5] != b'.' {
            return Err(FMT);
        }
        let (d, m, y) = (
            digits(&s[0..2]).ok_or(FMT)?,
            digits(&s[3..5]).ok_or(FMT)?,
            digits(&s[6..10]).ok_or(FMT)?,
        );
        Self::from_ymd(y as u16, m as u8, d as u8)
    }

    /// Parses `YYYY-MM-DD` (NPD's `date`, Alfa-Bank's `birthDate` …).
    ///
    /// # Errors
    /// [`DateError`] for another shape or a day that does not exist.
    pub fn parse_iso(s: &str) -> Result<Self, DateError> {
        const FMT: DateError = DateError::Format {
            expected: "YYYY-MM-DD",
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(FMT);
        }
        let (y, m, d) = (
            digits(&s[0..4]).ok_or(FMT)?,
            digits(&s[5..7]).ok_or(FMT)?,
            digits(&s[8..10]).ok_or(FMT)?,
        );
        Self::from_ymd(y as u16, m as u8, d as u8)
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }
    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// The day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// `dd.mm.yyyy`.
    pub fn to_dmy(&self) -> String {
        format!("{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Self { year, month, day }
    }

    /// Today in Moscow (UTC+3), the day the Russian providers mean by "today".
    pub fn today_moscow() -> Self {
        Self::moscow_date_at(SystemTime::now())
    }

    /// The Moscow calendar day at a given instant.
    pub fn moscow_date_at(at: SystemTime) -> Self {
        let secs = at
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs()
            + MOSCOW_OFFSET_SECS;
        Self::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// How long from `at` until the end of this Moscow day (zero if it has passed).
    pub fn until_end_of_moscow_day(&self, at: SystemTime) -> Duration {
        let end_utc = (self.days_since_epoch() + 1) * 86_400 - MOSCOW_OFFSET_SECS as i64;
        let now = at
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs() as i64;
        Duration::from_secs(end_utc.saturating_sub(now).max(0) as u64)
    }

    /// How long an answer about a status on this day stays true, seen at `now`: `past` for a
    /// day gone by (it no longer changes), today's until the end of the Moscow day.
    pub fn status_ttl(&self, now: SystemTime, past: Duration) -> Duration {
        if *self < Self::moscow_date_at(now) {
            past
        } else {
            self.until_end_of_moscow_day(now)
        }
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date"})
    }
}

/// A date field as the provider printed it: a whole date where it is one, the raw text where
/// it is masked (`31.03.****`), partial, or something else (an INN in `debtor_dob`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LenientDate {
    /// A whole, valid calendar date.
    Date(Date),
    /// Anything else, kept as printed.
    Raw(String),
}

impl LenientDate {
    /// Reads `dd.mm.yyyy` or `YYYY-MM-DD`, keeping the text when it is neither.
    pub fn parse(s: &str) -> Self {
        let t = s.trim();
        Date::parse_dmy(t)
            .or_else(|_| Date::parse_iso(t))
            .map_or_else(|_| Self::Raw(s.to_owned()), Self::Date)
    }

    /// The date, when the provider printed a whole one.
    pub fn date(&self) -> Option<Date> {
        match self {
            Self::Date(d) => Some(*d),
            Self::Raw(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_rules() {
        assert!(Date::parse_dmy("29.02.2000").is_ok());
        assert!(Date::parse_dmy("29.02.1900").is_err());
        assert!(Date::parse_dmy("31.04.2020").is_err());
        assert!(Date::parse_dmy("00.01.2020").is_err());
        assert!(Date::parse_dmy("1.1.2020").is_err());
        assert!(Date::parse_dmy("31.03.****").is_err());
        assert!(Date::parse_iso("2022-01-01").is_ok());
        assert!(Date::parse_iso("2022-1-01").is_err());
        assert!(Date::parse_iso("+022-01-01").is_err());
    }

    #[test]
    fn moscow_day_boundaries() {
        // 2024-03-10T20:59:59Z is 23:59:59 in Moscow; one second later it is the 11th.
        let before = UNIX_EPOCH + Duration::from_secs(1_710_104_399);
        let after = before + Duration::from_secs(1);
        assert_eq!(Date::moscow_date_at(before).to_iso(), "2024-03-10");
        assert_eq!(Date::moscow_date_at(after).to_iso(), "2024-03-11");
        let d = Date::moscow_date_at(before);
        assert_eq!(d.until_end_of_moscow_day(before), Duration::from_secs(1));
        assert_eq!(d.until_end_of_moscow_day(after), Duration::ZERO);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn epoch_days_round_trip(days in -300_000i64..2_900_000) {
            let d = Date::from_days_since_epoch(days);
            proptest::prop_assert_eq!(d.days_since_epoch(), days);
            proptest::prop_assert_eq!(Date::parse_iso(&d.to_iso()), Ok(d));
            proptest::prop_assert_eq!(Date::parse_dmy(&d.to_dmy()), Ok(d));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,14}") {
            let _ = Date::parse_dmy(&s);
            let _ = Date::parse_iso(&s);
            let _ = LenientDate::parse(&s);
        }
    }
}
