//! [`Outcome`]: what became of one query, as the output file, the journal and the summary see it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// An answer.
    Ok,
    /// Refused before any call (the provider's own code, or proverka's): free.
    Invalid,
    /// A provider error that needs a change first (a token, money, another query).
    Error,
    /// A failure that may succeed later and cost nothing (provider down, NPD `success = 0`,
    /// a budget refusal): `--retry-failed` sends these again.
    RetryLater,
    /// The provider may have billed the call but no readable answer came back: never sent
    /// again by proverka; `--retry-unknown` does, on purpose.
    BilledUnknown,
    /// Not sent yet (the run was interrupted): the next run sends it.
    Pending,
}

impl Status {
    /// The column value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Invalid => "invalid",
            Self::Error => "error",
            Self::RetryLater => "retry_later",
            Self::BilledUnknown => "billed_unknown",
            Self::Pending => "pending",
        }
    }
}

/// What became of one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Outcome {
    /// How it ended.
    pub(crate) status: Status,
    /// The answer's key fields (see `CheckKind::result_columns`).
    #[serde(default)]
    pub(crate) fields: BTreeMap<String, String>,
    /// The provider's (or proverka's) error code.
    #[serde(default)]
    pub(crate) error_code: Option<String>,
    /// The error, readable.
    #[serde(default)]
    pub(crate) error_message: Option<String>,
    /// `free`, `charged` or `unknown`.
    pub(crate) billed: String,
    /// What the call cost, when known (rubles, `0.80`).
    #[serde(default)]
    pub(crate) price_rub: Option<String>,
    /// `cache`, `provider` or `local` (refused before any call).
    pub(crate) source: String,
    /// The typed model as JSON (one-off `--json`); not kept in the journal.
    #[serde(skip)]
    pub(crate) result: Option<serde_json::Value>,
}

impl Outcome {
    /// A row refused locally.
    pub(crate) fn invalid(code: String, message: String) -> Self {
        Self {
            status: Status::Invalid,
            fields: BTreeMap::new(),
            error_code: Some(code),
            error_message: Some(message),
            billed: "free".to_owned(),
            price_rub: Some("0.00".to_owned()),
            source: "local".to_owned(),
            result: None,
        }
    }

    /// A row not sent yet.
    pub(crate) fn pending() -> Self {
        Self {
            status: Status::Pending,
            fields: BTreeMap::new(),
            error_code: None,
            error_message: None,
            billed: "free".to_owned(),
            price_rub: None,
            source: String::new(),
            result: None,
        }
    }

    /// A failure with a status, code and message.
    pub(crate) fn failed(
        status: Status,
        code: impl Into<String>,
        message: impl Into<String>,
        billed: &str,
        source: &str,
    ) -> Self {
        Self {
            status,
            fields: BTreeMap::new(),
            error_code: Some(code.into()),
            error_message: Some(message.into()),
            billed: billed.to_owned(),
            price_rub: None,
            source: source.to_owned(),
            result: None,
        }
    }

    /// The status from what a failure says of itself.
    pub(crate) fn failure_status(billed: &str, retryable: bool) -> Status {
        match billed {
            "unknown" => Status::BilledUnknown,
            "free" if retryable => Status::RetryLater,
            _ => Status::Error,
        }
    }
}
