//! `wanted`: the wanted register by full name.

use proverka_core::Params;

use super::{Charset, check_chars, optional, required, squeeze};
use crate::error::{ErrorCode, ValidationError};
use crate::query::Region;

/// `wanted` (beta): the wanted register (розыск) by full name; every region unless one is
/// given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wanted {
    fio: String,
    region: Option<Region>,
}

impl Wanted {
    pub(super) fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let raw = required(
            p.first_of(&["fio"]),
            "fio",
            ErrorCode::MissingMandatoryParameter,
        )?;
        check_chars(raw, "fio", Charset::Fio)?;
        let region = optional(p.first_of(&["region"]))
            .map(Region::parse)
            .transpose()?;
        Ok(Self {
            fio: squeeze(raw),
            region,
        })
    }

    /// A search by full name (ФИО).
    ///
    /// # Errors
    /// 766 for an empty name, 888 for a forbidden character.
    pub fn new(fio: &str) -> Result<Self, ValidationError> {
        Self::from_params(Params::new(&[("fio", fio)]))
    }

    /// Narrows to one region.
    #[must_use]
    pub fn in_region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// ФИО.
    pub fn fio(&self) -> &str {
        &self.fio
    }
    /// The region, when narrowed.
    pub fn region(&self) -> Option<Region> {
        self.region
    }
}
