//! [`Money`]: exact amounts in kopecks, parsed from whatever the providers print.

use std::fmt;

/// An exact amount of rubles, held as kopecks (1/100 of a ruble).
///
/// Parsed from numbers (`0.8`), numeric strings (`"20028.12"`, `"0.00"`) and decorated text
/// (`" 18422.50 руб."`, `"1 605,62 ₽"`). Fractions beyond kopecks are rounded half away from
/// zero, as a bank would.
///
/// ```
/// use proverka_core::Money;
/// assert_eq!(Money::parse(" 18422.50 руб.")?.kopecks(), 1_842_250);
/// assert_eq!(Money::parse("-706.62")?.to_string(), "-706.62");
/// # Ok::<(), proverka_core::MoneyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a text is not an amount of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// No digits at all.
    #[error("no amount in the text")]
    Empty,
    /// Characters that are neither part of a number nor a currency mark.
    #[error("not an amount of money")]
    Invalid,
    /// More than ±92 233 720 368 547 758 rubles.
    #[error("amount out of range")]
    Overflow,
}

impl std::str::FromStr for Money {
    type Err = MoneyError;

    /// As [`Money::parse`].
    fn from_str(text: &str) -> Result<Self, MoneyError> {
        Self::parse(text)
    }
}

impl Money {
    /// Zero rubles.
    pub const ZERO: Self = Self(0);

    /// An amount of kopecks.
    pub const fn from_kopecks(kopecks: i64) -> Self {
        Self(kopecks)
    }

    /// The amount in kopecks.
    pub const fn kopecks(self) -> i64 {
        self.0
    }

    /// The amount in rubles as a float, for display and metrics only.
    pub fn rubles_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Sum, saturating at the range ends.
    #[must_use]
    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// Difference, saturating at the range ends (it may be negative).
    #[must_use]
    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// Parses an amount: optional sign, digits with optional spaces (including no-break
    /// spaces) between groups, optional `.` or `,` decimal part, optional currency text
    /// (`руб.`, `руб`, `р.`, `₽`, `RUB`).
    ///
    /// # Errors
    /// [`MoneyError`] when there is no number or something else is in the text.
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let mut s = text.trim();
        for suffix in ["руб.", "руб", "р.", "₽", "RUB", "rub"] {
            if let Some(rest) = s.strip_suffix(suffix) {
                s = rest.trim_end();
                break;
            }
        }
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let mut whole: i64 = 0;
        let mut frac: i64 = 0;
        let mut frac_digits = 0u32;
        let mut round_up = false;
        let mut in_frac = false;
        let mut any_digit = false;
        for c in s.chars() {
            match c {
                '0'..='9' => {
                    any_digit = true;
                    let d = i64::from(c as u8 - b'0');
                    if !in_frac {
                        whole = whole
                            .checked_mul(10)
                            .and_then(|w| w.checked_add(d))
                            .ok_or(MoneyError::Overflow)?;
                    } else if frac_digits < 2 {
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    } else if frac_digits == 2 {
                        round_up = d >= 5;
                        frac_digits += 1;
                    }
                }
                '.' | ',' if !in_frac => in_frac = true,
                ' ' | '\u{a0}' | '\u{202f}' if !in_frac => {}
                _ => return Err(MoneyError::Invalid),
            }
        }
        if !any_digit {
            return Err(MoneyError::Empty);
        }
        if frac_digits == 1 {
            frac *= 10;
        }
        let kopecks = whole
            .checked_mul(100)
            .and_then(|k| k.checked_add(frac + i64::from(round_up)))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self(if negative { -kopecks } else { kopecks }))
    }

    /// Reads a JSON number or string as money: `0.8`, `"0.00"`, `" 18422.50 руб."`.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value {
            // A JSON number's shortest text form is exact for the 2-decimal amounts the
            // providers send, so parse the text instead of multiplying a float.
            serde_json::Value::Number(n) => Self::parse(&n.to_string()).ok(),
            serde_json::Value::String(s) => Self::parse(s).ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Money {
    /// `-706.62`: rubles with two decimals, no currency mark.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl serde::Serialize for Money {
    /// As a string of rubles (`"18422.50"`): exact, unlike a float.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+\\.[0-9]{2}$",
            "description": "Rubles with two decimals (`\"18422.50\"`): exact, unlike a float",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_the_providers_print() {
        let k = |s: &str| Money::parse(s).map(Money::kopecks);
        assert_eq!(k(" 18422.50 руб."), Ok(1_842_250));
        assert_eq!(k("20028.12"), Ok(2_002_812));
        assert_eq!(k("0.00"), Ok(0));
        assert_eq!(k("0.8"), Ok(80));
        assert_eq!(k("1 605,62 ₽"), Ok(160_562));
        assert_eq!(k("-706.62"), Ok(-70_662));
        assert_eq!(k("20000"), Ok(2_000_000));
        assert_eq!(k("1.005"), Ok(101));
        assert_eq!(k("руб."), Err(MoneyError::Empty));
        assert_eq!(k("12a"), Err(MoneyError::Invalid));
        assert_eq!(k("1.2.3"), Err(MoneyError::Invalid));
        assert_eq!(k("99999999999999999999"), Err(MoneyError::Overflow));
        assert_eq!(
            Money::from_json(&serde_json::json!(100462.11)).map(Money::kopecks),
            Some(10_046_211)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn display_round_trips(k in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_kopecks(k);
            proptest::prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
            proptest::prop_assert_eq!(Money::parse(&format!(" {m} руб.")), Ok(m));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = Money::parse(&s);
        }
    }
}
