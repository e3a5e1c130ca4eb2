//! `legal`: a legal entity's debts by name.

use proverka_core::Params;

use super::{Charset, check_chars, flag, optional, required, squeeze};
use crate::error::{ErrorCode, ValidationError};
use crate::query::Region;

/// `legal`: debts of a legal entity (юридическое лицо) by name.
///
/// The page's table names the parameters `nameLegal` and `address`; its example URL sends
/// `name` and `adress`. This client sends the table's names (error 105 names `nameLegal`) and
/// [`FsspQuery::from_pairs`](crate::FsspQuery::from_pairs) accepts both spellings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Legal {
    name_legal: String,
    region: Region,
    address: Option<String>,
    only_actual: bool,
}

impl Legal {
    pub(super) fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let name_legal = squeeze(required(
            p.first_of(&["nameLegal", "name"]),
            "nameLegal",
            ErrorCode::MissingNameLegal,
        )?);
        check_chars(&name_legal, "nameLegal", Charset::NameWithSpaces)?;
        let region = Region::parse_legal(p.first_of(&["region"]).unwrap_or_default())?;
        let address = optional(p.first_of(&["address", "adress"]))
            .map(|a| {
                let a = squeeze(a);
                check_chars(&a, "address", Charset::NameWithSpaces).map(|()| a)
            })
            .transpose()?;
        Ok(Self {
            name_legal,
            region,
            address,
            only_actual: flag(p.first_of(&["onlyActual"]))?,
        })
    }

    /// A search by the entity's name in a region.
    ///
    /// # Errors
    /// 105 for a missing name, 888 for a forbidden character.
    pub fn new(name_legal: &str, region: Region) -> Result<Self, ValidationError> {
        let region = region.as_param();
        Self::from_params(Params::new(&[
            ("nameLegal", name_legal),
            ("region", &region),
        ]))
    }

    /// Narrows by the entity's address.
    ///
    /// # Errors
    /// 888 for a forbidden character.
    pub fn with_address(mut self, address: &str) -> Result<Self, ValidationError> {
        self.address = optional(Some(address))
            .map(|a| {
                let a = squeeze(a);
                check_chars(&a, "address", Charset::NameWithSpaces).map(|()| a)
            })
            .transpose()?;
        Ok(self)
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
    /// Наименование.
    pub fn name_legal(&self) -> &str {
        &self.name_legal
    }
    /// Адрес, when given.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }
    /// Регион.
    pub fn region(&self) -> Region {
        self.region
    }
}
