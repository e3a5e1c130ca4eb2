//! [`RawAnswer`] (what the provider sent), [`Billed`] (whether it cost money) and [`Verdict`]
//! (what it means for the cache, the retry decision and the spend ledger).

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;

use crate::{Charged, Error, Failure, Money, TransportError, TransportErrorKind};

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
    /// This answer, valid JSON, as none of the shapes `provider` documents
    /// ([`MalformedAnswer::unexpected_shape`](crate::MalformedAnswer::unexpected_shape)).
    pub fn unexpected_shape(&self, provider: crate::Provider) -> crate::MalformedAnswer {
        crate::MalformedAnswer::unexpected_shape(provider, self.status, &self.body)
    }

    /// An answer with status 200 and a JSON content type (tests, simulators).
    pub fn json(body: impl Into<Bytes>) -> Self {
        Self {
            status: 200,
            content_type: Some("application/json; charset=utf-8".to_owned()),
            body: body.into(),
        }
    }
}

/// Whether the provider billed one call: three values, because a call can end in a way that
/// does not tell (a readable answer says, a timeout after sending does not).
///
/// Serialised as `{"kind": "free"}`, `{"kind": "charged", "price": "1.40"}` (price `null` when
/// the provider does not report it) or `{"kind": "unknown"}`: the `/v1` API's `charge` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", content = "price", rename_all = "snake_case")]
pub enum Billed {
    /// Certainly not billed: a free query, or a failure the provider documents as free.
    #[serde(rename = "free")]
    No,
    /// Billed; the price when the provider reports it (FSSP's `inquiry.price`).
    #[serde(rename = "charged")]
    Yes(Option<Money>),
    /// May have been billed: an HTTP 200 that cannot be read, a timeout or a broken
    /// connection after the request was sent. Never re-sent automatically, never cached.
    Unknown,
}

impl Billed {
    /// Whether the provider certainly billed this call.
    pub fn is_yes(self) -> bool {
        matches!(self, Self::Yes(_))
    }

    /// Whether the call was certainly free: the only case where sending it again is free.
    pub fn is_no(self) -> bool {
        matches!(self, Self::No)
    }

    /// The `kind` as text: `free`, `charged` or `unknown` (headers, metrics, the ledger).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::No => "free",
            Self::Yes(_) => "charged",
            Self::Unknown => "unknown",
        }
    }
}

impl From<Charged> for Billed {
    fn from(c: Charged) -> Self {
        match c {
            Charged::No => Self::No,
            Charged::Yes => Self::Yes(None),
            Charged::Unknown => Self::Unknown,
        }
    }
}

/// What an answer reports about the account it was paid from: the provider's balance (FSSP's
/// `inquiry.balance`) and the queries left today (the court's `data.last`). Read during the one
/// judgement, so nobody parses the body again for them. Not stored with cached answers: the
/// figures are those of the moment of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Reported {
    /// The balance after the call, where the provider reports one.
    pub balance: Option<Money>,
    /// Queries left in the day's quota, where the provider reports it.
    pub quota_left: Option<i64>,
}

impl Reported {
    /// The figures an answer reported.
    pub fn new(balance: Option<Money>, quota_left: Option<i64>) -> Self {
        Self {
            balance,
            quota_left,
        }
    }
}

/// What one provider call means, decided once, by the adapter that understands the body,
/// inside the flight that owns the miss. The cache stores only [`Verdict::Answer`]; the other
/// two are shared with the callers waiting for them and then forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// A real answer (found, or a paid "not found"): store it for `keep_for`.
    Answer {
        /// What the provider billed.
        billed: Billed,
        /// How long the answer stays true enough to serve again.
        keep_for: Duration,
        /// Balance and quota as the answer reported them.
        reported: Reported,
    },
    /// One of the provider's documented errors: pass it on, never store it.
    ProviderError {
        /// The provider's code, as text (`"456"`, `"40301"`, `"invalid_token"`).
        code: String,
        /// Whether the provider billed it (its page says).
        billed: Billed,
        /// Whether the same query may succeed if sent again later.
        retryable: bool,
    },
    /// No answer that can be read: a body that is not the provider's JSON (an HTML page, an
    /// empty or truncated body, an unknown shape), a billed answer without its result, or no
    /// body at all (a timeout, a broken connection). Never stored.
    Unreadable {
        /// Whether the provider billed it: [`Billed::Unknown`] for anything after an HTTP 200
        /// or after the request was sent; [`Billed::No`] only where it certainly never reached
        /// the provider (a failed connect, a gateway's 502/503/504 page).
        billed: Billed,
        /// What was seen (`"invalid JSON"`, `"timeout"`, …): no body content, no personal data.
        what: Cow<'static, str>,
    },
}

impl Verdict {
    /// The verdict on a parse of an answer: a parsed answer is stored as `answer` decides, a
    /// provider error is passed on with its code and billing, anything else is unreadable,
    /// billed as [`MalformedAnswer::billed`](crate::MalformedAnswer::billed) says.
    pub fn of<T, V, P: Failure>(
        parsed: Result<T, Error<V, P>>,
        answer: impl FnOnce(&T) -> (Billed, Duration),
    ) -> Self {
        Self::reporting(parsed, |t| {
            let (billed, keep_for) = answer(t);
            (billed, keep_for, Reported::default())
        })
    }

    /// As [`Verdict::of`], for an answer that also reports a balance or a quota.
    pub fn reporting<T, V, P: Failure>(
        parsed: Result<T, Error<V, P>>,
        answer: impl FnOnce(&T) -> (Billed, Duration, Reported),
    ) -> Self {
        match parsed {
            Ok(t) => {
                let (billed, keep_for, reported) = answer(&t);
                Self::Answer {
                    billed,
                    keep_for,
                    reported,
                }
            }
            Err(Error::Provider(p)) => Self::ProviderError {
                code: p.code(),
                billed: p.charged().into(),
                retryable: p.retryable(),
            },
            Err(Error::Malformed(m)) => Self::Unreadable {
                billed: m.billed(),
                what: Cow::Borrowed(m.what),
            },
            Err(Error::Transport(t)) => Self::of_transport(&t),
            // Config and validation errors happen before any call: nothing was sent.
            Err(Error::Config(_) | Error::Invalid(_)) => Self::Unreadable {
                billed: Billed::No,
                what: Cow::Borrowed("not sent"),
            },
        }
    }

    /// The verdict on a call that brought no answer back.
    pub fn of_transport(e: &TransportError) -> Self {
        if e.kind() == TransportErrorKind::SourceFailed {
            // Nothing was sent to the provider; its stand-in failed and rests: not re-sent.
            return Self::ProviderError {
                code: "source_failed".into(),
                billed: Billed::No,
                retryable: false,
            };
        }
        Self::Unreadable {
            billed: e.charged().into(),
            what: Cow::Borrowed(match e.kind() {
                TransportErrorKind::Connect => "connect failed",
                TransportErrorKind::Timeout => "timeout",
                TransportErrorKind::Interrupted => "connection broken",
                TransportErrorKind::Redirect => "redirect refused",
                TransportErrorKind::TooLarge => "answer too large",
                TransportErrorKind::SourceFailed | TransportErrorKind::Other => "request failed",
            }),
        }
    }

    /// The verdict on a call to a query the provider never bills (Alfa-Bank's status, FSSP's
    /// `regionsList`): whatever came back, it cost nothing, so a failure may be re-sent.
    #[must_use]
    pub fn on_free_query(self) -> Self {
        match self {
            Self::Answer {
                keep_for, reported, ..
            } => Self::Answer {
                billed: Billed::No,
                keep_for,
                reported,
            },
            Self::ProviderError {
                code, retryable, ..
            } => Self::ProviderError {
                code,
                billed: Billed::No,
                retryable,
            },
            Self::Unreadable { what, .. } => Self::Unreadable {
                billed: Billed::No,
                what,
            },
        }
    }

    /// How long to keep the answer, `None` for anything that must not be stored.
    pub fn keep_for(&self) -> Option<Duration> {
        match self {
            Self::Answer { keep_for, .. } if !keep_for.is_zero() => Some(*keep_for),
            _ => None,
        }
    }

    /// Balance and quota as an answer reported them (nothing for errors).
    pub fn reported(&self) -> Reported {
        match self {
            Self::Answer { reported, .. } => *reported,
            _ => Reported::default(),
        }
    }

    /// What the provider billed for this call.
    pub fn billed(&self) -> Billed {
        match self {
            Self::Answer { billed, .. }
            | Self::ProviderError { billed, .. }
            | Self::Unreadable { billed, .. } => *billed,
        }
    }

    /// Whether proverka may send the same query again on its own: only when the provider says
    /// the failure is free and worth retrying. An answer, anything billed and anything that
    /// may have been billed is never re-sent.
    pub fn free_to_resend(&self) -> bool {
        match self {
            Self::Answer { .. } => false,
            Self::ProviderError {
                billed, retryable, ..
            } => *retryable && billed.is_no(),
            Self::Unreadable { billed, .. } => billed.is_no(),
        }
    }

    /// Whether sending the same query again later may help (a caller's decision to make).
    pub fn retryable(&self) -> bool {
        match self {
            Self::Answer { .. } => false,
            Self::ProviderError { retryable, .. } => *retryable,
            Self::Unreadable { .. } => true,
        }
    }

    /// A short code for ledgers and metrics: `ok`, the provider's error code, or
    /// `unreadable`.
    pub fn code(&self) -> &str {
        match self {
            Self::Answer { .. } => "ok",
            Self::ProviderError { code, .. } => code,
            Self::Unreadable { .. } => "unreadable",
        }
    }
}

/// Answer bodies read through [`json_body`] in this process.
static BODIES_READ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many answer bodies the adapters have read in this process (each judgement and each
/// rendering reads one, through [`json_body`]): how a test or a bench sees that a drop-in hit
/// reads none and a typed miss reads two (once to judge, once to render).
pub fn bodies_read() -> u64 {
    BODIES_READ.load(std::sync::atomic::Ordering::Relaxed)
}

/// Strips what some provider backends put around their JSON and what JSON itself does not
/// allow: UTF-8 byte-order marks (a PHP habit) and the whitespace and line ends around them.
/// Every adapter reads bodies through this, so such bytes never make an answer unreadable; the
/// drop-in proxy routes still return the bytes unchanged.
///
/// ```
/// assert_eq!(proverka_core::json_body(b"\xEF\xBB\xBF \r\n{\"a\":1}\n"), b"{\"a\":1}");
/// ```
pub fn json_body(body: &[u8]) -> &[u8] {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    BODIES_READ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut rest = body.trim_ascii();
    while let Some(after) = rest.strip_prefix(BOM) {
        rest = after.trim_ascii_start();
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_strips_boms_and_whitespace_only() {
        assert_eq!(json_body(b"{}"), b"{}");
        assert_eq!(json_body(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(json_body(b"\xEF\xBB\xBF\xEF\xBB\xBF\t{} \r\n"), b"{}");
        assert_eq!(json_body(b""), b"");
        assert_eq!(json_body(b"\xEF\xBB"), b"\xEF\xBB");
        assert_eq!(
            json_body(b"{\"a\":\"\xEF\xBB\xBF\"}"),
            b"{\"a\":\"\xEF\xBB\xBF\"}"
        );
    }

    #[test]
    fn only_free_failures_may_be_resent() {
        let answer = Verdict::Answer {
            billed: Billed::No,
            keep_for: Duration::from_secs(1),
            reported: Reported::default(),
        };
        let free_error = Verdict::ProviderError {
            code: "456".into(),
            billed: Billed::No,
            retryable: true,
        };
        let billed_error = Verdict::ProviderError {
            code: "x".into(),
            billed: Billed::Yes(None),
            retryable: true,
        };
        let unknown = Verdict::Unreadable {
            billed: Billed::Unknown,
            what: "invalid JSON".into(),
        };
        let gateway = Verdict::Unreadable {
            billed: Billed::No,
            what: "an HTML page".into(),
        };
        assert!(!answer.free_to_resend());
        assert!(free_error.free_to_resend());
        assert!(!billed_error.free_to_resend());
        assert!(!unknown.free_to_resend());
        assert!(gateway.free_to_resend());
        assert_eq!(unknown.keep_for(), None);
        assert_eq!(unknown.billed(), Billed::Unknown);
    }

    #[test]
    fn billed_serialises_as_the_v1_charge_field() {
        let j = |b: Billed| serde_json::to_string(&b).unwrap();
        assert_eq!(j(Billed::No), r#"{"kind":"free"}"#);
        assert_eq!(j(Billed::Unknown), r#"{"kind":"unknown"}"#);
        assert_eq!(
            j(Billed::Yes(Some(Money::from_kopecks(140)))),
            r#"{"kind":"charged","price":"1.40"}"#
        );
    }
}
