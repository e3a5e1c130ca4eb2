//! [`RawAnswer`] (what the provider sent) and [`Verdict`] (what it means for the cache).

use std::time::Duration;

use bytes::Bytes;

use crate::{Charged, Error, Failure, Money};

/// A provider's answer exactly as it came: what the cache stores and the drop-in proxy route
/// returns byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, unchanged.
    pub body: Bytes,
}

impl RawAnswer {
    /// An answer with status 200 and a JSON content type (tests, simulators).
    pub fn json(body: impl Into<Bytes>) -> Self {
        Self {
            status: 200,
            content_type: Some("application/json; charset=utf-8".to_owned()),
            body: body.into(),
        }
    }
}

/// Whether and how much the provider charged for one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "price", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Charge {
    /// Not charged (a free query, or an answer the provider does not bill).
    Free,
    /// Charged; the price when the provider reports it (FSSP's `inquiry.price`).
    Charged(Option<Money>),
}

impl Charge {
    /// Whether the provider billed this answer.
    pub fn is_charged(self) -> bool {
        matches!(self, Self::Charged(_))
    }
}

/// What an answer means, decided by the adapter that understands the body. The cache stores
/// only [`Verdict::Answer`]; the other two are shared with the callers waiting for them and
/// then forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// A real answer (found, or a paid "not found"): store it for `keep_for`.
    Answer {
        /// What the provider charged.
        charge: Charge,
        /// How long the answer stays true enough to serve again.
        keep_for: Duration,
    },
    /// A provider error: pass it on, never store it.
    ProviderError {
        /// The provider's code, as text (`"456"`, `"40301"`, `"invalid_token"`).
        code: String,
        /// Whether the provider billed it.
        charged: bool,
        /// Whether the same query may succeed if sent again later.
        retryable: bool,
    },
    /// Not the provider's JSON at all (an HTML page, an empty or truncated body, a 5xx):
    /// never stored.
    Garbage {
        /// Whether sending again may help.
        retryable: bool,
    },
}

impl Verdict {
    /// The verdict on a parse of an answer: a parsed answer is stored as `answer` decides, a
    /// provider error is passed on with its code, anything else is garbage worth a retry.
    pub fn of<T, V, P: Failure>(
        parsed: Result<T, Error<V, P>>,
        answer: impl FnOnce(&T) -> (Charge, Duration),
    ) -> Self {
        match parsed {
            Ok(t) => {
                let (charge, keep_for) = answer(&t);
                Self::Answer { charge, keep_for }
            }
            Err(Error::Provider(p)) => Self::ProviderError {
                code: p.code(),
                charged: p.charged() == Charged::Yes,
                retryable: p.retryable(),
            },
            Err(_) => Self::Garbage { retryable: true },
        }
    }

    /// How long to keep the answer, `None` for anything that must not be stored.
    pub fn keep_for(&self) -> Option<Duration> {
        match self {
            Self::Answer { keep_for, .. } if !keep_for.is_zero() => Some(*keep_for),
            _ => None,
        }
    }

    /// Whether a retry of the same query may help.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Answer { .. } => false,
            Self::ProviderError { retryable, .. } | Self::Garbage { retryable } => *retryable,
        }
    }

    /// What the provider charged for this answer.
    pub fn charge(&self) -> Charge {
        match self {
            Self::Answer { charge, .. } => *charge,
            Self::ProviderError { charged: true, .. } => Charge::Charged(None),
            _ => Charge::Free,
        }
    }
}
