//! `region` (регион): all regions, a number, or another value the page allows.

use super::{Charset, check_chars};
use crate::error::{ErrorCode, ValidationError};

/// A region (регион) for the search: all regions (`-1`), a region number, or any other value
/// the page allows (letters for `legal`, new kinds of territorial bodies: the changelog of
/// 09.07.2025 adds them). No fixed range is applied: the free `regionsList` answer is the
/// authority, see [`Regions::check`](crate::Regions::check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Region {
    /// `-1`: search every region (slower, the page says).
    All,
    /// A region number (`77`).
    Code(u16),
    /// Any other value the page's character rules allow (`77-1`, `1000000`, `Москва`): sent
    /// as given.
    Named(RegionName),
}

/// A region value that is not a plain number, kept inline so [`Region`] stays `Copy`. At most
/// 62 bytes (31 Cyrillic letters): proverka's own bound, far above any region code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegionName {
    len: u8,
    bytes: [u8; 62],
}

impl RegionName {
    fn new(s: &str) -> Option<Self> {
        let len = u8::try_from(s.len())
            .ok()
            .filter(|l| usize::from(*l) <= 62)?;
        let mut bytes = [0u8; 62];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Self { len, bytes })
    }

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for RegionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for RegionName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Region {
    /// Reads a region as the page allows it for `physical`, `alim`, `ip`, `id`, `inn` and
    /// `wanted`: digits and `-` ("Разрешено: цифры, знак "-"").
    ///
    /// # Errors
    /// 103 when empty, 888 for other characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::read(s, Charset::Region)
    }

    /// Reads a region as the page allows it for `legal`: Cyrillic, Latin, digits and `-`
    /// ("Разрешено: кирилица, латиница, цифры, знак "-"").
    ///
    /// # Errors
    /// 103 when empty, 888 for other characters.
    pub fn parse_legal(s: &str) -> Result<Self, ValidationError> {
        Self::read(s, Charset::Name)
    }

    fn read(s: &str, chars: Charset) -> Result<Self, ValidationError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(missing_region());
        }
        check_chars(s, "region", chars)?;
        if s == "-1" {
            return Ok(Self::All);
        }
        match s.parse::<u16>() {
            Ok(n) if n > 0 && n.to_string() == s => Ok(Self::Code(n)),
            _ => RegionName::new(s).map(Self::Named).ok_or_else(|| {
                ValidationError::own(
                    ErrorCode::MissingRegion,
                    "region",
                    "is longer than 62 bytes, far beyond any region code",
                )
            }),
        }
    }

    /// A region by number (`0` is kept as given: the page sets no range).
    ///
    /// # Errors
    /// None today; fallible so that a rule the provider documents later can refuse.
    pub fn code(n: u16) -> Result<Self, ValidationError> {
        Self::parse(&n.to_string())
    }

    /// The `region=` value.
    pub fn as_param(self) -> String {
        match self {
            Self::All => "-1".to_owned(),
            Self::Code(n) => n.to_string(),
            Self::Named(name) => name.as_str().to_owned(),
        }
    }
}

pub(super) fn missing_region() -> ValidationError {
    ValidationError::new(ErrorCode::MissingRegion, "region", "is required")
}
