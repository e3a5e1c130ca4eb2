//! FSSP error codes (код ошибки) from the provider's table, and the errors of this crate.

use std::fmt;

use proverka_core::{Charged, CodeMeaning, Failure, RefusedBy, Remedy};

/// Every error code in the api-cloud.ru FSSP error table, plus [`ErrorCode::Unknown`]: each
/// code's number, name and meaning are written once, in its row of the table below.
///
/// The provider sends these with HTTP 200 in several shapes (`{"error":"503","message":…}`,
/// `{"status":404,"error":"TIME_MAX_CONNECT","errormsg":…}`); [`ErrorCode::from_wire`] reads
/// both. Code 107 has two meanings, told apart by the message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Forbidden symbols in a parameter (`ИМЯ: forbidden symbols present`).
    ForbiddenSymbols,
    /// Mandatory parameters absent.
    MissingMandatoryParameter,
    /// The token may not use this query type.
    TokenNoAccess,
    /// Blocked by quality control / automation.
    TokenLocked,
    /// Unknown token.
    TokenNotRegistered,
    /// No `token`.
    MissingToken,
    /// No `type`.
    MissingType,
    /// The token is not 32 characters.
    WrongTokenKey,
    /// Balance too low; top it up.
    TokenNoMoney,
    /// Required parameters absent.
    NoRequiredParameters,
    /// Too many simultaneous connections (потоки); retry later.
    MaxLimit,
    /// The source did not answer after the maximum number of
    /// connection attempts; retry later.
    TimeMaxConnect,
    /// The caller's IP is not the one set in the
    /// account.
    IpNotRegistered,
    /// Parameters that exclude each other.
    ParameterConflict,
    /// `typeid` is not in the documented list.
    TypeIdNotCorrected,
    /// Lastname and firstname must differ.
    ConflictLastnameFirstname,
    /// No document `number`, or a wrong one (query type `id`, see `docs/providers/fssp.md`).
    MissingDocumentNumber,
    /// No `nameLegal`, or a wrong one.
    MissingNameLegal,
    /// No `birthdate`.
    MissingBirthdate,
    /// No `region`, or a wrong one.
    MissingRegion,
    /// No proceeding `number`, or a wrong one (query type `ip`).
    MissingProceedingNumber,
    /// No `lastname`, or a wrong one.
    MissingLastname,
    /// No `firstname`, or a wrong one.
    MissingFirstname,
    /// A date value is wrong.
    DateError,
    /// The trial period is over.
    TestTimeOff,
    /// The token is blocked by the quality service: contact support.
    TokenBlockedByQualityService,
    /// Technical block set in the account's security settings.
    TokenTechBlock,
    /// The source does not answer; retry later.
    ApiSuspended,
    /// A code the table does not list: kept as sent.
    Unknown {
        /// The code as the provider sent it (a number or a name).
        code: String,
    },
}

/// One row of the page's table: the code's number and name, whether a retry helps, and the
/// provider's own explanation.
#[derive(Debug)]
struct Documented {
    number: u32,
    name: &'static str,
    retryable: bool,
    meaning: &'static str,
}

/// A row's code as the page numbers it (`107`: two rows share it).
impl std::fmt::Display for Documented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number)
    }
}

impl Documented {
    const fn row(number: u32, name: &'static str, retryable: bool, meaning: &'static str) -> Self {
        Self {
            number,
            name,
            retryable,
            meaning,
        }
    }
}

proverka_core::code_table! {
    /// The page's table of error codes, in its order (107 stands twice: two meanings).
    const TABLE: CodeTable<ErrorCode, Documented> = [
        (Documented::row(888, "forbidden symbols present", false, "В переменной присутствуют запрещенные символы"), ErrorCode::ForbiddenSymbols),
        (Documented::row(766, "MISSING_MANDATORY_PARAMETER", false, "Отсутствуют обязательные параметры"), ErrorCode::MissingMandatoryParameter),
        (Documented::row(602, "TOKEN_NO_ACCESS", false, "Нет доступа к запрашиваему методу запроса"), ErrorCode::TokenNoAccess),
        (Documented::row(504, "TOKEN_LOCKED_IN_THE_SYSTEM", false, "Переданный токен заблокирован службой качества / автоматической системой"), ErrorCode::TokenLocked),
        (Documented::row(503, "TOKEN_NOT_REGISTERED_IN_THE_SYSTEM", false, "Переданный токен не зарегистрирован в системе"), ErrorCode::TokenNotRegistered),
        (Documented::row(502, "MISSING_REQUIRED_TOKEN_PARAMETER", false, "Отсутствует параметр token"), ErrorCode::MissingToken),
        (Documented::row(500, "MISSING_REQUIRED_TYPE_PARAMETER", false, "Отсутствует параметр type"), ErrorCode::MissingType),
        (Documented::row(499, "WRONG_TOKEN_KEY", false, "Вы указали значение параметра token в неверном формате, ключ должен содержать 32 символа."), ErrorCode::WrongTokenKey),
        (Documented::row(498, "TOKEN_NO_MONEY", false, "Для выполнения запроса недостаточно средств, пополните баланс."), ErrorCode::TokenNoMoney),
        (Documented::row(460, "NO_REQUIRED_PARAMETERS", false, "Отсутствуют обязательные параметры"), ErrorCode::NoRequiredParameters),
        (Documented::row(456, "MAX_LIMIT", true, "Превышено количество одновременных соединений (потоки)"), ErrorCode::MaxLimit),
        (Documented::row(404, "TIME_MAX_CONNECT", true, "Достигнуто максимальное количество коннектов, при которых ресурс не вернул результата. Повторите попытку позже."), ErrorCode::TimeMaxConnect),
        (Documented::row(123, "IP_NOT_REGISTERED_IN_THE_SYSTEM", false, "Сработала защита IP. Текущий IP не совпадает с заданным в ЛК"), ErrorCode::IpNotRegistered),
        (Documented::row(111, "PARAMETER_CONFLICT", false, "Вы указали параметры, которые конфликтуют между собой."), ErrorCode::ParameterConflict),
        (Documented::row(107, "TYPEID_NOT_CORRECTED", false, "Параметр typeid не корректен, смотрите доступный список в документации"), ErrorCode::TypeIdNotCorrected),
        (Documented::row(107, "CONFLICT_LASTNAME_FIRSTNAME", false, "Фамилия (lastname) и Имя (firstname) должны различаться"), ErrorCode::ConflictLastnameFirstname),
        (Documented::row(106, "MISSING_REQUIRED_number_PARAMETER", false, "Отсутствует параметр number или указан неверно"), ErrorCode::MissingDocumentNumber),
        (Documented::row(105, "MISSING_REQUIRED_nameLegal_PARAMETER", false, "Отсутствует параметр nameLegal или указан неверно"), ErrorCode::MissingNameLegal),
        (Documented::row(104, "MISSING_REQUIRED_birthdate_PARAMETER", false, "Отсутствует обязательный параметр birthdate"), ErrorCode::MissingBirthdate),
        (Documented::row(103, "MISSING_REQUIRED_region_PARAMETER", false, "Отсутствует параметр region или указан неверно"), ErrorCode::MissingRegion),
        (Documented::row(102, "MISSING_REQUIRED_number_PARAMETER", false, "Отсутствует параметр number или указан неверно"), ErrorCode::MissingProceedingNumber),
        (Documented::row(101, "MISSING_REQUIRED_lastname_PARAMETER", false, "Отсутствует параметр lastname или указан неверно"), ErrorCode::MissingLastname),
        (Documented::row(100, "MISSING_REQUIRED_firstname_PARAMETER", false, "Отсутствует параметр firstname или указан неверно"), ErrorCode::MissingFirstname),
        (Documented::row(15, "DATE_ERROR", false, "Ошибка значения переданной даты"), ErrorCode::DateError),
        (Documented::row(5, "TEST_TIME_OFF", false, "Закончился период тестирования"), ErrorCode::TestTimeOff),
        (Documented::row(3, "TOKEN_BLOCKED_BY_QUALITY_SERVICE", false, "Ваш токен заблокирован службой качества. Свяжитесь с технической поддержкой"), ErrorCode::TokenBlockedByQualityService),
        (Documented::row(2, "TOKEN_TEHBLOCK", false, "Установлена техническая блокировка токена."), ErrorCode::TokenTechBlock),
        (Documented::row(1, "API_SUSPENDED", true, "Работа этого API или метода временно приостановлена. Источник не отвечает. Повторите запрос позже."), ErrorCode::ApiSuspended),
    ];
}

impl ErrorCode {
    fn row(&self) -> Option<&'static Documented> {
        TABLE.code(self)
    }

    /// Every documented code, in the page's order.
    pub fn documented() -> impl Iterator<Item = ErrorCode> {
        TABLE.rows().iter().map(|(_, code)| code.clone())
    }

    /// Reads the code from an error body: `error` (a number, or a name such as
    /// `TIME_MAX_CONNECT`), with `status` as the number when `error` is a name, and the
    /// message to tell the two meanings of 107 apart.
    pub fn from_wire(error: &str, status: Option<i64>, message: Option<&str>) -> Self {
        let error = error.trim();
        let number: Option<u32> = error.parse().ok();
        let by_number = |n: u32| {
            let rows: Vec<&(Documented, ErrorCode)> =
                TABLE.rows().iter().filter(|(r, _)| r.number == n).collect();
            match rows.as_slice() {
                [] => None,
                [(_, one)] => Some(one.clone()),
                many => {
                    let m = message.unwrap_or_default();
                    many.iter()
                        .find(|(r, _)| m.contains(r.name))
                        .map(|(_, code)| code.clone())
                        .or_else(|| {
                            // Without a telling message, keep the number rather than guess.
                            Some(Self::Unknown {
                                code: n.to_string(),
                            })
                        })
                }
            }
        };
        if let Some(n) = number {
            return by_number(n).unwrap_or(Self::Unknown {
                code: error.to_owned(),
            });
        }
        let by_name: Vec<&(Documented, ErrorCode)> = TABLE
            .rows()
            .iter()
            .filter(|(r, _)| r.name == error)
            .collect();
        match by_name.as_slice() {
            [(_, one)] => one.clone(),
            _ => status
                .and_then(|s| u32::try_from(s).ok())
                .filter(|&s| s != 200)
                .and_then(by_number)
                .unwrap_or(Self::Unknown {
                    code: error.to_owned(),
                }),
        }
    }

    /// The numeric code (`None` for an unknown, non-numeric one).
    pub fn number(&self) -> Option<u32> {
        match self {
            Self::Unknown { code } => code.parse().ok(),
            known => known.row().map(|r| r.number),
        }
    }

    /// The provider's message constant (`MISSING_REQUIRED_lastname_PARAMETER`).
    pub fn name(&self) -> &str {
        match self {
            Self::Unknown { code } => code,
            known => known.row().map_or("", |r| r.name),
        }
    }

    /// The provider's own explanation, in Russian.
    pub fn meaning(&self) -> &'static str {
        self.row().map_or("Неизвестный код ошибки", |r| r.meaning)
    }

    /// Whether the provider billed a query that ended in this error. None of the documented
    /// errors is billed (the page says money is not taken when the source fails).
    pub fn charged(&self) -> Charged {
        match self {
            Self::Unknown { .. } => Charged::Unknown,
            _ => Charged::No,
        }
    }

    /// Whether the same query may succeed later: 456 MAX_LIMIT, 404 TIME_MAX_CONNECT and
    /// 1 API_SUSPENDED. Everything else needs a change of query, token or balance first.
    pub fn retryable(&self) -> bool {
        self.row().is_some_and(|r| r.retryable)
    }
}

impl ErrorCode {
    /// What an operator does about it: the token codes send them to the configured token or
    /// the account's settings, 498 and 5 to the balance and tariff, the parameter codes to the
    /// calling service, 456, 404 and 1 wait.
    pub fn remedy(&self) -> Remedy {
        match self {
            Self::MaxLimit | Self::TimeMaxConnect | Self::ApiSuspended => Remedy::RetryLater,
            Self::TokenNotRegistered | Self::MissingToken | Self::WrongTokenKey => {
                Remedy::CheckCredential
            }
            Self::TokenNoAccess | Self::IpNotRegistered | Self::TokenTechBlock => {
                Remedy::CheckAccountSettings
            }
            Self::TokenNoMoney | Self::TestTimeOff => Remedy::TopUp,
            Self::TokenLocked | Self::TokenBlockedByQualityService => Remedy::ContactProvider,
            Self::Unknown { .. } => Remedy::Investigate,
            Self::ForbiddenSymbols
            | Self::MissingMandatoryParameter
            | Self::MissingType
            | Self::NoRequiredParameters
            | Self::ParameterConflict
            | Self::TypeIdNotCorrected
            | Self::ConflictLastnameFirstname
            | Self::MissingDocumentNumber
            | Self::MissingNameLegal
            | Self::MissingBirthdate
            | Self::MissingRegion
            | Self::MissingProceedingNumber
            | Self::MissingLastname
            | Self::MissingFirstname
            | Self::DateError => Remedy::FixQuery,
        }
    }

    /// Every code the page's table lists, once each (what the simulator's `provider_error`
    /// takes).
    pub fn documented_codes() -> Vec<String> {
        TABLE.codes()
    }

    /// What a code as [`Failure::code`] gives it (`"5"`, `"TIME_MAX_CONNECT"`) means, from the
    /// page's table; 107, whose two meanings only the message tells apart, gets both. `None`
    /// for a code the table does not list.
    pub fn explain(code: &str) -> Option<CodeMeaning> {
        match Self::from_wire(code, None, None) {
            Self::Unknown { .. } => {
                let number: u32 = code.trim().parse().ok()?;
                let rows: Vec<&(Documented, ErrorCode)> = TABLE
                    .rows()
                    .iter()
                    .filter(|(r, _)| r.number == number)
                    .collect();
                let (first, code) = rows.first()?;
                let meaning: Vec<&str> = rows.iter().map(|(r, _)| r.meaning).collect();
                Some(CodeMeaning::new(
                    meaning.join(" / "),
                    code.remedy(),
                    first.retryable,
                ))
            }
            known => Some(CodeMeaning::new(
                known.meaning(),
                known.remedy(),
                known.retryable(),
            )),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.number()) {
            (Self::Unknown { code }, _) => write!(f, "{code} (not in the provider's table)"),
            (_, Some(n)) => write!(f, "{n} {}", self.name()),
            (_, None) => f.write_str(self.name()),
        }
    }
}

/// An error answer from the FSSP API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("FSSP error {code}: {}", self.explanation())]
pub struct ProviderError {
    /// The code.
    pub code: ErrorCode,
    /// The provider's message (`message` or `errormsg`), when it sent one.
    pub message: Option<String>,
}

impl ProviderError {
    /// The provider's message, or the table's meaning when the message only repeats the code.
    pub fn explanation(&self) -> &str {
        match self.message.as_deref() {
            Some(m) if m != self.code.name() && !m.trim().is_empty() => m,
            _ => self.code.meaning(),
        }
    }
}

impl Failure for ProviderError {
    fn charged(&self) -> Charged {
        self.code.charged()
    }
    fn retryable(&self) -> bool {
        self.code.retryable()
    }
    fn code(&self) -> String {
        self.code
            .number()
            .map_or_else(|| self.code.name().to_owned(), |n| n.to_string())
    }
}

/// A query refused before any network call (free): by the page's rules, with the code the
/// provider itself would answer, or by one of proverka's own rules ([`RefusedBy::Proverka`]),
/// which says so.
///
/// The proxy replies with [`provider_body`](proverka_core::ProviderRefusal::provider_body): exactly the provider's body for
/// the page's rules, a body marked `"error":"proverka"` for proverka's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {reason} ({})", self.origin())]
pub struct ValidationError {
    /// The provider's code for this kind of failure (for proverka's own rules: the closest).
    pub code: ErrorCode,
    /// The parameter at fault, as the provider names it.
    pub param: &'static str,
    /// What is wrong, in English.
    pub reason: &'static str,
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
}

impl ValidationError {
    /// A refusal the page documents.
    pub(crate) fn new(code: ErrorCode, param: &'static str, reason: &'static str) -> Self {
        Self {
            code,
            param,
            reason,
            refused_by: RefusedBy::Provider,
        }
    }

    /// A refusal by proverka's own rule.
    pub(crate) fn own(code: ErrorCode, param: &'static str, reason: &'static str) -> Self {
        Self {
            refused_by: RefusedBy::Proverka,
            ..Self::new(code, param, reason)
        }
    }

    fn origin(&self) -> String {
        match self.refused_by {
            RefusedBy::Provider => format!("provider code {}", self.code),
            RefusedBy::Proverka => "proverka's own rule, not the provider's".to_owned(),
        }
    }

    /// The message the provider would send: `lastname: forbidden symbols present` for 888,
    /// the code's constant otherwise; for proverka's own rules, what is wrong.
    pub fn provider_message(&self) -> String {
        match (self.refused_by, &self.code) {
            (RefusedBy::Proverka, _) => format!("{}: {}", self.param, self.reason),
            (_, ErrorCode::ForbiddenSymbols) => {
                format!("{}: forbidden symbols present", self.param)
            }
            _ => self.code.name().to_owned(),
        }
    }
}

/// The provider answers with HTTP 200 and
/// `{"error":"101","message":"MISSING_REQUIRED_lastname_PARAMETER"}`; proverka's own rules
/// with `{"error":"proverka","message":"onlyActual: must be …"}`.
impl proverka_core::ProviderRefusal for ValidationError {
    const HTTP_STATUS: u16 = 200;

    fn provider_body(&self) -> String {
        let code = match self.refused_by {
            RefusedBy::Proverka => RefusedBy::MARKER.to_owned(),
            RefusedBy::Provider => self
                .code
                .number()
                .map_or_else(|| self.code.name().to_owned(), |n| n.to_string()),
        };
        serde_json::json!({"error": code, "message": self.provider_message()}).to_string()
    }
}

/// The error of every [`FsspClient`](crate::FsspClient) call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

#[cfg(test)]
mod tests {
    use proverka_core::ProviderRefusal as _;

    use super::*;

    #[test]
    fn every_documented_code_is_explained_with_what_to_do() {
        for code in ErrorCode::documented() {
            let wire = Failure::code(&ProviderError {
                code: code.clone(),
                message: None,
            });
            let m = ErrorCode::explain(&wire).unwrap_or_else(|| panic!("{wire}"));
            assert_eq!(m.retryable, code.retryable(), "{wire}");
            assert_ne!(m.remedy, Remedy::Investigate, "{wire}");
        }
        // 5: the test period is over, which an operator must act on.
        let test_over = ErrorCode::explain("5").unwrap();
        assert_eq!(test_over.meaning, "Закончился период тестирования");
        assert_eq!(test_over.remedy, Remedy::TopUp);
        // 107 without its message: both meanings.
        assert!(ErrorCode::explain("107").unwrap().meaning.contains(" / "));
        assert_eq!(
            ErrorCode::explain("TIME_MAX_CONNECT").unwrap().remedy,
            Remedy::RetryLater
        );
        assert_eq!(ErrorCode::explain("777"), None);
    }

    #[test]
    fn wire_shapes() {
        assert_eq!(
            ErrorCode::from_wire("503", None, Some("TOKEN_NOT_REGISTERED_IN_THE_SYSTEM")),
            ErrorCode::TokenNotRegistered
        );
        assert_eq!(
            ErrorCode::from_wire("TIME_MAX_CONNECT", Some(404), None),
            ErrorCode::TimeMaxConnect
        );
        assert_eq!(
            ErrorCode::from_wire("107", None, Some("CONFLICT_LASTNAME_FIRSTNAME")),
            ErrorCode::ConflictLastnameFirstname
        );
        assert_eq!(
            ErrorCode::from_wire("107", None, Some("TYPEID_NOT_CORRECTED")),
            ErrorCode::TypeIdNotCorrected
        );
        assert_eq!(
            ErrorCode::from_wire("107", None, None),
            ErrorCode::Unknown { code: "107".into() }
        );
        assert_eq!(
            ErrorCode::from_wire("SOMETHING_NEW", Some(200), None),
            ErrorCode::Unknown {
                code: "SOMETHING_NEW".into()
            }
        );
        assert_eq!(ErrorCode::from_wire("777", None, None).number(), Some(777));
    }

    #[test]
    fn retry_and_charge_table() {
        for code in ErrorCode::documented() {
            let expect_retry = matches!(
                code,
                ErrorCode::MaxLimit | ErrorCode::TimeMaxConnect | ErrorCode::ApiSuspended
            );
            assert_eq!(code.retryable(), expect_retry, "{code}");
            assert_eq!(code.charged(), Charged::No, "{code}");
        }
        assert_eq!(ErrorCode::documented().count(), 28);
    }

    #[test]
    fn provider_bodies() {
        let e = ValidationError::new(ErrorCode::ForbiddenSymbols, "lastname", "bad");
        assert_eq!(
            e.provider_body(),
            r#"{"error":"888","message":"lastname: forbidden symbols present"}"#
        );
        let e = ValidationError::new(ErrorCode::MissingLastname, "lastname", "absent");
        assert_eq!(
            e.provider_body(),
            r#"{"error":"101","message":"MISSING_REQUIRED_lastname_PARAMETER"}"#
        );
    }
}
