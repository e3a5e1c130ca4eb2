//! [`ProviderError`]: the page's error codes (with HTTP 403 and 400) and `success = 0`.

use proverka_core::{Charged, CodeMeaning, Failure, RefusedBy, Remedy};

/// An error answer of the NPD API, or an answer that means "ask again".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ProviderError {
    /// The key is invalid or missing.
    #[error("{code} Invalid access key", code = CODES.code_text(self))]
    InvalidAccessKey,
    /// The subscription period has expired.
    #[error("{code} The subscription period has expired", code = CODES.code_text(self))]
    SubscriptionExpired,
    /// The caller's IP address is not allowed.
    #[error("{code} Invalid IP", code = CODES.code_text(self))]
    InvalidIp,
    /// The day's limit of requests is spent.
    #[error("{code} Day limit of requests exceeded", code = CODES.code_text(self))]
    DayLimitExceeded,
    /// The month's limit of requests is spent.
    #[error("{code} Month limit of requests exceeded", code = CODES.code_text(self))]
    MonthLimitExceeded,
    /// A validation error; the text says which field.
    #[error("{code} {text}", code = CODES.code_text(self), text = .0)]
    Validation(String),
    /// `success = 0`, or neither `success` nor `error`: the source did not answer. Not
    /// charged; ask again now or in a few minutes. Never means "not self-employed".
    #[error("the tax service did not answer (success = 0): ask again")]
    SourceUnavailable,
    /// A code or text the page does not list.
    #[error("NPD error {code:?}: {message:?}")]
    Other {
        /// `error_code`, if any.
        code: Option<i64>,
        /// `error`, if any.
        message: Option<String>,
    },
}

proverka_core::code_table! {
    /// The page's codes (403 and 400), each error's one place: its message shows it from here.
    const CODES: CodeTable<ProviderError, i64> = [
        (40301, ProviderError::InvalidAccessKey),
        (40302, ProviderError::SubscriptionExpired),
        (40303, ProviderError::InvalidIp),
        (40304, ProviderError::DayLimitExceeded),
        (40305, ProviderError::MonthLimitExceeded),
        (40000, ProviderError::Validation(String::new())),
    ];
}

impl ProviderError {
    /// The error an answer's `error_code` and `error` (its message) name.
    pub fn from_code(code: Option<i64>, message: Option<String>) -> Self {
        match code.and_then(|c| CODES.error(&c)) {
            Some(Self::Validation(_)) => Self::Validation(message.unwrap_or_default()),
            Some(known) => known,
            None => Self::Other { code, message },
        }
    }

    /// The provider's numeric code, where there is one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Other { code, .. } => *code,
            known => CODES.code(known).copied(),
        }
    }
}

impl ProviderError {
    /// The code [`Failure::code`] gives an answer with `success = 0` (or no code at all).
    pub const SUCCESS_ZERO: &'static str = "success=0";

    /// The page's own description of the error (in Russian, with the `error` text it quotes).
    pub fn meaning(&self) -> String {
        match self {
            Self::InvalidAccessKey => "Invalid access key: указанный ключ доступа недействителен или отсутствует.".into(),
            Self::SubscriptionExpired => "The subscription period has expired: доступ к сервису истек, требуется продление.".into(),
            Self::InvalidIp => "Invalid IP: запрос выполнен с IP-адреса, который не разрешён для доступа.".into(),
            Self::DayLimitExceeded => "Day limit of requests exceeded: достигнут оплаченный лимит запросов на день.".into(),
            Self::MonthLimitExceeded => "Month limit of requests exceeded: достигнут оплаченный лимит запросов на месяц.".into(),
            Self::Validation(_) => "Ошибка валидации запроса: неверное или отсутствующее значение какого-либо поля (подробности в поле error).".into(),
            Self::SourceUnavailable => "success = 0: не удалось получить информацию от источника. Запрос не будет учтен в статистике. Необходимо повторить запрос.".into(),
            Self::Other { code, message } => format!("{code:?}: {message:?}"),
        }
    }

    /// What an operator does about it.
    pub fn remedy(&self) -> Remedy {
        match self {
            Self::InvalidAccessKey => Remedy::CheckCredential,
            Self::SubscriptionExpired => Remedy::TopUp,
            Self::InvalidIp => Remedy::CheckAccountSettings,
            Self::DayLimitExceeded | Self::MonthLimitExceeded => Remedy::WaitForLimit,
            Self::Validation(_) => Remedy::FixQuery,
            Self::SourceUnavailable => Remedy::RetryLater,
            Self::Other { .. } => Remedy::Investigate,
        }
    }

    /// Every code the page's table lists, once each (what the simulator's `provider_error`
    /// takes).
    pub fn documented_codes() -> Vec<String> {
        CODES.codes()
    }

    /// What a code as [`Failure::code`] gives it (`"40302"`, `"success=0"`) means; `None` for
    /// one the page does not list.
    pub fn explain(code: &str) -> Option<CodeMeaning> {
        let error = if code == Self::SUCCESS_ZERO {
            Self::SourceUnavailable
        } else {
            Self::from_code(Some(code.trim().parse().ok()?), None)
        };
        (!matches!(error, Self::Other { .. }))
            .then(|| CodeMeaning::new(error.meaning(), error.remedy(), Failure::retryable(&error)))
    }
}

impl Failure for ProviderError {
    /// Only `success = 1` answers are charged.
    fn charged(&self) -> Charged {
        Charged::No
    }
    /// Only a source that did not answer is worth asking again as is.
    fn retryable(&self) -> bool {
        matches!(self, Self::SourceUnavailable)
    }
    fn code(&self) -> String {
        ProviderError::code(self).map_or_else(|| Self::SUCCESS_ZERO.to_owned(), |c| c.to_string())
    }
}

/// The error of every [`NpdClient`](crate::NpdClient) call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

/// A query refused locally: one the provider refuses with its 400 (`error_code = 40000`:
/// "Field inn is required", "Field date is invalid"), or one refused by proverka's own rule
/// ([`RefusedBy::Proverka`]: an INN that is no individual's INN, a date after today), which
/// says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}: {reason}")]
pub struct ValidationError {
    /// The provider's `error` text for this kind of failure.
    pub message: &'static str,
    /// What is wrong, in English.
    pub reason: &'static str,
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
}

/// The provider answers with HTTP 400 and
/// `{"error":"Field inn is required","error_code":40000}`; proverka's own rules with
/// `{"error":"proverka: …","error_code":"proverka"}`.
impl proverka_core::ProviderRefusal for ValidationError {
    const HTTP_STATUS: u16 = 400;

    fn provider_body(&self) -> String {
        match self.refused_by {
            RefusedBy::Provider => {
                serde_json::json!({"error": self.message, "error_code": CODES.code(&ProviderError::Validation(String::new()))}).to_string()
            }
            RefusedBy::Proverka => serde_json::json!({
                "error": format!("{}: {}", RefusedBy::MARKER, self.reason),
                "error_code": RefusedBy::MARKER,
            })
            .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_page_is_explained_with_what_to_do() {
        for (code, error, m) in proverka_testkit::explained_rows(&CODES, ProviderError::explain) {
            assert_eq!(Failure::code(error), code.to_string());
            assert_eq!(m.remedy, error.remedy(), "{code}");
        }
        let zero = ProviderError::explain(&Failure::code(&ProviderError::SourceUnavailable));
        assert_eq!(
            zero.map(|m| (m.remedy, m.retryable)),
            Some((Remedy::RetryLater, true))
        );
        assert_eq!(
            ProviderError::explain("40302").unwrap().remedy,
            Remedy::TopUp
        );
        assert_eq!(ProviderError::explain("40399"), None);
        assert_eq!(ProviderError::explain("nonsense"), None);
    }
}
