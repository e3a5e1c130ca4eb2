//! Fault injection: what the next calls to a provider should suffer.

use std::time::Duration;

use serde::Deserialize;

/// One fault. Latency adds to whatever else happens; the first other fault decides the answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// Answer after `ms` milliseconds, plus up to `jitter_ms` more (deterministic per call).
    Latency {
        /// Fixed delay.
        ms: u64,
        /// Extra delay, varied per call.
        #[serde(default)]
        jitter_ms: u64,
    },
    /// The provider's own error: an FSSP code (`"456"`), a court text (`"Query limit is null
    /// (0)"`), an NPD code (`"40304"`), an Alfa error (`"invalid_token"`, `"internal_error"`).
    ProviderError {
        /// The code or text.
        code: String,
    },
    /// NPD `{"success":0}`: "ask again".
    SuccessZero,
    /// Never answer (the client's timeout fires).
    Timeout,
    /// Close the connection without answering.
    Reset,
    /// Send half of the body. The provider bills before it sends (as
    /// [`Fault::TruncatedAfterBilling`]).
    Truncated,
    /// The whole answer is produced and billed (FSSP balance charged, court quota taken, NPD
    /// `success = 1`), then only half of the body is sent, with HTTP 200.
    TruncatedAfterBilling,
    /// The answer, billed, but preceded by a UTF-8 byte-order mark and followed by `\r\n`
    /// (a PHP backend's habit).
    Bom,
    /// NPD: `{"success": 1}` with no `found`: billed (only `success = 1` is), but no result.
    SuccessOneWithoutFound,
    /// The answer, billed, padded with a `padding` field to at least `bytes` bytes: an
    /// over-large body.
    Oversized {
        /// The body's size at least.
        bytes: usize,
    },
    /// FSSP: `{"status":200,"message":"Источник не доступен"}`, after the query was billed:
    /// neither records nor a count, so not "no debts".
    MessageOnly,
    /// An HTML captcha page with status 200 instead of JSON.
    Html,
    /// An HTTP 5xx with an HTML body.
    Http5xx {
        /// The status.
        status: u16,
    },
}

impl Fault {
    /// A fixed delay.
    pub fn latency(d: Duration) -> Self {
        Self::Latency {
            ms: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            jitter_ms: 0,
        }
    }
}

/// A fault for the next `times` calls (forever when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FaultRule {
    /// The fault.
    pub fault: Fault,
    /// How many calls it applies to.
    #[serde(default)]
    pub times: Option<u32>,
}

/// What the faults decided for one call.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) delay: Duration,
    pub(crate) fault: Option<Fault>,
}

/// Takes the faults that apply to this call, consuming one use of each.
pub(crate) fn apply(rules: &mut Vec<FaultRule>, call_number: u64) -> Applied {
    let mut applied = Applied::default();
    for rule in rules.iter_mut() {
        if rule.times == Some(0) {
            continue;
        }
        let used = match &rule.fault {
            Fault::Latency { ms, jitter_ms } => {
                let jitter = if *jitter_ms == 0 {
                    0
                } else {
                    call_number.wrapping_mul(2_654_435_761) % (jitter_ms + 1)
                };
                applied.delay += Duration::from_millis(ms.saturating_add(jitter));
                true
            }
            other if applied.fault.is_none() => {
                applied.fault = Some(other.clone());
                true
            }
            _ => false,
        };
        if used && let Some(n) = rule.times.as_mut() {
            *n -= 1;
        }
    }
    rules.retain(|r| r.times != Some(0));
    applied
}
