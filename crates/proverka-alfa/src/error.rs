//! [`ProviderError`]: the bank's error answers (an HTTP status with `error` and
//! `error_description`; each `error` code written once, in its table) and bodiless error
//! statuses.

use proverka_core::{Charged, CodeMeaning, Failure, RefusedBy, Remedy};

/// An error answer of the bank (`error`, `error_description`), or a bodiless error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ProviderError {
    /// Wrong input parameters (HTTP 400).
    #[error("400 {code}: {text}", code = CODES.code_text(self), text = .description.as_deref().unwrap_or("wrong request parameters"))]
    InvalidRequest {
        /// `error_description`.
        description: Option<String>,
    },
    /// The bearer is expired, revoked, malformed or invalid (HTTP 401).
    #[error("401 {code}: the bearer token is expired, revoked or invalid", code = CODES.code_text(self))]
    InvalidToken {
        /// `error_description`.
        description: Option<String>,
    },
    /// The token lacks `as-operation-with-selfemployed` (HTTP 403).
    #[error("403 {code}: the token lacks the scope", code = CODES.code_text(self))]
    InsufficientScope {
        /// `error_description`.
        description: Option<String>,
    },
    /// Access to the account is denied (HTTP 403).
    #[error("403 {code}", code = CODES.code_text(self))]
    AccessDenied {
        /// `error_description`.
        description: Option<String>,
    },
    /// The endpoint is not found or not active (HTTP 404).
    #[error("404 {code}", code = CODES.code_text(self))]
    UnknownEndpoint {
        /// `error_description`.
        description: Option<String>,
    },
    /// The bank's internal error (HTTP 500).
    #[error("500 {code}", code = CODES.code_text(self))]
    InternalError {
        /// `error_description`.
        description: Option<String>,
    },
    /// An error status with no body ("Нет тела ответа").
    #[error("HTTP {status} without a body")]
    Bodiless {
        /// The HTTP status.
        status: u16,
    },
    /// proverka's own check, not the bank's: the pages of a registry held fewer people than
    /// its `pagination.totalCount` (a page came back empty or short before the total was
    /// reached). [`AlfaClient::fetch_all`](crate::AlfaClient::fetch_all) returns this rather than a silently short list.
    #[error(
        "the registry's pages held {received} people of the {expected} its totalCount announced"
    )]
    Incomplete {
        /// `pagination.totalCount`.
        expected: i64,
        /// People received over all pages.
        received: usize,
    },
    /// A status or `error` value the page does not list.
    #[error("HTTP {status} {error}")]
    Other {
        /// The HTTP status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
}

impl Failure for ProviderError {
    /// The bank does not bill status queries.
    fn charged(&self) -> Charged {
        Charged::No
    }
    /// Server-side failures and rate limiting (429).
    fn retryable(&self) -> bool {
        match self {
            Self::InternalError { .. } | Self::Incomplete { .. } => true,
            Self::Bodiless { status } | Self::Other { status, .. } => {
                *status >= 500 || *status == 429
            }
            _ => false,
        }
    }
    fn code(&self) -> String {
        self.error_code()
    }
}

proverka_core::code_table! {
    /// The bank's `error` codes, as its page lists them.
    const CODES: CodeTable<ProviderError, &str> = [
        ("invalid_request", ProviderError::InvalidRequest { description: None }),
        ("invalid_token", ProviderError::InvalidToken { description: None }),
        ("insufficient_scope", ProviderError::InsufficientScope { description: None }),
        ("access_denied", ProviderError::AccessDenied { description: None }),
        ("unknown_endpoint", ProviderError::UnknownEndpoint { description: None }),
        ("internal_error", ProviderError::InternalError { description: None }),
    ];
}

impl ProviderError {
    /// The error an answer's `error` and `error_description` name (`status`: its HTTP
    /// status, kept for a code the page does not list).
    pub fn from_answer(status: u16, error: String, description: Option<String>) -> Self {
        let mut known = CODES.error(&error.as_str()).unwrap_or(Self::Other {
            status,
            error,
            description: None,
        });
        if let Self::InvalidRequest { description: d }
        | Self::InvalidToken { description: d }
        | Self::InsufficientScope { description: d }
        | Self::AccessDenied { description: d }
        | Self::UnknownEndpoint { description: d }
        | Self::InternalError { description: d }
        | Self::Other { description: d, .. } = &mut known
        {
            *d = description;
        }
        known
    }

    /// The `error` code, or the HTTP status for bodiless errors.
    pub fn error_code(&self) -> String {
        match self {
            Self::Bodiless { status } => status.to_string(),
            Self::Other { error, .. } => error.clone(),
            Self::Incomplete { .. } => "proverka_incomplete".into(),
            known => CODES
                .code(known)
                .map_or_else(String::new, |c| (*c).to_owned()),
        }
    }
}

impl ProviderError {
    /// The page's own description of the error (Russian), or proverka's for its own check.
    pub fn meaning(&self) -> String {
        let page = |text: &str| format!("{} - {text}", CODES.code_text(self));
        match self {
            Self::InvalidRequest { .. } => page("Неверные входные параметры запроса"),
            Self::InvalidToken { .. } => page("Предоставленный токен просрочен, отозван, имеет неправильный формат или недействителен по другим причинам"),
            Self::InsufficientScope { .. } => page("У пользователя нет прав на использование запрашиваемого сервиса, доступ к которому не предусмотрен настройками scope"),
            Self::AccessDenied { .. } => page("Доступ к счету запрещен"),
            Self::UnknownEndpoint { .. } => page("Эндпоинт не найден или неактивен"),
            Self::InternalError { .. } => page("Внутренняя ошибка сервиса при выполнении обработки запроса"),
            Self::Bodiless { status } => format!("HTTP {status}: Нет тела ответа"),
            Self::Incomplete { .. } => "proverka's own check: the registry's pages held fewer people than its totalCount announced".into(),
            Self::Other { status, error, .. } => format!("HTTP {status} {error}"),
        }
    }

    /// What an operator does about it.
    pub fn remedy(&self) -> Remedy {
        match self {
            Self::InvalidRequest { .. } => Remedy::FixQuery,
            Self::InvalidToken { .. } => Remedy::CheckCredential,
            Self::InsufficientScope { .. } | Self::AccessDenied { .. } => {
                Remedy::CheckAccountSettings
            }
            Self::UnknownEndpoint { .. } => Remedy::ContactProvider,
            Self::InternalError { .. } | Self::Incomplete { .. } => Remedy::RetryLater,
            other if Failure::retryable(other) => Remedy::RetryLater,
            Self::Bodiless { .. } | Self::Other { .. } => Remedy::Investigate,
        }
    }

    /// Every code the page's table lists, once each (what the simulator's `provider_error`
    /// takes).
    pub fn documented_codes() -> Vec<String> {
        CODES.codes()
    }

    /// What a code as [`Failure::code`] gives it (`"invalid_token"`, a bodiless `"503"`)
    /// means; `None` for one the page does not list.
    pub fn explain(code: &str) -> Option<CodeMeaning> {
        let error = match code.parse::<u16>() {
            Ok(status) => Self::Bodiless { status },
            Err(_) if code == "proverka_incomplete" => Self::Incomplete {
                expected: 0,
                received: 0,
            },
            Err(_) => CODES.error(&code)?,
        };
        Some(CodeMeaning::new(
            error.meaning(),
            error.remedy(),
            Failure::retryable(&error),
        ))
    }
}

/// The error of every [`AlfaClient`](crate::AlfaClient) call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

/// A request refused locally: one the bank would answer as [`ProviderError::InvalidRequest`]
/// ("неверные входные параметры"), or one refused by proverka's own rule ([`RefusedBy::Proverka`]), which
/// says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", self.code())]
pub struct ValidationError {
    /// What is wrong (the bank's `error_description` style).
    pub description: &'static str,
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
}

impl ValidationError {
    pub(crate) fn bank(description: &'static str) -> Self {
        Self {
            description,
            refused_by: RefusedBy::Provider,
        }
    }

    pub(crate) fn own(description: &'static str) -> Self {
        Self {
            description,
            refused_by: RefusedBy::Proverka,
        }
    }

    fn code(&self) -> String {
        match self.refused_by {
            RefusedBy::Provider => {
                CODES.code_text(&ProviderError::InvalidRequest { description: None })
            }
            RefusedBy::Proverka => RefusedBy::MARKER.to_owned(),
        }
    }
}

/// The bank answers such a request with HTTP 400, the code of
/// [`ProviderError::InvalidRequest`] and the description; proverka's own rules with
/// `{"error":"proverka",…}`.
impl proverka_core::ProviderRefusal for ValidationError {
    const HTTP_STATUS: u16 = 400;

    fn provider_body(&self) -> String {
        serde_json::json!({"error": self.code(), "error_description": self.description}).to_string()
    }
}

#[cfg(test)]
mod explain_tests {
    use super::*;

    #[test]
    fn every_code_of_the_page_is_explained_in_its_words() {
        for (code, error, m) in proverka_testkit::explained_rows(&CODES, ProviderError::explain) {
            assert!(m.meaning.starts_with(code), "{}", m.meaning);
            assert_eq!(m.remedy, error.remedy());
        }
        let bodiless =
            ProviderError::explain(&Failure::code(&ProviderError::Bodiless { status: 503 }));
        assert_eq!(bodiless.map(|m| m.remedy), Some(Remedy::RetryLater));
        assert_eq!(
            ProviderError::explain("404").unwrap().remedy,
            Remedy::Investigate
        );
        assert_eq!(
            ProviderError::explain("invalid_token").unwrap().remedy,
            Remedy::CheckCredential
        );
        assert_eq!(ProviderError::explain("made_up"), None);
    }
}
