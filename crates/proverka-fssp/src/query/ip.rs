//! `ip`: by enforcement proceeding number.

use proverka_core::Params;

use super::{Charset, check_chars, required};
use crate::error::{ErrorCode, ValidationError};

/// `ip`: by enforcement proceeding number (номер исполнительного производства), written
/// `n…n/yy/dd/rr` or `n…n/yy/ddddd-ИП` (`32472/17/23072-ИП`).
///
/// The page's descriptions of `number` for `ip` and `id` look swapped; the `ip` example uses a
/// proceeding number, so that is what `ip` takes here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ip {
    number: String,
}

pub(super) fn is_proceeding_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    let digits = |p: &str, n: Option<usize>| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && n.is_none_or(|n| p.len() == n)
    };
    match parts.as_slice() {
        [n, yy, dd, rr] => {
            digits(n, None) && digits(yy, Some(2)) && digits(dd, Some(2)) && digits(rr, Some(2))
        }
        [n, yy, tail] => {
            let Some((code, suffix)) = tail.split_once('-') else {
                return false;
            };
            digits(n, None)
                && digits(yy, Some(2))
                && digits(code, Some(5))
                && suffix.to_uppercase() == "ИП"
        }
        _ => false,
    }
}

impl Ip {
    pub(super) fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let number = required(
            p.first_of(&["number"]),
            "number",
            ErrorCode::MissingProceedingNumber,
        )?;
        check_chars(number, "number", Charset::ProceedingNumber)?;
        if !is_proceeding_number(number) {
            return Err(ValidationError::new(
                ErrorCode::MissingProceedingNumber,
                "number",
                "must be written n…n/yy/dd/rr or n…n/yy/ddddd-ИП",
            ));
        }
        Ok(Self {
            number: number.to_owned(),
        })
    }

    /// A search by proceeding number.
    ///
    /// # Errors
    /// 102 for a missing or malformed number, 888 for a forbidden character.
    pub fn new(number: &str) -> Result<Self, ValidationError> {
        Self::from_params(Params::new(&[("number", number)]))
    }

    /// The proceeding number.
    pub fn number(&self) -> &str {
        &self.number
    }
}
