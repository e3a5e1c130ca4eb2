//! What a caller gets when there is no answer to give: a request turned away before any work
//! ([`Rejection`]), a provider's own refusal, and what the engine's refusals and lost calls
//! become ([`no_answer`]), each saying whether anything was sent and billed.

use http::StatusCode;
use proverka_core::Provider;
use proverka_engine::{CallError, Upstream};

use super::render::billed_header;
use super::{Reply, error, json_reply, reply, unavailable};
use crate::api::{ErrorCode, Problem};

/// Why a request is turned away before any work.
#[derive(Debug)]
pub(super) enum Rejection<'a> {
    /// No valid client key (401).
    Unauthorized,
    /// An operator's key on a provider route (403): operators query no provider.
    OperatorKey,
    /// No provider credential: the provider's own answer to that.
    MissingCredential(&'a Upstream),
}

impl Rejection<'_> {
    /// The reason counted in `proverka_refused_locally_total`.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            Self::Unauthorized | Self::OperatorKey => "unauthorized",
            Self::MissingCredential(_) => "no_credential",
        }
    }

    pub(super) fn reply(self) -> Reply {
        match self {
            Self::Unauthorized => error(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "a valid client key is required (X-Proverka-Key)",
            ),
            Self::OperatorKey => error(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "an operator's key queries no provider: use a client key",
            ),
            Self::MissingCredential(upstream) => {
                provider_reply(&upstream.adapter().missing_credential())
            }
        }
    }

    /// On a typed route: the typed API's bodies only (a provider's own reply to a missing
    /// credential can be an HTTP 200 with an error inside, which a typed caller would read
    /// as an answer).
    pub(super) fn typed_reply(self) -> Reply {
        match self {
            Self::MissingCredential(upstream) => {
                let mut r = json_reply(
                    StatusCode::UNAUTHORIZED,
                    &Problem {
                        provider: Some(upstream.provider()),
                        retryable: Some(false),
                        charge: Some(proverka_core::Billed::No),
                        ..Problem::new(
                            ErrorCode::MissingCredential,
                            "the proxy holds no credential for this provider and the request carries none; nothing was sent",
                        )
                    },
                );
                billed_header(&mut r, proverka_core::Billed::No);
                r
            }
            other => other.reply(),
        }
    }
}

/// An answer in the provider's own words.
pub(super) fn provider_reply(r: &proverka_core::ProviderReply) -> Reply {
    reply(
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
        "application/json; charset=utf-8",
        r.body.clone(),
    )
}

/// The reason counted in `proverka_refused_locally_total` when the engine refused a query
/// before any call (`None`: it was sent, or is not proverka's refusal).
pub(super) fn refusal_reason(e: &CallError) -> Option<&'static str> {
    match e {
        CallError::Budget(_) => Some("budget"),
        CallError::Degraded => Some("cache_degraded"),
        CallError::Busy => Some("busy"),
        CallError::StoreUnavailable(_) => Some("store_unavailable"),
        CallError::NotCached => Some("not_cached"),
        _ => None,
    }
}

/// What the caller gets when the engine brought no answer: nothing sent, or sent and lost
/// (with whether the provider may have billed it).
pub(super) fn no_answer(provider: Provider, e: CallError) -> Reply {
    match e {
        CallError::Budget(b) => json_reply(
            StatusCode::PAYMENT_REQUIRED,
            &Problem {
                budget_rub: Some(b.budget),
                spent_today_rub: Some(b.spent),
                price_rub: Some(b.price),
                ..Problem::new(
                    ErrorCode::BudgetExceeded,
                    "this query would exceed the client's daily budget; nothing was sent",
                )
            },
        ),
        CallError::Degraded => unavailable(
            ErrorCode::CacheDegraded,
            "the shared cache refuses writes (Redis full or read-only): replicas cannot keep this query to one call, so nothing was sent; ask again later",
        ),
        CallError::Busy => unavailable(
            ErrorCode::Busy,
            "too many provider calls in progress (cache.max_flights); nothing was sent, ask again later",
        ),
        CallError::StoreUnavailable(_) => unavailable(
            ErrorCode::StoreUnavailable,
            "the store of record does not answer: no paid call goes out unrecorded, so nothing was sent; ask again later (cached answers are still served)",
        ),
        // RFC 9111: a request with only-if-cached that the cache cannot answer gets 504.
        CallError::NotCached => error(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::NotCached,
            "only-if-cached: no cached answer; nothing was sent",
        ),
        CallError::Upstream {
            timeout,
            too_large,
            billed,
            ..
        } => {
            let (status, code) = match (timeout, too_large) {
                (true, _) => (StatusCode::GATEWAY_TIMEOUT, ErrorCode::ProviderTimeout),
                (_, true) => (StatusCode::BAD_GATEWAY, ErrorCode::ProviderAnswerTooLarge),
                _ => (StatusCode::BAD_GATEWAY, ErrorCode::ProviderUnreachable),
            };
            let message = if billed.is_no() {
                "no answer came back; the call was not billed"
            } else {
                "no answer came back after the request was sent: the provider may have billed it. proverka did not send it again; asking again may pay again"
            };
            let mut r = json_reply(
                status,
                &Problem {
                    provider: Some(provider),
                    retryable: Some(true),
                    charge: Some(billed),
                    ..Problem::new(code, message)
                },
            );
            billed_header(&mut r, billed);
            r
        }
        CallError::NotForwarded(n) => error(
            StatusCode::BAD_REQUEST,
            ErrorCode::NotForwarded,
            &n.to_string(),
        ),
        // A refusal this proxy does not know yet (the engine's list can grow): nothing sent.
        other => unavailable(ErrorCode::Unavailable, &format!("{other:?}")),
    }
}
