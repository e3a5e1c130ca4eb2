//! What a provider's simulator is (the `sandbox` feature): each adapter crate simulates its
//! own provider ([`Simulator`]), and `proverka-sandbox` serves every simulator the registry
//! names, with faults and call counters, without naming one.
//!
//! A simulator follows its provider's page, not its adapter's validation, so a simulated
//! answer can catch an adapter that refuses too much or too little. It is deterministic: the
//! same query gets the same answer ([`seed`]).

use std::any::Any;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::{CacheKey, Provider};

/// An INN every simulator of a self-employed check (НПД) finds self-employed: the paid
/// check answers `found: 1`, the tax service's free one `status: true`. One person, whatever
/// the source, so a test of the free-first path sees the sources agree.
pub const SELF_EMPLOYED_INN: &str = "540304378234";
/// An INN every simulator of a self-employed check finds not self-employed.
pub const NOT_SELF_EMPLOYED_INN: &str = "500100732259";

/// What one simulated call answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// A reply with any body.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
        }
    }

    /// A reply a provider's page shows.
    pub fn page(reply: crate::PageReply) -> Self {
        Self::new(
            reply.status,
            "application/json; charset=utf-8",
            Bytes::from_static(reply.body.as_bytes()),
        )
    }

    /// The reply to a call without the provider's credential, as its spec
    /// ([`ProviderSpec::missing_credential`](crate::ProviderSpec::missing_credential)) writes
    /// it: the proxy answers a caller without one the same way.
    pub fn without_credential(spec: &crate::ProviderSpec) -> Self {
        spec.missing_credential.map_or_else(
            || Self::new(401, "application/json; charset=utf-8", "{}"),
            Self::page,
        )
    }

    /// A JSON reply.
    pub fn json(status: u16, value: &Value) -> Self {
        Self::new(
            status,
            "application/json; charset=utf-8",
            serde_json::to_vec(value).unwrap_or_default(),
        )
    }

    /// A 200 reply with JSON text as it is (a fixture, byte for byte).
    pub fn raw_json(text: &'static str) -> Self {
        Self::new(200, "application/json; charset=utf-8", text)
    }
}

/// One request to a simulator, as the sandbox received it on one of the provider's
/// [`upstream_paths`](crate::Adapter::upstream_paths).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The rest of the path after a prefix route (a path parameter), empty for an exact one.
    pub tail: &'a str,
    /// The query string's parameters, in order.
    pub pairs: &'a [(&'a str, &'a str)],
    /// The `Authorization: Bearer` token, if any.
    pub bearer: Option<&'a str>,
    /// The request body.
    pub body: &'a [u8],
    /// The caller's address (a per-IP limit).
    pub peer: IpAddr,
    /// Now on the simulated providers' clock, which a test moves ahead instead of waiting.
    pub now: Instant,
    /// The same moment as a date and time (what "today" is for a provider), moved as `now`.
    pub at: SystemTime,
}

impl Request<'_> {
    /// The value of the first of `names` present (its first occurrence), trimmed; `None` when
    /// blank.
    pub fn param(&self, names: &[&str]) -> Option<&str> {
        param(self.pairs, names)
    }
}

/// What a simulator did with a request.
#[derive(Debug, Clone)]
pub enum Simulated {
    /// It answered the query: `billed` when the provider charges for this answer, `key` the
    /// canonical query (its adapter's cache key) when the adapter accepts the query, so the
    /// sandbox counts calls per query.
    Answered {
        /// The answer.
        reply: Reply,
        /// Whether the provider bills it.
        billed: bool,
        /// The canonical query.
        key: Option<CacheKey>,
    },
    /// It refused the request (a missing credential, a parameter its page refuses, a quota):
    /// never billed.
    Refused(Reply),
}

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
    /// The provider's own error, in its own words ([`Simulator::provider_error`]): a code
    /// (`"456"`, `"40304"`, `"invalid_token"`) or a text (`"Query limit is null (0)"`).
    ProviderError {
        /// The code or text.
        code: String,
    },
    /// `{"success":0}`, "ask again", where the provider answers so (the self-employed check).
    SuccessZero,
    /// Never answer (the client's timeout fires).
    Timeout,
    /// Close the connection without answering.
    Reset,
    /// Send half of the body. The provider bills before it sends (as
    /// [`Fault::TruncatedAfterBilling`]).
    Truncated,
    /// The whole answer is produced and billed, then only half of the body is sent, with
    /// HTTP 200.
    TruncatedAfterBilling,
    /// The answer, billed, but preceded by a UTF-8 byte-order mark and followed by `\r\n`
    /// (a PHP backend's habit).
    Bom,
    /// `{"success": 1}` with no `found`, where the provider answers so: billed (only
    /// `success = 1` is), but no result.
    SuccessOneWithoutFound,
    /// The answer, billed, padded with a `padding` field to at least `bytes` bytes: an
    /// over-large body.
    Oversized {
        /// The body's size at least.
        bytes: usize,
    },
    /// `{"status":200,"message":"Источник не доступен"}` after the query was billed, where the
    /// provider answers so (the debtors' database): neither records nor a count.
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

/// One provider, simulated: its answers, its refusals, its own errors and the faults only it
/// suffers. Made by its adapter ([`Adapter::simulator`](crate::Adapter::simulator)); the
/// sandbox serves it on the adapter's [`upstream_paths`](crate::Adapter::upstream_paths) and
/// [`account_routes`](crate::Adapter::account_routes), and counts its calls.
pub trait Simulator: AsAny + Send + Sync + fmt::Debug + 'static {
    /// Which provider it simulates.
    fn provider(&self) -> Provider;

    /// Answers one query.
    fn answer(&self, request: &Request<'_>) -> Simulated;

    /// Answers a call of one of its account endpoints (never billed); `None` for a provider
    /// with none.
    fn account(&self, request: &Request<'_>) -> Option<Reply> {
        let _ = request;
        None
    }

    /// The provider's own error with this code, as its page shows it ([`Fault::ProviderError`]).
    fn provider_error(&self, code: &str) -> Reply;

    /// The reply to a fault only this provider suffers, instead of its answer (nothing
    /// billed); `None` when the fault does not concern it. The sandbox handles the faults
    /// every provider suffers (HTML, 5xx, its own errors, timeouts, resets).
    fn fault_reply(&self, fault: &Fault) -> Option<Reply> {
        let _ = fault;
        None
    }

    /// Spoils an answer already produced (and billed) with a fault only this provider
    /// suffers; the sandbox spoils with the others (truncation, a byte-order mark, padding).
    fn spoil(&self, fault: &Fault, reply: Reply) -> Reply {
        let _ = fault;
        reply
    }

    /// A credential it accepts, for a provider whose credential a proxy holds; `None` where
    /// the caller always brings their own (a bearer).
    fn credential(&self) -> Option<&'static str> {
        None
    }

    /// A first request to try through a proxy at `base` (a shell command), if it has one.
    fn example(&self, base: &str) -> Option<String> {
        let _ = base;
        None
    }

    /// Its own state, for the sandbox's `GET /__sandbox/calls` (a balance, a quota);
    /// `Null` when it keeps none worth showing.
    fn state(&self) -> Value {
        Value::Null
    }

    /// Changes one of its settings before the sandbox starts (`proverka-sandbox --set
    /// fssp.balance=5000`).
    ///
    /// # Errors
    /// A message naming the settings it has, for an unknown name or an unreadable value.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let _ = value;
        Err(format!("no setting named {name}"))
    }

    /// Forgets what it learned and restores what it spent (a balance, a quota).
    fn reset(&self) {}
}

/// A simulator as itself, so a test reaches its own methods
/// (`handle.simulator::<FsspSimulator>()`); every type has it.
pub trait AsAny {
    /// Itself, as [`Any`].
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The value of a setting ([`Simulator::set`]), read as `T`.
///
/// # Errors
/// A message naming the setting and the value, for a value that does not read as `T`.
pub fn setting<T>(name: &str, value: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e| format!("{name}: {value} cannot be read ({e})"))
}

/// The value of a setting in whole seconds (`lapse_s`, `change_s`), as a duration.
///
/// # Errors
/// As [`setting`].
pub fn seconds(name: &str, value: &str) -> Result<std::time::Duration, String> {
    setting(name, value).map(std::time::Duration::from_secs)
}

/// [`Simulator::set`] for a simulator with one setting, `known`: `target` read from `value`.
///
/// # Errors
/// Another name ([`no_setting`]), or a value that does not read as `T` ([`setting`]).
pub fn only_setting<T>(name: &str, value: &str, known: &str, target: &mut T) -> Result<(), String>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    if name != known {
        return Err(no_setting(name, &[known]));
    }
    *target = setting(name, value)?;
    Ok(())
}

/// The refusal of a setting a simulator does not have, naming the ones it has.
pub fn no_setting(name: &str, known: &[&str]) -> String {
    format!("no setting named {name} ({})", known.join(", "))
}

/// The provider's refusal of a call without its credential (a blank one is none), as its
/// spec writes it ([`Reply::without_credential`]): the sandbox answers so before asking the
/// simulator, which therefore never sees such a call. `None` when the call carries one, or
/// the provider takes none.
pub fn refusal_without_credential(
    spec: &crate::ProviderSpec,
    request: &Request<'_>,
) -> Option<Reply> {
    let missing = match spec.credential {
        crate::CredentialStyle::QueryParam(name) => request.param(&[name]).is_none(),
        crate::CredentialStyle::CallerBearer => request.bearer.is_none_or(|b| b.trim().is_empty()),
        crate::CredentialStyle::None => false,
    };
    missing.then(|| Reply::without_credential(spec))
}

/// The value of the first of `names` present in `pairs`, trimmed; `None` when blank. The first
/// value of a repeated name wins, as the providers' backends read it.
pub fn param<'a>(pairs: &[(&str, &'a str)], names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.trim()))
        .filter(|v| !v.is_empty())
}

/// A deterministic number from a query's parameters (credentials left out): the same query,
/// the same answer. Independent of the adapters, which may refuse what the page allows.
pub fn seed(pairs: &[(&str, &str)]) -> u8 {
    use std::hash::{Hash, Hasher};
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| !matches!(*k, "token" | "key"))
        .map(|(k, v)| (*k, v.trim()))
        .collect();
    sorted.sort_unstable();
    let mut h = std::hash::DefaultHasher::new();
    sorted.hash(&mut h);
    h.finish().to_le_bytes()[0]
}

/// A simulator's state, locked: a panic elsewhere while it was held leaves it as it was (a
/// simulator's counters stay readable; a test that panicked fails on its own).
pub fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A JSON value from a fixture's text (`Null` when it is not JSON).
pub fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::{param, seed};

    #[test]
    fn the_same_query_gets_the_same_seed_whatever_its_order_and_credential() {
        let a = seed(&[("inn", "540304378234"), ("key", "one")]);
        let b = seed(&[("key", "two"), ("inn", " 540304378234 ")]);
        assert_eq!(a, b);
    }

    #[test]
    fn param_reads_the_first_non_blank_value_of_the_first_name_present() {
        let pairs = [("a", " "), ("b", " x "), ("b", "y")];
        assert_eq!(param(&pairs, &["b"]), Some("x"));
        assert_eq!(param(&pairs, &["a"]), None);
        assert_eq!(param(&pairs, &["c", "b"]), Some("x"));
    }
}
