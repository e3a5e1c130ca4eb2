//! Typed FSSP queries (тип запроса), validated as the provider validates them.
//!
//! Building a query is the validation: a value of any type here is a query the provider will
//! accept, and a failure carries the provider's own code ([`ValidationError`]).

use proverka_core::{Date, Inn, InnError};

use crate::error::{ErrorCode, ValidationError};

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

fn missing_region() -> ValidationError {
    ValidationError::new(ErrorCode::MissingRegion, "region", "is required")
}

/// Executive document type (`typeid`), from the page's table (Тип исполнительного документа).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum DocumentType {
    /// 1 — Исполнительный документ.
    ExecutiveDocument = 1,
    /// 2 — Нотариально удостоверенное соглашение об уплате алиментов.
    NotarialAlimonyAgreement = 2,
    /// 3 — Акт по делу об административном правонарушении.
    AdministrativeOffenceAct = 3,
    /// 4 — Судебный приказ.
    CourtOrder = 4,
    /// 5 — Акт органа, осуществляющего контрольные функции.
    SupervisoryBodyAct = 5,
    /// 6 — Удостоверение комиссии по трудовым спорам.
    LabourDisputeCommissionCertificate = 6,
    /// 7 — Акт другого органа.
    OtherBodyAct = 7,
    /// 8 — Постановление судебного пристава-исполнителя.
    BailiffResolution = 8,
    /// 10 — Исполнительная надпись нотариуса.
    NotaryExecutiveInscription = 10,
    /// 11 — Судебный акт по делу об административном правонарушении.
    CourtActOnAdministrativeOffence = 11,
    /// 12 — Запрос центрального органа о розыске ребенка.
    ChildSearchRequest = 12,
    /// 13 — Исполнительный документ, выданный компетентным органом иностранного государства.
    ForeignCompetentBodyDocument = 13,
    /// 16 — Удостоверение уполномоченного по правам потребителей финансовых услуг (123-ФЗ).
    FinancialOmbudsmanCertificate = 16,
    /// 17 — Определение судьи о наложении ареста на имущество (ст. 19.28 КоАП).
    PropertyArrestRuling = 17,
    /// 18 — Нотариально удостоверенное медиативное соглашение.
    NotarialMediationAgreement = 18,
    /// 19 — Решение государственного инспектора труда о принудительном исполнении.
    LabourInspectorDecision = 19,
}

impl DocumentType {
    /// Every documented type.
    pub const ALL: [Self; 16] = [
        Self::ExecutiveDocument,
        Self::NotarialAlimonyAgreement,
        Self::AdministrativeOffenceAct,
        Self::CourtOrder,
        Self::SupervisoryBodyAct,
        Self::LabourDisputeCommissionCertificate,
        Self::OtherBodyAct,
        Self::BailiffResolution,
        Self::NotaryExecutiveInscription,
        Self::CourtActOnAdministrativeOffence,
        Self::ChildSearchRequest,
        Self::ForeignCompetentBodyDocument,
        Self::FinancialOmbudsmanCertificate,
        Self::PropertyArrestRuling,
        Self::NotarialMediationAgreement,
        Self::LabourInspectorDecision,
    ];

    /// The `typeid=` number.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// Reads a `typeid` value.
    ///
    /// # Errors
    /// 888 for non-digits, 107 TYPEID_NOT_CORRECTED for a number not in the table.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        check_chars(s, "typeid", Charset::Digits)?;
        let n: Option<u8> = s.parse().ok();
        Self::ALL
            .into_iter()
            .find(|t| Some(t.id()) == n)
            .ok_or(ValidationError::new(
                ErrorCode::TypeIdNotCorrected,
                "typeid",
                "is not in the provider's typeid table",
            ))
    }
}

/// Which characters a parameter may hold (the page's «Разрешено» column).
#[derive(Debug, Clone, Copy)]
enum Charset {
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

fn is_cyrillic(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

fn allowed(c: char, set: Charset) -> bool {
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

fn check_chars(value: &str, param: &'static str, set: Charset) -> Result<(), ValidationError> {
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
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn required<'a>(
    value: Option<&'a str>,
    param: &'static str,
    missing: ErrorCode,
) -> Result<&'a str, ValidationError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ValidationError::new(missing, param, "is required")),
    }
}

fn optional(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn name(value: &str, param: &'static str) -> Result<String, ValidationError> {
    check_chars(value, param, Charset::Name)?;
    Ok(value.to_owned())
}

fn birthdate(value: Option<&str>) -> Result<Date, ValidationError> {
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
    if date > Date::today_moscow() {
        return Err(ValidationError::new(
            ErrorCode::DateError,
            "birthdate",
            "is in the future",
        ));
    }
    Ok(date)
}

fn region(value: Option<&str>) -> Result<Region, ValidationError> {
    Region::parse(value.unwrap_or_default())
}

/// `onlyActual`: the page shows `onlyActual=1`; `0`, `true` and `false` are read too. Any other
/// value is refused (proverka's own rule): the provider would ignore it and bill the query
/// unfiltered, which is not what the caller asked for.
fn flag(value: Option<&str>) -> Result<bool, ValidationError> {
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

/// Named parameters as they come from a query string, first value of a name wins.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Params<'a> {
    pairs: &'a [(&'a str, &'a str)],
}

impl<'a> Params<'a> {
    pub(crate) fn new(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Self { pairs }
    }

    /// The first value under any of `names` (aliases: the page spells some two ways).
    fn get(&self, names: &[&str]) -> Option<&'a str> {
        names
            .iter()
            .find_map(|n| self.pairs.iter().find(|(k, _)| k == n).map(|(_, v)| *v))
    }
}

/// The person search shared by `physical` and `alim` (same parameters, other register).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Person {
    lastname: String,
    firstname: String,
    secondname: Option<String>,
    birthdate: Date,
    region: Region,
    only_actual: bool,
}

impl Person {
    fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let lastname = name(
            required(p.get(&["lastname"]), "lastname", ErrorCode::MissingLastname)?,
            "lastname",
        )?;
        let firstname = name(
            required(
                p.get(&["firstname"]),
                "firstname",
                ErrorCode::MissingFirstname,
            )?,
            "firstname",
        )?;
        let secondname = optional(p.get(&["secondname"]))
            .map(|v| name(v, "secondname"))
            .transpose()?;
        let birthdate = birthdate(p.get(&["birthdate"]))?;
        let region = region(p.get(&["region"]))?;
        if lastname.to_lowercase() == firstname.to_lowercase() {
            return Err(ValidationError::new(
                ErrorCode::ConflictLastnameFirstname,
                "lastname",
                "lastname and firstname must differ",
            ));
        }
        Ok(Self {
            lastname,
            firstname,
            secondname,
            birthdate,
            region,
            only_actual: flag(p.get(&["onlyActual"]))?,
        })
    }

    fn new(
        lastname: &str,
        firstname: &str,
        birthdate: &str,
        region: Region,
    ) -> Result<Self, ValidationError> {
        let region = region.as_param();
        Self::from_params(Params::new(&[
            ("lastname", lastname),
            ("firstname", firstname),
            ("birthdate", birthdate),
            ("region", &region),
        ]))
    }

    fn with_secondname(mut self, secondname: &str) -> Result<Self, ValidationError> {
        self.secondname = optional(Some(secondname))
            .map(|v| name(v, "secondname"))
            .transpose()?;
        Ok(self)
    }

    /// Фамилия.
    pub fn lastname(&self) -> &str {
        &self.lastname
    }
    /// Имя.
    pub fn firstname(&self) -> &str {
        &self.firstname
    }
    /// Отчество, when given.
    pub fn secondname(&self) -> Option<&str> {
        self.secondname.as_deref()
    }
    /// Дата рождения.
    pub fn birthdate(&self) -> Date {
        self.birthdate
    }
    /// Регион.
    pub fn region(&self) -> Region {
        self.region
    }
    /// Whether only open proceedings are asked for (`onlyActual=1`).
    pub fn only_actual(&self) -> bool {
        self.only_actual
    }
}

macro_rules! person_query {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(Person);

        impl $ty {
            /// A search by last name, first name, birth date (`dd.mm.yyyy`) and region.
            ///
            /// # Errors
            /// The provider's code: 101/100/104/103 for a missing value, 888 for a forbidden
            /// character, 15 for a date that does not exist or lies ahead, 107 when last and
            /// first name are equal.
            pub fn new(
                lastname: &str,
                firstname: &str,
                birthdate: &str,
                region: Region,
            ) -> Result<Self, ValidationError> {
                Person::new(lastname, firstname, birthdate, region).map(Self)
            }

            /// Adds the patronymic (отчество).
            ///
            /// # Errors
            /// 888 for a forbidden character.
            pub fn with_secondname(self, secondname: &str) -> Result<Self, ValidationError> {
                self.0.with_secondname(secondname).map(Self)
            }

            /// Asks only for open proceedings (`onlyActual=1`).
            #[must_use]
            pub fn only_actual(mut self, only_actual: bool) -> Self {
                self.0.only_actual = only_actual;
                self
            }

            /// The person searched for.
            pub fn person(&self) -> &Person {
                &self.0
            }
        }
    };
}

person_query!(
    /// `physical`: debts of an individual (физическое лицо).
    ///
    /// ```
    /// use proverka_fssp::{Physical, Region};
    /// let q = Physical::new("Иванов", "Иван", "31.03.1980", Region::Code(77))?
    ///     .with_secondname("Иванович")?;
    /// assert_eq!(q.person().birthdate().to_iso(), "1980-03-31");
    /// assert_eq!(Physical::new("Иванов", "Иванов", "31.03.1980", Region::All)
    ///     .unwrap_err().code.number(), Some(107));
    /// # Ok::<(), proverka_fssp::ValidationError>(())
    /// ```
    Physical
);
person_query!(
    /// `alim` (beta): the register of alimony debtors (реестр должников по алиментам).
    Alim
);

/// `legal`: debts of a legal entity (юридическое лицо) by name.
///
/// The page's table names the parameters `nameLegal` and `address`; its example URL sends
/// `name` and `adress`. This client sends the table's names (error 105 names `nameLegal`) and
/// [`FsspQuery::from_pairs`] accepts both spellings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Legal {
    name_legal: String,
    region: Region,
    address: Option<String>,
    only_actual: bool,
}

impl Legal {
    fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let name_legal = squeeze(required(
            p.get(&["nameLegal", "name"]),
            "nameLegal",
            ErrorCode::MissingNameLegal,
        )?);
        check_chars(&name_legal, "nameLegal", Charset::NameWithSpaces)?;
        let region = Region::parse_legal(p.get(&["region"]).unwrap_or_default())?;
        let address = optional(p.get(&["address", "adress"]))
            .map(|a| {
                let a = squeeze(a);
                check_chars(&a, "address", Charset::NameWithSpaces).map(|()| a)
            })
            .transpose()?;
        Ok(Self {
            name_legal,
            region,
            address,
            only_actual: flag(p.get(&["onlyActual"]))?,
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

/// `ip`: by enforcement proceeding number (номер исполнительного производства), written
/// `n…n/yy/dd/rr` or `n…n/yy/ddddd-ИП` (`32472/17/23072-ИП`).
///
/// The page's descriptions of `number` for `ip` and `id` look swapped; the `ip` example uses a
/// proceeding number, so that is what `ip` takes here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ip {
    number: String,
}

fn is_proceeding_number(s: &str) -> bool {
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
    fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let number = required(
            p.get(&["number"]),
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

/// `id`: by executive document number (номер исполнительного документа), as such numbers are
/// written: `ФС 039022227` (the page's own sample `document_num`), `2А-1234/2021`,
/// `№ 2-100/2024`.
///
/// The page's parameter rows for `ip` and `id` are swapped (see `docs/providers/fssp.md`): the
/// document-number row allows "кирилица, латиница, цифры, знак "-/"". Spaces, `№` and `.` are
/// accepted too, as real document numbers hold them (proverka's reading of the page); what no
/// document number can hold (`@`, `?`, `&`, quotes, control characters) is refused with 888.
///
/// The page warns that this type works correctly only with one region, so [`Region::All`] is
/// refused here: proverka's own rule (an answer the provider says is wrong would still be paid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id {
    number: String,
    region: Region,
    typeid: Option<DocumentType>,
}

impl Id {
    fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let number = squeeze(required(
            p.get(&["number"]),
            "number",
            ErrorCode::MissingDocumentNumber,
        )?);
        check_chars(&number, "number", Charset::DocumentNumber)?;
        if !number.chars().any(|c| c.is_ascii_digit()) {
            return Err(ValidationError::own(
                ErrorCode::MissingDocumentNumber,
                "number",
                "must contain digits (every executive document number does)",
            ));
        }
        let region = match region(p.get(&["region"]))? {
            Region::All => {
                return Err(ValidationError::own(
                    ErrorCode::MissingRegion,
                    "region",
                    "type id works correctly only with one region (the page: \"работает корректно только поиск с указанием конкретного региона\"), not -1",
                ));
            }
            one => one,
        };
        let typeid = optional(p.get(&["typeid"]))
            .map(DocumentType::parse)
            .transpose()?;
        Ok(Self {
            number,
            region,
            typeid,
        })
    }

    /// A search by document number in one region.
    ///
    /// # Errors
    /// 106 for a missing number, 103 for a missing region or `-1`, 888 for a forbidden
    /// character.
    pub fn new(number: &str, region: Region) -> Result<Self, ValidationError> {
        let region = region.as_param();
        Self::from_params(Params::new(&[("number", number), ("region", &region)]))
    }

    /// Narrows by document type.
    #[must_use]
    pub fn with_typeid(mut self, typeid: DocumentType) -> Self {
        self.typeid = Some(typeid);
        self
    }

    /// The document number.
    pub fn number(&self) -> &str {
        &self.number
    }
    /// The region (never [`Region::All`]).
    pub fn region(&self) -> Region {
        self.region
    }
    /// The document type, when given.
    pub fn typeid(&self) -> Option<DocumentType> {
        self.typeid
    }
}

/// `inn`: debts of an organisation by its INN. 10-digit (legal entity) and 12-digit
/// (individual entrepreneur) numbers are accepted; the check digits are verified locally.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByInn {
    inn: Inn,
    region: Region,
    only_actual: bool,
}

impl ByInn {
    fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let raw = required(p.get(&["inn"]), "inn", ErrorCode::MissingMandatoryParameter)?;
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
            region: region(p.get(&["region"]))?,
            only_actual: flag(p.get(&["onlyActual"]))?,
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

/// `wanted` (beta): the wanted register (розыск) by full name; every region unless one is
/// given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wanted {
    fio: String,
    region: Option<Region>,
}

impl Wanted {
    fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let raw = required(p.get(&["fio"]), "fio", ErrorCode::MissingMandatoryParameter)?;
        check_chars(raw, "fio", Charset::Fio)?;
        let region = optional(p.get(&["region"]))
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
        let p = Params::new(pairs);
        let kind = p
            .get(&["type"])
            .and_then(QueryType::parse)
            .ok_or(ValidationError::new(
                ErrorCode::MissingType,
                "type",
                "is missing or not one of the documented query types",
            ))?;
        Ok(match kind {
            QueryType::RegionsList => Self::RegionsList(RegionsList),
            QueryType::Physical => Self::Physical(Physical(Person::from_params(p)?)),
            QueryType::Alim => Self::Alim(Alim(Person::from_params(p)?)),
            QueryType::Legal => Self::Legal(Legal::from_params(p)?),
            QueryType::Ip => Self::Ip(Ip::from_params(p)?),
            QueryType::Id => Self::Id(Id::from_params(p)?),
            QueryType::Inn => Self::Inn(ByInn::from_params(p)?),
            QueryType::Wanted => Self::Wanted(Wanted::from_params(p)?),
        })
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
