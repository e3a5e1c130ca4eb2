//! [`ProviderError`]: the service's 422 codes. The service is free: nothing it answers is
//! billed.

use proverka_core::{Charged, CodeMeaning, Failure, RefusedBy, Remedy};

/// An error answer of the service (HTTP 422, `{"code": …, "message": …}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ProviderError {
    /// A bad INN or date.
    #[error("{code}: {text}", code = CODES.code_text(self), text = .0)]
    ValidationFailed(String),
    /// Too many requests from this IP address per unit of time. Try later.
    #[error("{code}: too many requests from this IP address; try later", code = CODES.code_text(self))]
    Limited,
    /// The service is down. Try later.
    #[error("{code}: the service is unavailable; try later", code = CODES.code_text(self))]
    Unavailable,
    /// A code the service's description does not list, kept as sent.
    #[error("FNS error {code:?}: {message:?}")]
    Other {
        /// `code`, if any.
        code: Option<String>,
        /// `message`, if any.
        message: Option<String>,
    },
}

proverka_core::code_table! {
    /// The service's 422 codes.
    const CODES: CodeTable<ProviderError, &str> = [
        (ProviderError::VALIDATION_FAILED, ProviderError::ValidationFailed(String::new())),
        (ProviderError::LIMITED, ProviderError::Limited),
        (ProviderError::UNAVAILABLE, ProviderError::Unavailable),
    ];
}

impl ProviderError {
    /// The code of [`Self::ValidationFailed`].
    pub const VALIDATION_FAILED: &'static str = "validation.failed";
    /// The code of [`Self::Limited`].
    pub const LIMITED: &'static str = "taxpayer.status.service.limited.error";
    /// The code of [`Self::Unavailable`].
    pub const UNAVAILABLE: &'static str = "taxpayer.status.service.unavailable.error";

    /// The error for `code` and `message` as the service sent them.
    pub fn from_code(code: Option<String>, message: Option<String>) -> Self {
        match code.as_deref().and_then(|c| CODES.error(&c)) {
            Some(Self::ValidationFailed(_)) => Self::ValidationFailed(message.unwrap_or_default()),
            Some(known) => known,
            None => Self::Other { code, message },
        }
    }

    /// Whether the service says "try later" (limited or unavailable): a caller with another
    /// source should use it now.
    pub fn try_later(&self) -> bool {
        matches!(self, Self::Limited | Self::Unavailable)
    }
}

impl ProviderError {
    /// Every code the page's table lists, once each (what the simulator's `provider_error`
    /// takes).
    pub fn documented_codes() -> Vec<String> {
        CODES.codes()
    }

    /// What a code as [`Failure::code`] gives it means, as the service describes it, and
    /// what to do; `None` for one it does not list.
    pub fn explain(code: &str) -> Option<CodeMeaning> {
        let error = CODES.error(&code)?;
        let (meaning, remedy) = match error {
            Self::ValidationFailed(_) => ("a bad INN or date", Remedy::FixQuery),
            Self::Limited => (
                "too many requests from this IP address per unit of time; try later",
                Remedy::RetryLater,
            ),
            Self::Unavailable => ("the service is unavailable; try later", Remedy::RetryLater),
            Self::Other { .. } => return None,
        };
        let retryable = matches!(remedy, Remedy::RetryLater);
        Some(CodeMeaning::new(
            format!("{}: {meaning}", CODES.code_text(&error)),
            remedy,
            retryable,
        ))
    }
}

impl Failure for ProviderError {
    /// The service is free.
    fn charged(&self) -> Charged {
        Charged::No
    }
    /// "Try later": limited and unavailable.
    fn retryable(&self) -> bool {
        self.try_later()
    }
    /// The code; an unlisted one is reported as `other` so metric labels stay bounded.
    fn code(&self) -> String {
        CODES.code(self).copied().unwrap_or("other").to_owned()
    }
}

/// The error of every [`FnsClient`](crate::FnsClient) call.
pub type Error = proverka_core::Error<ValidationError, ProviderError>;

/// A query refused locally: one the service refuses with `422 validation.failed` (an INN
/// that is not 12 digits, a date outside 2019-01-01…today), or one refused by proverka's own
/// rule ([`RefusedBy::Proverka`]: INN check digits that do not match), which says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// Whose rule refused it.
    pub refused_by: RefusedBy,
    /// The field at fault (`inn`, `requestDate`).
    pub field: &'static str,
    /// What is wrong, in English.
    pub reason: &'static str,
}

/// The service answers with HTTP 422 and `{"code":"validation.failed","message":…}`;
/// proverka's own rules with `{"code":"proverka","message":"proverka: …"}`.
impl proverka_core::ProviderRefusal for ValidationError {
    const HTTP_STATUS: u16 = 422;

    fn provider_body(&self) -> String {
        let code = match self.refused_by {
            RefusedBy::Provider => "validation.failed",
            RefusedBy::Proverka => RefusedBy::MARKER,
        };
        let message = match self.refused_by {
            RefusedBy::Provider => format!("{}: {}", self.field, self.reason),
            RefusedBy::Proverka => {
                format!("{}: {}: {}", RefusedBy::MARKER, self.field, self.reason)
            }
        };
        serde_json::json!({"code": code, "message": message}).to_string()
    }
}

impl ValidationError {
    pub(crate) fn service(field: &'static str, reason: &'static str) -> Self {
        Self {
            field,
            reason,
            refused_by: RefusedBy::Provider,
        }
    }
}

#[cfg(test)]
mod explain_tests {
    use super::*;

    #[test]
    fn every_code_of_the_service_is_explained() {
        for (code, _, m) in proverka_testkit::explained_rows(&CODES, ProviderError::explain) {
            assert!(m.meaning.starts_with(code));
        }
        assert_eq!(ProviderError::explain("other"), None);
    }
}
