//! [`Outcome`]: what became of one query, as a front end shows it (a batch row, a one-off
//! check, a watch list's history) and as a batch row is kept in the store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
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
    pub fn as_str(self) -> &'static str {
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
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The answer's key fields (see `CheckKind::result_columns`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The provider's (or proverka's) error code.
    #[serde(default)]
    pub error_code: Option<String>,
    /// The error, readable.
    #[serde(default)]
    pub error_message: Option<String>,
    /// `free`, `charged` or `unknown`.
    pub billed: String,
    /// What the call cost, when known (rubles, `0.80`).
    #[serde(default)]
    pub price_rub: Option<String>,
    /// `cache`, `provider` or `local` (refused before any call).
    pub source: String,
    /// The typed model as JSON (one-off `--json`); never kept in the store (it holds
    /// personal data).
    #[serde(skip)]
    pub result: Option<serde_json::Value>,
    /// The provider's answer as it came (status, content type, bytes), when one did: what a
    /// watch list keeps and compares (sealed); never kept in a batch row.
    #[serde(skip)]
    pub raw: Option<proverka_core::RawAnswer>,
}

impl Outcome {
    /// A row refused locally.
    pub fn invalid(code: String, message: String) -> Self {
        Self {
            status: Status::Invalid,
            fields: BTreeMap::new(),
            error_code: Some(code),
            error_message: Some(message),
            billed: "free".to_owned(),
            price_rub: Some("0.00".to_owned()),
            source: "local".to_owned(),
            result: None,
            raw: None,
        }
    }

    /// A row not sent yet.
    pub fn pending() -> Self {
        Self {
            status: Status::Pending,
            fields: BTreeMap::new(),
            error_code: None,
            error_message: None,
            billed: "free".to_owned(),
            price_rub: None,
            source: String::new(),
            result: None,
            raw: None,
        }
    }

    /// A failure with a status, code and message.
    pub fn failed(
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
            raw: None,
        }
    }

    /// The status from what a failure says of itself.
    pub fn failure_status(billed: &str, retryable: bool) -> Status {
        match billed {
            "unknown" => Status::BilledUnknown,
            "free" if retryable => Status::RetryLater,
            _ => Status::Error,
        }
    }
}

impl Outcome {
    /// The outcome as a batch row keeps it in the store (JSON; never the answer itself).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A row's outcome read back from the store.
    ///
    /// # Errors
    /// Not an outcome (written by something else).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// What an answer (or a provider error in one) comes to, rendered with the query's model:
/// `source` is `cache`, `provider` or a free source's name, `price` what the call counted.
pub(crate) fn of_answer(
    lookup: &dyn proverka_core::Lookup,
    raw: &proverka_core::RawAnswer,
    verdict: &proverka_core::Verdict,
    source: &str,
    price: proverka_core::Money,
    summarize: Option<&crate::request::SummarizeFn>,
) -> Outcome {
    let billed = verdict.billed();
    let rendered = lookup.render(raw);
    let mut outcome = match (verdict, rendered) {
        (proverka_core::Verdict::Answer { .. }, Ok(result)) => Outcome {
            status: Status::Ok,
            fields: summarize.map(|s| s(&result)).unwrap_or_default(),
            error_code: None,
            error_message: None,
            billed: billed.as_str().to_owned(),
            price_rub: None,
            source: source.to_owned(),
            result: Some(result),
            raw: None,
        },
        (v, rendered) => Outcome::failed(
            Outcome::failure_status(billed.as_str(), v.retryable()),
            v.code(),
            rendered.err().map(|e| e.message).unwrap_or_default(),
            billed.as_str(),
            source,
        ),
    };
    // A cached answer cost nothing now; it is shown with what it cost when it was paid.
    outcome.price_rub = Some(price.to_string());
    outcome.raw = Some(raw.clone());
    outcome
}

/// What a query that got no answer comes to.
pub(crate) fn of_error(e: &crate::CallError) -> Outcome {
    use crate::CallError as E;
    match e {
        E::Budget(b) => Outcome::failed(
            Status::RetryLater,
            "budget_exceeded",
            b.to_string(),
            "free",
            "proverka",
        ),
        E::StoreUnavailable(s) => Outcome::failed(
            Status::RetryLater,
            "store_unavailable",
            s.to_string(),
            "free",
            "proverka",
        ),
        E::Busy => Outcome::failed(
            Status::RetryLater,
            "busy",
            "too many provider calls in progress; nothing was sent",
            "free",
            "proverka",
        ),
        E::Degraded => Outcome::failed(
            Status::RetryLater,
            "cache_degraded",
            "the shared cache refuses writes; nothing was sent",
            "free",
            "proverka",
        ),
        E::NotCached => Outcome::failed(
            Status::Pending,
            "not_cached",
            "not cached; nothing was sent",
            "free",
            "cache",
        ),
        E::Upstream {
            billed, message, ..
        } => Outcome::failed(
            Outcome::failure_status(billed.as_str(), true),
            "transport",
            message.clone(),
            billed.as_str(),
            "provider",
        ),
        E::NotForwarded(n) => Outcome::failed(
            Status::Invalid,
            "not_forwarded",
            n.to_string(),
            "free",
            "proverka",
        ),
    }
}
