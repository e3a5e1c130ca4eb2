//! [`FnsQuery`]: one status check, validated before anything is sent: what the service
//! refuses with `422 validation.failed`, and proverka's own rules, marked as such.

use proverka_core::status_day::{InFuture, StatusOnDay, status_day};
use proverka_core::{Date, Inn, InnError, InnKind, RefusedBy};

use crate::error::ValidationError;

/// The date's parameters: proverka's `date`, or the service's own name, `requestDate`.
pub(crate) const DATE: &[&str] = &["date", "requestDate"];

/// The first day the service answers for (`requestDate` from 2019-01-01: the regime began
/// then), as `(year, month, day)`.
pub const FIRST_DATE: (u16, u8, u8) = (2019, 1, 1);

/// One status check: an individual's INN on a (resolved) date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FnsQuery {
    inn: Inn,
    date: Date,
}

/// A checksum is proverka's rule (the service's page names only "12 digits"); anything else
/// wrong with the INN is the service's `validation.failed`.
fn inn_error(e: InnError) -> ValidationError {
    match e {
        InnError::Checksum | InnError::AllZeros => ValidationError {
            field: "inn",
            reason: if e == InnError::Checksum {
                "INN check digits do not match"
            } else {
                "INN of all zeros"
            },
            refused_by: RefusedBy::Proverka,
        },
        InnError::Empty => ValidationError::service("inn", "no INN given"),
        _ => ValidationError::service("inn", "a 12-digit INN of an individual is required"),
    }
}

impl StatusOnDay for FnsQuery {
    type Error = ValidationError;
    const DATE: &'static [&'static str] = DATE;

    /// A 10-digit INN, or a date before [`FIRST_DATE`] or after today in Moscow, is refused
    /// (today is proverka's default: the service needs a date).
    fn new_on(inn: Inn, date: Option<Date>, today: Date) -> Result<Self, ValidationError> {
        if inn.kind() != InnKind::Individual {
            return Err(inn_error(InnError::WrongKind {
                expected: InnKind::Individual,
            }));
        }
        let date = status_day(date, today).map_err(|InFuture| {
            ValidationError::service("requestDate", "must not be after today (Moscow)")
        })?;
        if (date.year(), date.month(), date.day()) < FIRST_DATE {
            return Err(ValidationError::service(
                "requestDate",
                "must be 2019-01-01 or later",
            ));
        }
        Ok(Self { inn, date })
    }

    fn inn_refused(e: InnError) -> ValidationError {
        inn_error(e)
    }

    fn date_refused() -> ValidationError {
        ValidationError::service("requestDate", "must be YYYY-MM-DD")
    }

    fn subject(&self) -> (Inn, Date) {
        (self.inn, self.date)
    }
}
