//! `inn`: an organisation's debts by INN.

use proverka_core::{Inn, InnError, Params};

use super::{Charset, check_chars, flag, region, required};
use crate::error::{ErrorCode, ValidationError};
use crate::query::Region;

/// `inn`: debts of an organisation by its INN. 10-digit (legal entity) and 12-digit
/// (individual entrepreneur) numbers are accepted; the check digits are verified locally.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByInn {
    inn: Inn,
    region: Region,
    only_actual: bool,
}

impl ByInn {
    pub(super) fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let raw = required(
            p.first_of(&["inn"]),
            "inn",
            ErrorCode::MissingMandatoryParameter,
        )?;
        check_chars(raw, "inn", Charset::Digits)?;
        let inn = Inn::parse(raw).map_err(|e| {
            // The page only says "Разрешено: цифры"; no real INN fails its check digits.
            ValidationError::own(
                ErrorCode::MissingMandatoryParameter,
                "inn",
                match e {
                    InnError::Checksum => "INN check digit does not match",
                    InnError::AllZeros => "INN of all zeros",
                    _ => "INN must have 10 or 12 digits",
                },
            )
        })?;
        Ok(Self {
            inn,
            region: region(p.first_of(&["region"]))?,
            only_actual: flag(p.first_of(&["onlyActual"]))?,
        })
    }

    /// A search by INN in a region.
    pub fn new(inn: Inn, region: Region) -> Self {
        Self {
            inn,
            region,
            only_actual: false,
        }
    }

    /// Reads the INN from text.
    ///
    /// # Errors
    /// 888 for non-digits, 766 for a wrong length or check digit.
    pub fn parse(inn: &str, region: Region) -> Result<Self, ValidationError> {
        let region = region.as_param();
        Self::from_params(Params::new(&[("inn", inn), ("region", &region)]))
    }

    /// Asks only for open proceedings (`onlyActual=1`).
    #[must_use]
    pub fn only_actual(mut self, only_actual: bool) -> Self {
        self.only_actual = only_actual;
        self
    }

    /// Whether only open proceedings are asked for.
    pub fn is_only_actual(&self) -> bool {
        self.only_actual
    }
    /// The INN.
    pub fn inn(&self) -> Inn {
        self.inn
    }
    /// Регион.
    pub fn region(&self) -> Region {
        self.region
    }
}
