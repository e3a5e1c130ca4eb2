//! What an error code means and what an operator does about it: [`CodeMeaning`], given by
//! each adapter for its provider's codes ([`Adapter::explain`](crate::Adapter::explain)) and
//! shown on the proxy's status page next to the bare code.

use std::borrow::Cow;

/// What an operator does about an error a provider answered: one of a few kinds, so a page or
/// an alert can sort them (act now, fix a caller, wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Remedy {
    /// Temporary on the provider's side: proverka re-sends it where the provider says the
    /// failure is free; nothing to do unless it lasts.
    RetryLater,
    /// The calling service sent a query the provider refuses: fix the caller (nothing billed).
    FixQuery,
    /// The provider refuses the credential proverka sends for it: check the configured token
    /// or key.
    CheckCredential,
    /// A setting of the provider account refuses the call (allowed IP addresses, API access,
    /// methods the token may use): change it in the provider's personal account (личный
    /// кабинет).
    CheckAccountSettings,
    /// The account's money, tariff or test period is used up: top up the balance or choose a
    /// tariff in the personal account.
    TopUp,
    /// The paid limit of queries for the day or the month is spent: wait for it to renew, or
    /// buy more.
    WaitForLimit,
    /// The provider failed on its side or blocked the account: contact its support.
    ContactProvider,
    /// Not in the provider's table, or an answer proverka could not read: read the ledger
    /// record and the provider's message, and ask the provider if it repeats.
    Investigate,
}

impl Remedy {
    /// The advice, in one English sentence, as the status page shows it.
    pub const fn advice(self) -> &'static str {
        match self {
            Self::RetryLater => {
                "Temporary on the provider's side: proverka re-sends where the provider says it is free; act only if it lasts."
            }
            Self::FixQuery => {
                "The calling service sent a query the provider refuses: fix its parameters there (nothing was billed)."
            }
            Self::CheckCredential => {
                "The provider refuses proverka's credential: check the token or key configured for this provider."
            }
            Self::CheckAccountSettings => {
                "A setting of the provider account refuses the call (allowed IP, API access, methods): change it in the personal account (личный кабинет)."
            }
            Self::TopUp => {
                "The account's money, tariff or test period is used up: top up the balance or choose a tariff in the personal account."
            }
            Self::WaitForLimit => {
                "The paid limit of queries is spent: wait for it to renew, or buy more in the personal account."
            }
            Self::ContactProvider => {
                "A failure or a block on the provider's side: contact the provider's support."
            }
            Self::Investigate => {
                "Not in the provider's table: read the ledger record and the provider's message; ask the provider if it repeats."
            }
        }
    }
}

/// One error code explained: the provider's own words for it (in Russian where its page has
/// them: расшифровка ошибки) and what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeMeaning {
    /// The provider's explanation of the code, from its page.
    pub meaning: Cow<'static, str>,
    /// What an operator does about it.
    pub remedy: Remedy,
    /// Whether sending the same query again may succeed.
    pub retryable: bool,
}

impl CodeMeaning {
    /// The code proverka itself records for an HTTP 200 whose body it could not read
    /// (`unreadable`: billed unknown, never re-sent, never cached).
    pub const UNREADABLE: &'static str = "unreadable";

    /// A meaning from the provider's page.
    pub fn new(meaning: impl Into<Cow<'static, str>>, remedy: Remedy, retryable: bool) -> Self {
        Self {
            meaning: meaning.into(),
            remedy,
            retryable,
        }
    }

    /// What [`CodeMeaning::UNREADABLE`] means (proverka's own code, not a provider's).
    pub fn unreadable() -> Self {
        Self::new(
            "The provider answered, but not in the shape its page documents (proverka's own code): \
             billed unknown, never re-sent, never cached.",
            Remedy::Investigate,
            false,
        )
    }

    /// A code the provider's table does not list.
    pub fn not_in_table() -> Self {
        Self::new(
            "Not in the provider's table of codes.",
            Remedy::Investigate,
            false,
        )
    }
}
