//! Court errors: the error texts of the provider's table, and this crate's error type.

use proverka_core::{Charged, CodeMeaning, Failure, RefusedBy, Remedy};

/// A business error of the court API, sent with HTTP 200 as `data.status = 0` and the text in
/// `data.error` (Описание ошибок).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ProviderError {
    /// API access is blocked in the account: unblock it there.
    #[error("API access is blocked in the account ({text})", text = TEXTS.code_text(self))]
    AccessDenied,
    /// The daily limit is spent (renewed at 00:00 Moscow time on the starter tariff) or the
    /// package is used up.
    #[error("query limit is zero ({text})", text = TEXTS.code_text(self))]
    QueryLimitZero,
    /// Not enough funds on the balance.
    #[error("not enough funds on the balance")]
    NotEnoughFunds,
    /// The tariff has expired.
    #[error("the tariff has expired")]
    TariffExpired,
    /// An unknown tariff type (a technical error on the provider's side).
    #[error("unknown tariff type (provider technical error)")]
    UnknownTariffType,
    /// No tariff set for the user (a technical error on the provider's side).
    #[error("no tariff set for the user (provider technical error)")]
    TariffTypeEmpty,
    /// Parameters not as documented, or a wrong token.
    #[error("{text}", text = TEXTS.code_text(self))]
    Forbidden,
    /// No token.
    #[error("{text}", text = TEXTS.code_text(self))]
    Unauthorized,
    /// Coordinates written incorrectly.
    #[error("coordinates written incorrectly ({text})", text = TEXTS.code_text(self))]
    BadCoordinates,
    /// Neither coordinates nor an address given.
    #[error("neither coordinates nor address given ({text})", text = TEXTS.code_text(self))]
    NoCoordsOrAddress,
    /// "Data Base Error: […]": the provider's database failed.
    #[error("provider database error: {0}")]
    DatabaseError(String),
    /// A text the table does not list, kept as sent.
    #[error("court API error: {0}")]
    Other(String),
}

proverka_core::code_table! {
    /// The error texts of the page's table (`data.error`), matched without regard to case:
    /// each text's one place (an error's message quotes it from here).
    const TEXTS: CodeTable<ProviderError, &str> = [
        ("Access to the API is denied by the user", ProviderError::AccessDenied),
        ("Query limit is null (0)", ProviderError::QueryLimitZero),
        ("There are not enough funds on the balance", ProviderError::NotEnoughFunds),
        ("The validity period of the tariff has expired", ProviderError::TariffExpired),
        ("Unknown tariff type", ProviderError::UnknownTariffType),
        ("Tariff type is empty", ProviderError::TariffTypeEmpty),
        ("403 Forbidden", ProviderError::Forbidden),
        ("401 Unauthorized", ProviderError::Unauthorized),
        ("Non-correct recording of coordinates", ProviderError::BadCoordinates),
        ("Coords or address params not assigned", ProviderError::NoCoordsOrAddress),
    ];
}

impl ProviderError {
    /// Reads `data.error`.
    pub fn from_text(text: &str) -> Self {
        let t = text.trim();
        if let Some(detail) = t.strip_prefix("Data Base Error:") {
            return Self::DatabaseError(detail.trim().to_owned());
        }
        TEXTS
            .find(|known| known.eq_ignore_ascii_case(t))
            .map_or_else(|| Self::Other(t.to_owned()), |(_, e)| e.clone())
    }

    /// The provider's own text for this error (what `data.error` holds).
    pub fn provider_text(&self) -> String {
        match self {
            Self::DatabaseError(d) => format!("Data Base Error: {d}"),
            Self::Other(t) => t.clone(),
            known => TEXTS
                .code(known)
                .map_or_else(String::new, |t| (*t).to_owned()),
        }
    }
}

impl ProviderError {
    /// The page's own description (Расшифровка ошибки) and solution (Решение), as it writes
    /// them.
    pub fn meaning(&self) -> String {
        const SUPPORT: &str = "Сообщите в техническую поддержку по адресу service@podsudnost.ru";
        let (meaning, solution) = match self {
            Self::AccessDenied => (
                "Доступ к API заблокирован пользователем",
                "Вы можете самостоятельно разблокировать доступ к API в личном кабинете",
            ),
            Self::QueryLimitZero => (
                "Ваш лимит запросов равен нулю",
                "Для тарифа \"Начальный\" лимит будет доступен с 00:00 по МСК. Для тарифа \"Пакетный\" лимит будет доступен после пополнения баланса (продления тарифа) или приобретения другого тарифа в личном кабинете.",
            ),
            Self::NotEnoughFunds => (
                "На балансе недостаточно средств",
                "Пополните баланс в личном кабинете",
            ),
            Self::TariffExpired => (
                "Закончился срок действия тарифа",
                "Пополните баланс для продления тарифа или приобретите другой тариф в личном кабинете",
            ),
            Self::UnknownTariffType => ("Неизвестный тип тарифа (техническая ошибка)", SUPPORT),
            Self::TariffTypeEmpty => (
                "Тариф не установлен для пользователя (техническая ошибка)",
                SUPPORT,
            ),
            Self::Forbidden => (
                "Доступ запрещен",
                "Убедитесь, что все параметры запросу указаны в соотвествии с документацией. Укажите Токен предоставленный в личном кабинете",
            ),
            Self::Unauthorized => (
                "Неавторизованный пользователь",
                "Укажите Токен предоставленный в личном кабинете",
            ),
            Self::BadCoordinates => (
                "Неправильная запись координат",
                "Верно укажите координаты (через пробел), например 50.12345 60.12345",
            ),
            Self::NoCoordsOrAddress => (
                "Координаты или параметры адреса не назначены",
                "Верно укажите координаты (через пробел), например 50.12345 60.12345 Убедитесь, что все параметры запросу указаны в соотвествии с документацией",
            ),
            Self::DatabaseError(_) => ("Описание ошибки базы данных (техническая ошибка)", SUPPORT),
            Self::Other(text) => return text.clone(),
        };
        format!("{meaning}. Решение: {solution}")
    }

    /// What an operator does about it.
    pub fn remedy(&self) -> Remedy {
        match self {
            Self::AccessDenied => Remedy::CheckAccountSettings,
            Self::QueryLimitZero => Remedy::WaitForLimit,
            Self::NotEnoughFunds | Self::TariffExpired => Remedy::TopUp,
            Self::UnknownTariffType | Self::TariffTypeEmpty => Remedy::ContactProvider,
            Self::Forbidden | Self::Unauthorized => Remedy::CheckCredential,
            Self::BadCoordinates | Self::NoCoordsOrAddress => Remedy::FixQuery,
            Self::DatabaseError(_) => Remedy::RetryLater,
            Self::Other(_) => Remedy::Investigate,
        }
    }

    /// Every code the page's table lists, once each (what the simulator's `provider_error`
    /// takes).
    pub fn documented_codes() -> Vec<String> {
        TEXTS.codes()
    }

    /// What a code as [`Failure::code`] gives it (the provider's text) means; `None` for a
    /// text the page does not list.
    pub fn explain(code: &str) -> Option<CodeMeaning> {
        let error = Self::from_text(code);
        (!matches!(error, Self::Other(_)))
            .then(|| CodeMeaning::new(error.meaning(), error.remedy(), Failure::retryable(&error)))
    }
}

impl Failure for ProviderError {
    /// Errors spend no query from the limit.
    fn charged(&self) -> Charged {
        match self {
            Self::Other(_) => Charged::Unknown,
            _ => Charged::No,
        }
    }

    /// Only the provider's own database failure is worth retrying as is.
    fn retryable(&self) -> bool {
        matches!(self, Self::DatabaseError(_))
    }

    fn code(&self) -> String {
        self.provider_text()
    }
}

/// A query refused before any network call: by the page's rules (with the error the provider
/// would answer), or by one of proverka's own rules ([`RefusedBy::Proverka`]), which says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}{}", if self.refused_by == RefusedBy::Proverka { " (proverka's own rule, not the provider's)" } else { "" })]
pub struct ValidationError {
    /// The error the provider answers to this kind of query (for proverka's own rules: the
    /// closest).
    pub provider: ProviderError,
    /// What is wrong, in English.
    pub reason: &'static str,
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
}

impl ValidationError {
    pub(crate) fn new(provider: ProviderError, reason: &'static str) -> Self {
        Self {
            provider,
            reason,
            refused_by: RefusedBy::Provider,
        }
    }

    pub(crate) fn own(provider: ProviderError, reason: &'static str) -> Self {
        Self {
            refused_by: RefusedBy::Proverka,
            ..Self::new(provider, reason)
        }
    }
}

/// The provider answers with HTTP 200 and
/// `{"data":{"status":0,"error":"Non-correct recording of coordinates"}}`; proverka's own
/// rules' error text starts with `proverka:`.
impl proverka_core::ProviderRefusal for ValidationError {
    const HTTP_STATUS: u16 = 200;

    fn provider_body(&self) -> String {
        let error = match self.refused_by {
            RefusedBy::Provider => self.provider.provider_text(),
            RefusedBy::Proverka => format!("{}: {}", RefusedBy::MARKER, self.reason),
        };
        serde_json::json!({"data": {"status": 0, "error": error}}).to_string()
    }
}

/// The error of every [`CourtClient`](crate::CourtClient) call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

#[cfg(test)]
mod explain_tests {
    use super::*;

    #[test]
    fn every_text_of_the_page_is_explained_in_its_words() {
        for (text, error, m) in proverka_testkit::explained_rows(&TEXTS, ProviderError::explain) {
            assert_eq!(m.remedy, error.remedy(), "{text}");
            assert!(m.meaning.contains(". Решение: "), "{}", m.meaning);
        }
        let db = ProviderError::explain("Data Base Error: [timeout]").unwrap();
        assert!(db.meaning.starts_with("Описание ошибки базы данных"));
        assert_eq!(
            ProviderError::explain("Query limit is null (0)")
                .unwrap()
                .remedy,
            Remedy::WaitForLimit
        );
        assert_eq!(ProviderError::explain("something new"), None);
    }
}
