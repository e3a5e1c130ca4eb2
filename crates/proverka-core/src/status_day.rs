//! A status on a date (НПД: «статус на дату»), as every query of one shares it: the date the
//! query names or, when it names none, today in Moscow; never a day still to come (a rule of
//! proverka's where the page sets none); an answer for a day gone by kept long, today's until
//! the Moscow day ends.

use std::time::{Duration, SystemTime};

use crate::{Date, DateError, Params};

/// How long an answer for a past date is kept: the status on a day gone by does not change.
pub const PAST_DATE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// How long an answer about the status on `date` stays true, seen at `now`: a past date for
/// [`PAST_DATE_TTL`], today until the end of the Moscow day.
pub fn keep_for(date: Date, now: SystemTime) -> Duration {
    date.status_ttl(now, PAST_DATE_TTL)
}

/// The date parameter a query gives under the first of `names` that it carries, as given:
/// `None` when absent or blank (the first value of a name wins, as [`Params`] reads them).
pub fn date_param<'a>(params: Params<'a>, names: &[&str]) -> Option<&'a str> {
    params
        .first_of(names)
        .map(str::trim)
        .filter(|d| !d.is_empty())
}

/// A query's `inn` and its date under the first of `date_names`, as given (the date `None`
/// when absent or blank).
pub fn inn_and_date<'a>(
    pairs: &'a [(&'a str, &'a str)],
    date_names: &[&str],
) -> (&'a str, Option<&'a str>) {
    let params = Params::new(pairs);
    (
        params.get("inn").unwrap_or_default(),
        date_param(params, date_names),
    )
}

/// A date given as `YYYY-MM-DD`, if given: blank is none (the query then means today).
///
/// # Errors
/// The text is not a `YYYY-MM-DD` date.
pub fn iso_date(text: Option<&str>) -> Result<Option<Date>, DateError> {
    text.map(str::trim)
        .filter(|d| !d.is_empty())
        .map(Date::parse_iso)
        .transpose()
}

/// A status gained or lost between two answers about it (`self_employed`): what monitoring
/// reports for a status on a date.
pub fn status_changes(before: bool, after: bool) -> Vec<crate::Change> {
    crate::Change::when_differ("self_employed", Some(before), Some(after))
        .into_iter()
        .collect()
}

/// Whether a query names its date: then the same text always means the same query
/// ([`Parsed::stable`](crate::Parsed::stable)); without one its date is today's, which
/// changes at midnight.
pub fn names_a_date(pairs: &[(&str, &str)], names: &[&str]) -> bool {
    date_param(Params::new(pairs), names).is_some()
}

/// A status date after today in Moscow: nobody's status is known for a day that has not come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFuture;

/// The day a status is asked about: `date`, or `today` (in Moscow, on the caller's clock)
/// when the query names none.
///
/// # Errors
/// [`InFuture`]: a date after `today`.
pub fn status_day(date: Option<Date>, today: Date) -> Result<Date, InFuture> {
    match date {
        Some(d) if d > today => Err(InFuture),
        Some(d) => Ok(d),
        None => Ok(today),
    }
}

/// A query of an individual's status on a day (the NPD status, paid or free): built from an INN and a day, and read
/// the same way from text and from provider-style parameters. A provider says only how it
/// checks the two ([`StatusOnDay::new_on`]) and how it refuses what does not parse.
pub trait StatusOnDay: Sized {
    /// Its refusal of a query.
    type Error;

    /// The names its date parameter may have, the first found wins.
    const DATE: &'static [&'static str];

    /// A check of `inn` on `date`, or `today` (in Moscow, on the caller's clock) when `date` is
    /// `None`.
    ///
    /// # Errors
    /// What the provider (or proverka, for it) refuses: another kind of INN, a day it does
    /// not answer for.
    fn new_on(inn: crate::Inn, date: Option<Date>, today: Date) -> Result<Self, Self::Error>;

    /// An INN that does not parse, refused as the provider refuses it.
    fn inn_refused(e: crate::InnError) -> Self::Error;

    /// A date that is not `YYYY-MM-DD`, refused as the provider refuses it.
    fn date_refused() -> Self::Error;

    /// The INN and the (resolved) day asked about.
    fn subject(&self) -> (crate::Inn, Date);

    /// [`Self::new_on`] as of today in Moscow on the system clock.
    ///
    /// # Errors
    /// As [`Self::new_on`].
    fn new(inn: crate::Inn, date: Option<Date>) -> Result<Self, Self::Error> {
        Self::new_on(inn, date, Date::today_moscow())
    }

    /// Reads an INN and an optional `YYYY-MM-DD` date, as of `today`.
    ///
    /// # Errors
    /// A malformed INN or date; as [`Self::new_on`].
    fn parse_on(inn: &str, date: Option<&str>, today: Date) -> Result<Self, Self::Error> {
        let inn = crate::Inn::parse_individual(inn).map_err(Self::inn_refused)?;
        let date = iso_date(date).map_err(|_| Self::date_refused())?;
        Self::new_on(inn, date, today)
    }

    /// [`Self::parse_on`] as of today in Moscow on the system clock.
    ///
    /// # Errors
    /// As [`Self::parse_on`].
    fn parse(inn: &str, date: Option<&str>) -> Result<Self, Self::Error> {
        Self::parse_on(inn, date, Date::today_moscow())
    }

    /// Reads provider-style parameters (`inn`, the date under one of [`Self::DATE`]), as of
    /// `today` (a front end's clock).
    ///
    /// # Errors
    /// As [`Self::parse_on`].
    fn from_pairs_on(pairs: &[(&str, &str)], today: Date) -> Result<Self, Self::Error> {
        let (inn, date) = inn_and_date(pairs, Self::DATE);
        Self::parse_on(inn, date, today)
    }

    /// [`Self::from_pairs_on`] as of today in Moscow on the system clock.
    ///
    /// # Errors
    /// As [`Self::parse_on`].
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, Self::Error> {
        Self::from_pairs_on(pairs, Date::today_moscow())
    }

    /// A front end's query ([`Adapter::parse`](crate::Adapter::parse)), as of today in Moscow
    /// on the input's clock, refused in the provider's words. Without a date the query means
    /// today, which changes at midnight: such a query is not
    /// [`stable`](crate::Parsed::stable).
    ///
    /// # Errors
    /// As [`Self::parse_on`], as the provider's reply.
    fn from_input(input: &crate::QueryInput<'_>) -> Result<crate::Parsed, crate::ProviderReply>
    where
        Self: crate::Lookup + 'static,
        Self::Error: crate::ProviderRefusal,
    {
        let dated = names_a_date(input.pairs, Self::DATE);
        Self::from_pairs_on(input.pairs, Date::moscow_date_at(input.now))
            .map(|q| crate::Parsed {
                stable: dated,
                ..crate::Parsed::stable(q)
            })
            .map_err(|e| crate::ProviderRefusal::provider_reply(&e))
    }

    /// Its cache key: the INN and the day, under `provider`'s `kind` of entry.
    fn status_key(&self, provider: crate::Provider, kind: &'static str) -> crate::CacheKey {
        let (inn, date) = self.subject();
        crate::CacheKey::builder(provider, kind)
            .exact("inn", inn.to_string())
            .exact("date", date.to_iso())
            .build()
    }

    /// The INN.
    fn inn(&self) -> crate::Inn {
        self.subject().0
    }

    /// The day asked about (resolved: never "today" implicitly).
    fn date(&self) -> Date {
        self.subject().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_is_the_one_named_or_today_and_never_to_come() {
        let day = |d| Date::parse_iso(d).unwrap();
        let today = day("2024-02-01");
        assert_eq!(status_day(None, today), Ok(today));
        assert_eq!(
            status_day(Some(day("2024-01-31")), today),
            Ok(day("2024-01-31"))
        );
        assert_eq!(status_day(Some(today), today), Ok(today));
        assert_eq!(status_day(Some(day("2024-02-02")), today), Err(InFuture));
    }

    #[test]
    fn a_blank_first_date_names_none() {
        // The first value wins: a blank one means today, whatever follows.
        assert!(!names_a_date(
            &[("date", " "), ("date", "2024-01-01")],
            &["date"]
        ));
        assert!(names_a_date(
            &[("requestDate", "2024-01-01")],
            &["date", "requestDate"]
        ));
        assert!(!names_a_date(&[("inn", "1")], &["date"]));
    }
}
