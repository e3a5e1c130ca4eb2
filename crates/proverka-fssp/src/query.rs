//! Typed FSSP queries (тип запроса), validated as the provider validates them.
//!
//! Building a query is the validation: a value of any type here is a query the provider will
//! accept, and a failure carries the provider's own code ([`ValidationError`]).

use proverka_core::{Date, Params};

use crate::error::{ErrorCode, ValidationError};

mod id;
mod inn;
mod ip;
mod legal;
mod person;
mod region;
mod wanted;

pub use id::{DocumentType, Id};
pub use inn::ByInn;
pub use ip::Ip;
pub use legal::Legal;
pub use person::{Alim, Person, Physical};
pub use region::{Region, RegionName};
pub use wanted::Wanted;

/// The query type (`type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum QueryType {
    /// `regionsList`: the region list (free).
    RegionsList,
    /// `physical`: an individual by name and birth date.
    Physical,
    /// `legal`: a legal entity by name.
    Legal,
    /// `ip`: by enforcement proceeding number (номер исполнительного производства).
    Ip,
    /// `id`: by executive document number (номер исполнительного документа).
    Id,
    /// `inn`: a legal entity by INN.
    Inn,
    /// `wanted`: the wanted register (реестр розыска), beta.
    Wanted,
    /// `alim`: the alimony debtors register (реестр алиментщиков), beta.
    Alim,
}

impl QueryType {
    /// Every query type.
    pub const ALL: [Self; 8] = [
        Self::RegionsList,
        Self::Physical,
        Self::Legal,
        Self::Ip,
        Self::Id,
        Self::Inn,
        Self::Wanted,
        Self::Alim,
    ];

    /// The `type=` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RegionsList => "regionsList",
            Self::Physical => "physical",
            Self::Legal => "legal",
            Self::Ip => "ip",
            Self::Id => "id",
            Self::Inn => "inn",
            Self::Wanted => "wanted",
            Self::Alim => "alim",
        }
    }

    /// Reads a `type=` value (exact spelling, as the provider requires).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }
}

/// Which characters a parameter may hold (the page's «Разрешено» column).
#[derive(Debug, Clone, Copy)]
pub(super) enum Charset {
    /// Cyrillic (with Ё/ё), Latin, digits, `-`: names.
    Name,
    /// As [`Charset::Name`] plus single spaces: `nameLegal`, `address` (the page's own
    /// example sends `name=аптека 23`).
    NameWithSpaces,
    /// `[A-Za-zА-ЯЁа-яё0-9-\s]`: `fio` of `wanted`.
    Fio,
    /// Cyrillic, Latin, digits, `-`, `/`: `number` of `ip`.
    ProceedingNumber,
    /// Digits, `-`, `/`: `number` of `id`.
    DocumentNumber,
    /// Digits only: `inn`, `typeid`.
    Digits,
    /// Digits and `-`: `region`.
    Region,
    /// Digits and `.`: `birthdate`.
    Date,
}

pub(super) fn is_cyrillic(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

pub(super) fn allowed(c: char, set: Charset) -> bool {
    let word = || is_cyrillic(c) || c.is_ascii_alphanumeric() || c == '-';
    match set {
        Charset::Name => word(),
        Charset::NameWithSpaces => word() || c == ' ',
        Charset::Fio => word() || c.is_whitespace(),
        Charset::ProceedingNumber => word() || c == '/',
        Charset::DocumentNumber => word() || matches!(c, '/' | ' ' | '№' | '.'),
        Charset::Digits => c.is_ascii_digit(),
        Charset::Region => c.is_ascii_digit() || c == '-',
        Charset::Date => c.is_ascii_digit() || c == '.',
    }
}

pub(super) fn check_chars(
    value: &str,
    param: &'static str,
    set: Charset,
) -> Result<(), ValidationError> {
    if value.chars().all(|c| allowed(c, set)) {
        Ok(())
    } else {
        Err(ValidationError::new(
            ErrorCode::ForbiddenSymbols,
            param,
            "contains characters the provider forbids",
        ))
    }
}

/// Trims and collapses inner whitespace to single spaces.
pub(super) fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn required<'a>(
    value: Option<&'a str>,
    param: &'static str,
    missing: ErrorCode,
) -> Result<&'a str, ValidationError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ValidationError::new(missing, param, "is required")),
    }
}

pub(super) fn optional(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

pub(super) fn name(value: &str, param: &'static str) -> Result<String, ValidationError> {
    check_chars(value, param, Charset::Name)?;
    Ok(value.to_owned())
}

/// A birth date as the page writes it (`dd.mm.yyyy`), not after `today` (in Moscow, on the
/// caller's clock).
pub(super) fn birthdate(value: Option<&str>, today: Date) -> Result<Date, ValidationError> {
    let v = required(value, "birthdate", ErrorCode::MissingBirthdate)?;
    check_chars(v, "birthdate", Charset::Date)?;
    let date = Date::parse_dmy(v).map_err(|e| match e {
        proverka_core::DateError::NoSuchDay => {
            ValidationError::new(ErrorCode::DateError, "birthdate", "is not a calendar day")
        }
        _ => ValidationError::new(
            ErrorCode::MissingBirthdate,
            "birthdate",
            "must be written as dd.mm.yyyy",
        ),
    })?;
    if date > today {
        return Err(ValidationError::new(
            ErrorCode::DateError,
            "birthdate",
            "is in the future",
        ));
    }
    Ok(date)
}

pub(super) fn region(value: Option<&str>) -> Result<Region, ValidationError> {
    Region::parse(value.unwrap_or_default())
}

/// `onlyActual`: the page shows `onlyActual=1`; `0`, `true` and `false` are read too. Any other
/// value is refused (proverka's own rule): the provider would ignore it and bill the query
/// unfiltered, which is not what the caller asked for.
pub(super) fn flag(value: Option<&str>) -> Result<bool, ValidationError> {
    match value.map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v == "1" || v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ValidationError::own(
            ErrorCode::NoRequiredParameters,
            "onlyActual",
            "must be 1, 0, true or false (the provider would ignore another value and bill the query unfiltered)",
        )),
    }
}

/// `regionsList`: the region numbers for `region=` (free of charge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RegionsList;

/// Any FSSP query: what the proxy builds from a provider-style query string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FsspQuery {
    /// `regionsList`.
    RegionsList(RegionsList),
    /// `physical`.
    Physical(Physical),
    /// `legal`.
    Legal(Legal),
    /// `ip`.
    Ip(Ip),
    /// `id`.
    Id(Id),
    /// `inn`.
    Inn(ByInn),
    /// `wanted`.
    Wanted(Wanted),
    /// `alim`.
    Alim(Alim),
}

impl FsspQuery {
    /// Reads a query from provider-style parameters (`type=physical&lastname=…`), as an
    /// existing client of the provider sends them. `token` and unknown parameters are ignored;
    /// `legal` accepts both `nameLegal`/`name` and `address`/`adress`.
    ///
    /// # Errors
    /// The provider's code: 500 without a known `type`, then the type's own checks.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ValidationError> {
        Self::from_pairs_on(pairs, Date::today_moscow())
    }

    /// [`Self::from_pairs`] with `today` (in Moscow: a birth date may not be after it) read on
    /// the front end's clock.
    pub(crate) fn from_pairs_on(
        pairs: &[(&str, &str)],
        today: Date,
    ) -> Result<Self, ValidationError> {
        let p = Params::new(pairs);
        let kind = p
            .get("type")
            .and_then(QueryType::parse)
            .ok_or(ValidationError::new(
                ErrorCode::MissingType,
                "type",
                "is missing or not one of the documented query types",
            ))?;
        Ok(match kind {
            QueryType::RegionsList => Self::RegionsList(RegionsList),
            QueryType::Physical => Self::Physical(Physical(Person::from_params(p, today)?)),
            QueryType::Alim => Self::Alim(Alim(Person::from_params(p, today)?)),
            QueryType::Legal => Self::Legal(Legal::from_params(p)?),
            QueryType::Ip => Self::Ip(Ip::from_params(p)?),
            QueryType::Id => Self::Id(Id::from_params(p)?),
            QueryType::Inn => Self::Inn(ByInn::from_params(p)?),
            QueryType::Wanted => Self::Wanted(Wanted::from_params(p)?),
        })
    }

    /// A valid query of `kind` about a made-up person or company (the page's own examples'
    /// shape): for examples, tests and benches that need one query of each type.
    pub fn example(kind: QueryType) -> Self {
        let mut all = vec![("type", kind.as_str())];
        all.extend_from_slice(Self::example_pairs(kind));
        Self::from_pairs(&all).unwrap_or(Self::RegionsList(RegionsList))
    }

    fn example_pairs(kind: QueryType) -> &'static [(&'static str, &'static str)] {
        match kind {
            QueryType::RegionsList => &[],
            QueryType::Physical | QueryType::Alim => &[
                ("region", "77"),
                ("lastname", "Иванов"),
                ("firstname", "Иван"),
                ("birthdate", "01.02.1980"),
            ],
            QueryType::Legal => &[("region", "77"), ("name", "ООО Ромашка")],
            QueryType::Ip => &[("number", "1/23/45678-ИП")],
            QueryType::Id => &[("region", "77"), ("number", "ФС 012345678")],
            QueryType::Inn => &[("region", "77"), ("inn", "7707083893")],
            QueryType::Wanted => &[("fio", "Иванов Иван")],
        }
    }

    /// The query type.
    pub fn query_type(&self) -> QueryType {
        match self {
            Self::RegionsList(_) => QueryType::RegionsList,
            Self::Physical(_) => QueryType::Physical,
            Self::Legal(_) => QueryType::Legal,
            Self::Ip(_) => QueryType::Ip,
            Self::Id(_) => QueryType::Id,
            Self::Inn(_) => QueryType::Inn,
            Self::Wanted(_) => QueryType::Wanted,
            Self::Alim(_) => QueryType::Alim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_valid_example() {
        for kind in QueryType::ALL {
            let example = FsspQuery::example(kind);
            if example.query_type() != kind {
                let mut all = vec![("type", kind.as_str())];
                all.extend_from_slice(FsspQuery::example_pairs(kind));
                panic!("{kind:?}: {:?}", FsspQuery::from_pairs(&all));
            }
        }
    }

    fn code(r: Result<FsspQuery, ValidationError>) -> Option<u32> {
        r.err().and_then(|e| e.code.number())
    }

    #[test]
    fn provider_codes_for_each_rule() {
        let q = |s: &[(&str, &str)]| code(FsspQuery::from_pairs(s));
        let person = [
            ("type", "physical"),
            ("lastname", "Иванов"),
            ("firstname", "Иван"),
            ("birthdate", "01.02.1990"),
            ("region", "77"),
        ];
        assert_eq!(q(&person), None);
        assert_eq!(q(&person[1..]), Some(500));
        assert_eq!(q(&[("type", "nope")]), Some(500));
        assert_eq!(q(&[person[0], person[2], person[3], person[4]]), Some(101));
        assert_eq!(q(&[person[0], person[1], person[3], person[4]]), Some(100));
        assert_eq!(q(&[person[0], person[1], person[2], person[4]]), Some(104));
        assert_eq!(q(&person[..4]), Some(103));
        let with = |k: &'static str, v: &'static str| {
            let mut p: Vec<(&str, &str)> =
                person.iter().copied().filter(|(n, _)| *n != k).collect();
            p.push((k, v));
            q(&p)
        };
        assert_eq!(with("lastname", "Ив@нов"), Some(888));
        assert_eq!(with("lastname", "Иван ов"), Some(888));
        assert_eq!(with("lastname", "  Пётр-Ёлкин "), None);
        assert_eq!(with("firstname", "ИВАНОВ"), Some(107));
        assert_eq!(with("secondname", "Ив/"), Some(888));
        assert_eq!(with("birthdate", "1990-01-01"), Some(888));
        assert_eq!(with("birthdate", "1.1.1990"), Some(104));
        assert_eq!(with("birthdate", "31.02.1990"), Some(15));
        assert_eq!(with("birthdate", "01.01.2999"), Some(15));
        assert_eq!(with("region", "-1"), None);
        // No fixed range: the page allows digits and "-"; regionsList is the authority.
        assert_eq!(with("region", "0"), None);
        assert_eq!(with("region", "7-7"), None);
        assert_eq!(with("onlyActual", "yes"), Some(460));
        assert_eq!(with("region", "77a"), Some(888));
        assert_eq!(
            q(&[
                ("type", "legal"),
                ("name", "аптека 23"),
                ("region", "23"),
                ("adress", "Сочи")
            ]),
            None
        );
        assert_eq!(q(&[("type", "legal"), ("region", "23")]), Some(105));
        assert_eq!(
            q(&[
                ("type", "legal"),
                ("nameLegal", "ООО \"Ромашка\""),
                ("region", "23")
            ]),
            Some(888)
        );
        assert_eq!(q(&[("type", "ip"), ("number", "32472/17/23072-ИП")]), None);
        assert_eq!(q(&[("type", "ip"), ("number", "1234/21/77/01")]), None);
        assert_eq!(q(&[("type", "ip"), ("number", "32472/17")]), Some(102));
        assert_eq!(q(&[("type", "ip")]), Some(102));
        assert_eq!(
            q(&[("type", "id"), ("number", "2-1234/2021"), ("region", "77")]),
            None
        );
        assert_eq!(
            q(&[("type", "id"), ("number", "2-1234/2021"), ("region", "-1")]),
            Some(103)
        );
        assert_eq!(
            q(&[("type", "id"), ("number", "ФС 0390"), ("region", "77")]),
            None
        );
        assert_eq!(
            q(&[("type", "id"), ("number", "ФС@0390"), ("region", "77")]),
            Some(888)
        );
        assert_eq!(q(&[("type", "id"), ("region", "77")]), Some(106));
        assert_eq!(
            q(&[
                ("type", "id"),
                ("number", "1/2"),
                ("region", "77"),
                ("typeid", "9")
            ]),
            Some(107)
        );
        assert_eq!(
            q(&[
                ("type", "id"),
                ("number", "1/2"),
                ("region", "77"),
                ("typeid", "x")
            ]),
            Some(888)
        );
        assert_eq!(
            q(&[("type", "inn"), ("inn", "7707083893"), ("region", "-1")]),
            None
        );
        assert_eq!(
            q(&[("type", "inn"), ("inn", "7707083890"), ("region", "-1")]),
            Some(766)
        );
        assert_eq!(
            q(&[("type", "inn"), ("inn", "77O7083893"), ("region", "-1")]),
            Some(888)
        );
        assert_eq!(
            q(&[("type", "wanted"), ("fio", "Иванов  Иван Иванович")]),
            None
        );
        assert_eq!(q(&[("type", "wanted"), ("fio", "Иванов И.И.")]), Some(888));
        assert_eq!(q(&[("type", "wanted")]), Some(766));
        assert_eq!(q(&[("type", "regionsList")]), None);
    }
}
