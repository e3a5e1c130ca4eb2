//! [`Inn`]: the Russian taxpayer number (ИНН), checksum-validated.

use std::fmt;
use std::str::FromStr;

/// Which kind of taxpayer an [`Inn`] belongs to, told by its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InnKind {
    /// 10 digits: a legal entity (юридическое лицо).
    Legal,
    /// 12 digits: an individual, including individual entrepreneurs and the self-employed
    /// (физическое лицо).
    Individual,
}

/// A taxpayer identification number (ИНН) whose length and check digits are valid.
///
/// ```
/// use proverka_core::{Inn, InnKind};
/// let inn: Inn = "7707083893".parse()?;
/// assert_eq!(inn.kind(), InnKind::Legal);
/// assert!("7707083890".parse::<Inn>().is_err()); // wrong check digit
/// assert!("0000000000".parse::<Inn>().is_err()); // passes the arithmetic, still rejected
/// # Ok::<(), proverka_core::InnError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inn {
    digits: [u8; 12],
    len: u8,
}

/// Why a string is not a valid [`Inn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InnError {
    /// Empty after trimming.
    #[error("INN is empty")]
    Empty,
    /// A character other than an ASCII digit.
    #[error("INN must contain digits only")]
    NotDigits,
    /// Neither 10 nor 12 digits.
    #[error("INN must have 10 (legal entity) or 12 (individual) digits, got {0}")]
    Length(usize),
    /// The right length, but a check digit does not match.
    #[error("INN check digit does not match")]
    Checksum,
    /// All zeros: passes the arithmetic, but is no one's number.
    #[error("INN of all zeros is not a real number")]
    AllZeros,
    /// A 10-digit INN where an individual's 12-digit INN is required, or the reverse.
    #[error("INN of the wrong kind: expected {expected:?}")]
    WrongKind {
        /// The kind the caller required.
        expected: InnKind,
    },
}

const W10: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const W11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const W12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

fn check_digit(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    // The remainder mod 11 is at most 10, and 10 % 10 == 0: always a single digit.
    ((sum % 11) % 10) as u8
}

impl Inn {
    /// Parses and validates an INN of either kind. Surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`InnError`] says which rule failed.
    pub fn parse(input: &str) -> Result<Self, InnError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(InnError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InnError::NotDigits);
        }
        let len = s.len();
        if len != 10 && len != 12 {
            return Err(InnError::Length(len));
        }
        let mut digits = [0u8; 12];
        for (slot, b) in digits.iter_mut().zip(s.bytes()) {
            *slot = b - b'0';
        }
        let d = &digits[..len];
        if d.iter().all(|&x| x == 0) {
            return Err(InnError::AllZeros);
        }
        let ok = if len == 10 {
            check_digit(&d[..9], &W10) == d[9]
        } else {
            check_digit(&d[..10], &W11) == d[10] && check_digit(&d[..11], &W12) == d[11]
        };
        if !ok {
            return Err(InnError::Checksum);
        }
        Ok(Self {
            digits,
            len: len as u8,
        })
    }

    /// Parses an individual's 12-digit INN (self-employed, entrepreneur, person).
    ///
    /// # Errors
    /// [`InnError::WrongKind`] for a valid 10-digit INN, or the reason it is invalid.
    pub fn parse_individual(input: &str) -> Result<Self, InnError> {
        let inn = Self::parse(input)?;
        if inn.kind() == InnKind::Individual {
            Ok(inn)
        } else {
            Err(InnError::WrongKind {
                expected: InnKind::Individual,
            })
        }
    }

    /// Legal entity (10 digits) or individual (12 digits).
    pub fn kind(&self) -> InnKind {
        if self.len == 10 {
            InnKind::Legal
        } else {
            InnKind::Individual
        }
    }

    /// The digits as a string, as sent to the provider.
    pub fn as_string(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Inn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.digits[..usize::from(self.len)] {
            fmt::Write::write_char(f, char::from(b'0' + d))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Inn {
    /// Masked: an INN identifies a person, and `Debug` output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Inn({:?}, {}…)",
            self.kind(),
            self.digits[0] * 10 + self.digits[1]
        )
    }
}

impl FromStr for Inn {
    type Err = InnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Inn {
    type Error = InnError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert_eq!(
            Inn::parse("7707083893").map(|i| i.kind()),
            Ok(InnKind::Legal)
        );
        assert_eq!(
            Inn::parse("540304378234").map(|i| i.kind()),
            Ok(InnKind::Individual)
        );
        assert_eq!(Inn::parse("7707083890"), Err(InnError::Checksum));
        assert_eq!(Inn::parse("540304378235"), Err(InnError::Checksum));
        assert_eq!(Inn::parse("0000000000"), Err(InnError::AllZeros));
        assert_eq!(Inn::parse("000000000000"), Err(InnError::AllZeros));
        assert_eq!(Inn::parse("77070838"), Err(InnError::Length(8)));
        assert_eq!(Inn::parse("77070838a3"), Err(InnError::NotDigits));
        assert_eq!(Inn::parse("  "), Err(InnError::Empty));
        assert_eq!(
            Inn::parse_individual("7707083893"),
            Err(InnError::WrongKind {
                expected: InnKind::Individual
            })
        );
        assert_eq!(
            Inn::parse(" 7707083893 ").unwrap().to_string(),
            "7707083893"
        );
    }

    #[test]
    fn debug_masks_the_number() {
        let inn = Inn::parse("540304378234").unwrap();
        assert!(!format!("{inn:?}").contains("540304378234"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Inn::parse(&s);
        }

        #[test]
        fn a_computed_check_digit_is_accepted(body in proptest::collection::vec(0u8..10, 9)) {
            let mut d = body.clone();
            d.push(check_digit(&body, &W10));
            let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            let r = Inn::parse(&s);
            if d.iter().all(|&x| x == 0) {
                proptest::prop_assert_eq!(r, Err(InnError::AllZeros));
            } else {
                proptest::prop_assert_eq!(r.map(|i| i.to_string()), Ok(s));
            }
        }
    }
}
