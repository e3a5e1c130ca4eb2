//! The bodies of the typed API: the routes write them and the OpenAPI document describes them
//! from the same types (`schemars` reads the serde attributes that write them), so the
//! document cannot say one thing while the proxy answers another.

use std::collections::BTreeMap;

use proverka_cache::CacheStatus;
use proverka_core::{Billed, Money, Provider, RenderError};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// `X-Cache` and `cache`: how the answer was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum CacheState {
    /// A fresh stored answer: nothing was paid.
    Hit,
    /// This request started the provider call.
    Miss,
    /// This request waited on a call another request (or replica) started: nothing was paid.
    Coalesced,
    /// An expired answer, served because the provider failed (`Cache-Control: stale-if-error`).
    Stale,
}

impl From<CacheStatus> for CacheState {
    fn from(status: CacheStatus) -> Self {
        match status {
            CacheStatus::Hit(_) => Self::Hit,
            CacheStatus::Miss => Self::Miss,
            CacheStatus::Coalesced => Self::Coalesced,
            CacheStatus::Stale => Self::Stale,
        }
    }
}

/// The answer of a typed operation: the provider's answer as the adapter's model (`result`),
/// or why it is none (`error`), with what it cost and where it came from.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Envelope {
    /// The provider that answered.
    pub(crate) provider: Provider,
    /// How the answer was obtained (as `X-Cache`).
    pub(crate) cache: CacheState,
    /// The answer's age in seconds (as `Age`).
    pub(crate) age_secs: u64,
    /// What the provider billed for this answer. `unknown`: it may have been billed and could
    /// not be read; proverka never caches it and never sends it again on its own.
    pub(crate) charge: Billed,
    /// For a provider with a free source configured: which source answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<&'static str>,
    /// With `X-Proverka-Include: provider-answer`: the provider's own reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) provider_answer: Option<ProviderAnswer>,
    /// The answer as the adapter's model (each operation says which).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<Value>,
    /// Why there is no `result`: a provider error or an unreadable answer (HTTP 502).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<RenderError>,
}

/// The provider's own reply, for evidence or for comparing answers as the adapter does.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProviderAnswer {
    /// Its HTTP status.
    pub(crate) status: u16,
    /// Its `Content-Type`, when it sent one.
    pub(crate) content_type: Option<String>,
    /// Its body, base64 (standard alphabet, padded).
    #[schemars(extend("contentEncoding" = "base64"))]
    pub(crate) body_base64: String,
    /// The SHA-256 of its body, hex.
    #[schemars(regex(pattern = "^[0-9a-f]{64}$"))]
    pub(crate) sha256: String,
}

/// What a program switches on when the proxy answers without a provider's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorCode {
    /// Only GET is served (405).
    MethodNotAllowed,
    /// No such route (404).
    NotFound,
    /// No valid key (401).
    Unauthorized,
    /// The provider needs a credential that neither the proxy nor the request holds (401);
    /// nothing was sent.
    MissingCredential,
    /// The key's role does not reach this route (403).
    Forbidden,
    /// The query string is longer than `max_query_bytes` (414); nothing was sent.
    QueryTooLong,
    /// The query would exceed the client's daily budget (402); nothing was sent.
    BudgetExceeded,
    /// The shared cache refuses writes (503); nothing was sent, ask again later.
    CacheDegraded,
    /// Too many provider calls in progress (503); nothing was sent, ask again later.
    Busy,
    /// The store of record does not answer (503); nothing was sent, ask again later.
    StoreUnavailable,
    /// Another refusal before sending (503); nothing was sent, ask again later.
    Unavailable,
    /// `Cache-Control: only-if-cached` and nothing cached (504); nothing was sent.
    NotCached,
    /// The provider did not answer in time (504); see `charge`.
    ProviderTimeout,
    /// The provider's answer was larger than the proxy reads (502); see `charge`.
    ProviderAnswerTooLarge,
    /// The provider could not be reached or the connection broke (502); see `charge`.
    ProviderUnreachable,
    /// A query the proxy does not forward (400); nothing was sent.
    NotForwarded,
    /// `/v1/spend`: the day is not `YYYY-MM-DD` (400).
    InvalidDay,
    /// `/v1/calls`: no request id given (400).
    MissingRequestId,
}

/// The proxy's answer when it has no provider's answer to give: what happened, whether it
/// cost money and whether asking again may help.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Problem {
    /// What happened, as a code.
    pub(crate) error: ErrorCode,
    /// What happened, in a sentence (never a query value or a secret).
    pub(crate) message: String,
    /// The provider the call was for, when it was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) provider: Option<Provider>,
    /// Whether asking again may succeed (absent: no).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) retryable: Option<bool>,
    /// Whether the provider billed the call (absent: nothing was sent, nothing billed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) charge: Option<Billed>,
    /// `budget_exceeded`: the client's daily budget, rubles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) budget_rub: Option<Money>,
    /// `budget_exceeded`: what the client spent today, rubles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) spent_today_rub: Option<Money>,
    /// `budget_exceeded`: what this query would cost, rubles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) price_rub: Option<Money>,
}

impl Problem {
    /// A problem with only its code and sentence.
    pub(crate) fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            provider: None,
            retryable: None,
            charge: None,
            budget_rub: None,
            spent_today_rub: None,
            price_rub: None,
        }
    }
}

/// A typed query the provider's page refuses (HTTP 400): nothing was sent, nothing spent.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Refused {
    /// The provider asked.
    pub(crate) provider: Provider,
    /// The refusal.
    pub(crate) error: Refusal,
}

/// What refused a typed query, and the provider's own answer to it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Refusal {
    /// Always `validation`: refused before any network call.
    #[schemars(schema_with = "validation_only")]
    pub(crate) source: proverka_core::ErrorSource,
    /// The body the provider would have answered (its code and message; proverka's own rules
    /// carry the marker `proverka` in place of a provider code).
    pub(crate) provider_body: Value,
}

fn validation_only(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"const": "validation"})
}

/// `GET /v1/spend`: spend per client, provider and kind of query over Moscow days, from the
/// store of record (a client key sees its own).
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Spend {
    /// The first day, `YYYY-MM-DD`.
    pub(crate) from: proverka_core::Date,
    /// The last day, `YYYY-MM-DD`.
    pub(crate) to: proverka_core::Date,
    /// The day, when the period is one day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) day: Option<proverka_core::Date>,
    /// What the providers billed in the period, rubles.
    pub(crate) total_rub: Money,
    /// Per client name, per provider.
    pub(crate) clients: BTreeMap<String, BTreeMap<String, SpendCell>>,
    /// One row per client, provider and kind of query.
    pub(crate) rows: Vec<SpendLine>,
}

/// One client's spend on one provider.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SpendCell {
    /// Billed, rubles.
    pub(crate) spent_rub: Money,
    /// Provider calls made.
    pub(crate) calls: i64,
    /// Calls that may have been billed (`unknown`, or in flight).
    pub(crate) billed_unknown: i64,
}

/// One client's spend on one kind of query of one provider.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SpendLine {
    /// The client's name now.
    pub(crate) client: String,
    /// The client's stable id.
    pub(crate) client_id: String,
    /// The provider.
    pub(crate) provider: String,
    /// The kind of query (`physical`, `status`, …).
    pub(crate) kind: String,
    /// Provider calls made.
    pub(crate) calls: i64,
    /// Of them, billed.
    pub(crate) charged_calls: i64,
    /// Of them, possibly billed (`unknown`, or in flight).
    pub(crate) unknown_calls: i64,
    /// Billed, rubles.
    pub(crate) spent_rub: Money,
    /// Possibly billed, rubles (counted against budgets).
    pub(crate) unknown_rub: Money,
}

/// `GET /v1/calls`: the provider calls made under one request id.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Calls {
    /// The request id asked about.
    pub(crate) request_id: String,
    /// Each call, as the ledger settled it.
    pub(crate) calls: Vec<CallState>,
}

/// One provider call of a request.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CallState {
    /// `charged`, `free` or `unknown`; `null` while the call is in flight.
    #[schemars(schema_with = "billed_kind")]
    pub(crate) billed: Option<String>,
}

fn billed_kind(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"enum": ["charged", "free", "unknown", null]})
}

/// `GET /v1/me`: the calling client and today's budget.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Me {
    /// The client's name.
    pub(crate) client: String,
    /// The client's stable id.
    pub(crate) id: String,
    /// What it may spend per Moscow day, rubles; `null`: no limit.
    pub(crate) daily_budget_rub: Option<Money>,
    /// Whether its `Cache-Control: no-cache` may make the proxy pay for a fresh answer.
    pub(crate) may_refresh: bool,
    /// Today (Moscow).
    pub(crate) today: MeToday,
}

/// A client's budget today.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MeToday {
    /// The day, `YYYY-MM-DD`.
    pub(crate) day: proverka_core::Date,
    /// Billed, rubles.
    pub(crate) spent_rub: Money,
    /// Possibly billed (`unknown`), rubles.
    pub(crate) possibly_billed_rub: Money,
    /// Reserved by calls in flight, rubles.
    pub(crate) reserved_rub: Money,
    /// All three: what the budget counts.
    pub(crate) committed_rub: Money,
    /// What is left of the budget; `null`: no limit.
    pub(crate) left_rub: Option<Money>,
}
