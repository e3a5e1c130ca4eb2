//! [`NpdQuery`]: one status check, validated before anything is sent (the page's 400 codes,
//! and proverka's own rules, marked as such).

use proverka_core::status_day::{InFuture, inn_and_date, iso_date, status_day};
use proverka_core::{Date, Inn, InnError, RefusedBy};

use crate::error::ValidationError;

/// The date's parameter: a check "on a date" («на дату»).
pub(crate) const DATE: &[&str] = &["date"];

/// One NPD status check: an individual's INN on a (resolved) date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NpdQuery {
    inn: Inn,
    date: Date,
}

/// No INN: the page's "Field inn is required". Anything else wrong with it: proverka's own
/// rule (the page: "ИНН физического лица, 12 цифр"; no error text of its own).
fn inn_error(e: InnError) -> ValidationError {
    ValidationError {
        refused_by: if e == InnError::Empty {
            RefusedBy::Provider
        } else {
            RefusedBy::Proverka
        },
        message: if e == InnError::Empty {
            "Field inn is required"
        } else {
            "Field inn is invalid"
        },
        reason: match e {
            InnError::Empty => "no INN given",
            InnError::WrongKind { .. } => "a 12-digit INN of an individual is required",
            InnError::Checksum => "INN check digits do not match",
            InnError::AllZeros => "INN of all zeros",
            _ => "INN must be 12 digits",
        },
    }
}

/// A malformed date: the page's "Field date is invalid".
fn date_error(reason: &'static str) -> ValidationError {
    ValidationError {
        message: "Field date is invalid",
        reason,
        refused_by: RefusedBy::Provider,
    }
}

impl NpdQuery {
    /// A check of `inn` on `date`, or today in Moscow when `date` is `None`.
    ///
    /// # Errors
    /// A 10-digit INN, or a date after today in Moscow.
    pub fn new(inn: Inn, date: Option<Date>) -> Result<Self, ValidationError> {
        Self::new_on(inn, date, Date::today_moscow())
    }

    /// [`NpdQuery::new`] with `today` (in Moscow) read on the caller's clock.
    ///
    /// # Errors
    /// As [`NpdQuery::new`].
    pub fn new_on(inn: Inn, date: Option<Date>, today: Date) -> Result<Self, ValidationError> {
        if inn.kind() != proverka_core::InnKind::Individual {
            return Err(inn_error(InnError::WrongKind {
                expected: proverka_core::InnKind::Individual,
            }));
        }
        // proverka's own rule: nobody's status is known for a day that has not come.
        let date = status_day(date, today).map_err(|InFuture| ValidationError {
            refused_by: RefusedBy::Proverka,
            ..date_error("the date is in the future")
        })?;
        Ok(Self { inn, date })
    }

    /// Reads an INN and an optional `YYYY-MM-DD` date.
    ///
    /// # Errors
    /// See [`NpdQuery::new`]; a malformed INN or date.
    pub fn parse(inn: &str, date: Option<&str>) -> Result<Self, ValidationError> {
        Self::parse_on(inn, date, Date::today_moscow())
    }

    fn parse_on(inn: &str, date: Option<&str>, today: Date) -> Result<Self, ValidationError> {
        let inn = Inn::parse_individual(inn).map_err(inn_error)?;
        let date = iso_date(date).map_err(|_| date_error("must be YYYY-MM-DD"))?;
        Self::new_on(inn, date, today)
    }

    /// Reads provider-style parameters (`inn=…&date=…`; `key` ignored).
    ///
    /// # Errors
    /// See [`NpdQuery::parse`].
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ValidationError> {
        Self::from_pairs_on(pairs, Date::today_moscow())
    }

    /// [`Self::from_pairs`] with `today` (in Moscow) read on the front end's clock.
    pub(crate) fn from_pairs_on(
        pairs: &[(&str, &str)],
        today: Date,
    ) -> Result<Self, ValidationError> {
        let (inn, date) = inn_and_date(pairs, DATE);
        Self::parse_on(inn, date, today)
    }

    /// The INN.
    pub fn inn(&self) -> Inn {
        self.inn
    }

    /// The date asked about (resolved: never "today" implicitly).
    pub fn date(&self) -> Date {
        self.date
    }
}
