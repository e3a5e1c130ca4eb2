//! Who is asking, and what their key lets them see. Clients query providers and see their own
//! spend and budget; operators see the proxy (`/metrics`, `/ui`, `/v1/status`) and every
//! client's spend, and query no provider. With no key configured at all, a loopback proxy is
//! open to every caller.

use http::{HeaderMap, StatusCode, header};
use proverka_core::Secret;

use super::{Incoming, Rejection, Reply, bearer, error};
use crate::app::{AppState, Client, Operator};

/// The key a request carries: `X-Proverka-Key`, `Authorization: Bearer <key>` (a Prometheus
/// scrape), or a browser's `Authorization: Basic` with the key as the password (any user).
pub(super) fn presented_key(headers: &HeaderMap) -> Option<Secret> {
    use base64::Engine as _;
    headers
        .get("x-proverka-key")
        .and_then(|v| v.to_str().ok())
        .map(Secret::new)
        .or_else(|| bearer(headers))
        .or_else(|| {
            let encoded = headers
                .get(header::AUTHORIZATION)?
                .to_str()
                .ok()?
                .strip_prefix("Basic ")?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (_, password) = text.split_once(':')?;
            Some(Secret::new(password))
        })
}

/// Who is asking.
#[derive(Debug)]
pub(super) enum Caller {
    /// No key is configured: everyone may ask (loopback only; the proxy refuses a public
    /// listener without client keys).
    Open,
    /// A client, by its key.
    Client(Client),
    /// An operator, by its key.
    Operator(Operator),
}

/// Why a request is turned away.
#[derive(Debug, Clone, Copy)]
pub(super) enum Denied {
    /// No key, or a key nobody has (401).
    Unauthorized,
    /// A key whose role does not reach this route (403).
    Forbidden(&'static str),
}

impl Denied {
    pub(super) fn reply(self) -> Reply {
        match self {
            Self::Unauthorized => Rejection::Unauthorized.reply(),
            Self::Forbidden(why) => {
                error(StatusCode::FORBIDDEN, crate::api::ErrorCode::Forbidden, why)
            }
        }
    }
}

/// Who is asking, by the key the request carries.
pub(super) fn caller(state: &AppState, req: &Incoming) -> Result<Caller, Denied> {
    if !state.keys_configured() {
        return Ok(Caller::Open);
    }
    let key = presented_key(&req.headers).ok_or(Denied::Unauthorized)?;
    if let Some(operator) = state.operator_by_key(&key) {
        return Ok(Caller::Operator(operator));
    }
    state
        .client_by_key(&key)
        .map(Caller::Client)
        .ok_or(Denied::Unauthorized)
}

/// The operator's routes: an operator's key, or no key configured at all.
pub(super) fn operator_only(state: &AppState, req: &Incoming) -> Result<(), Denied> {
    match caller(state, req)? {
        Caller::Open | Caller::Operator(_) => Ok(()),
        Caller::Client(_) => Err(Denied::Forbidden(
            "an operator's key is needed here; a client key sees its own /v1/spend and /v1/me",
        )),
    }
}
