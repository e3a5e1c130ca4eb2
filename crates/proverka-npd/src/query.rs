//! [`NpdQuery`]: one status check, validated before anything is sent (the page's 400 codes,
//! and proverka's own rules, marked as such).

use proverka_core::status_day::{InFuture, StatusOnDay, status_day};
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

impl StatusOnDay for NpdQuery {
    type Error = ValidationError;
    const DATE: &'static [&'static str] = DATE;

    /// A 10-digit INN, or a date after today in Moscow, is refused.
    fn new_on(inn: Inn, date: Option<Date>, today: Date) -> Result<Self, ValidationError> {
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

    fn inn_refused(e: InnError) -> ValidationError {
        inn_error(e)
    }

    fn date_refused() -> ValidationError {
        date_error("must be YYYY-MM-DD")
    }

    fn subject(&self) -> (Inn, Date) {
        (self.inn, self.date)
    }
}
