//! What goes into the engine and what can come back instead of an answer: [`Request`],
//! [`Credential`], [`RowTask`], [`CallError`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use proverka_cache::FetchOptions;
use proverka_core::{Lookup, Money, Secret};
use proverka_store::{RowRef, StoreError};

use crate::{Engine, Tenant};

/// How the provider call authenticates, and whether the cache is shared.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The configured credential: one cache for everyone.
    Configured(Arc<Secret>),
    /// The caller's own: entries partitioned by a hash of it.
    PassThrough(Secret),
    /// The provider needs none (a free public service): one cache for everyone.
    NotNeeded,
}

impl Credential {
    pub(crate) fn secret(&self) -> Option<&Secret> {
        match self {
            Self::Configured(s) => Some(s),
            Self::PassThrough(s) => Some(s),
            Self::NotNeeded => None,
        }
    }
}

/// Turns a rendered answer into a batch row's columns (the front end's choice of fields);
/// the engine keeps them with the row, never the answer itself (it holds personal data).
pub type Summarizer = Arc<SummarizeFn>;

/// The function behind a [`Summarizer`].
pub type SummarizeFn = dyn Fn(&serde_json::Value) -> BTreeMap<String, String> + Send + Sync;

/// A batch row a query answers: its outcome is recorded with the call's settlement, in one
/// transaction.
#[derive(Clone)]
pub struct RowTask {
    /// The row.
    pub row: RowRef,
    /// Its columns from the rendered answer.
    pub summarize: Summarizer,
    /// Set once a flight this row's query led has recorded the row with its call.
    pub(crate) recorded: Arc<AtomicBool>,
}

impl RowTask {
    /// The task of answering `row`, its columns made by `summarize`.
    pub fn new(row: RowRef, summarize: Summarizer) -> Self {
        Self {
            row,
            summarize,
            recorded: Arc::default(),
        }
    }
}

impl std::fmt::Debug for RowTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowTask")
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

/// One validated query, on someone's account.
pub struct Request<'a> {
    /// The validated query.
    pub lookup: Arc<dyn Lookup>,
    /// How the provider call authenticates.
    pub credential: Credential,
    /// Who pays.
    pub tenant: Tenant,
    /// The request's id (the ledger's record of a call names the request that led it): shown
    /// only when this request leads a flight, so a hit never spends a moment on it.
    pub request_id: &'a (dyn std::fmt::Display + Sync),
    /// `max-age`, `no-cache`, stale grace.
    pub options: FetchOptions,
    /// Answer from the cache or not at all: never a call.
    pub only_if_cached: bool,
    /// The batch row it answers, if any.
    pub row: Option<RowTask>,
}

impl std::fmt::Debug for Request<'_> {
    // The query holds personal data: only what it is, and whose, is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("provider", &self.lookup.provider())
            .field("kind", &self.lookup.query_kind())
            .field("tenant", &self.tenant.id)
            .field("request_id", &self.request_id.to_string())
            .finish_non_exhaustive()
    }
}

impl<'a> Request<'a> {
    /// A query on `tenant`'s account with the provider's configured credential (or none), the
    /// default options and no batch row.
    pub fn new(
        engine: &Engine,
        lookup: Arc<dyn Lookup>,
        tenant: Tenant,
        request_id: &'a (dyn std::fmt::Display + Sync),
    ) -> Self {
        let credential = match engine.upstream(lookup.provider()).configured_credential() {
            Some(c) => Credential::Configured(Arc::clone(c)),
            None => Credential::NotNeeded,
        };
        Self {
            lookup,
            credential,
            tenant,
            request_id,
            options: FetchOptions::default(),
            only_if_cached: false,
            row: None,
        }
    }
}

/// A budget would be passed: nothing was sent.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "the daily budget of {budget} RUB would be exceeded ({spent} RUB spent or reserved today, this call may cost {price} RUB)"
)]
pub struct BudgetExceeded {
    /// The daily budget.
    pub budget: Money,
    /// Spent or reserved on the day.
    pub spent: Money,
    /// The call's maximum price.
    pub price: Money,
}

/// The store of record did not answer: no call was made (none may go out unrecorded).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreUnavailable(pub StoreError);

/// Why an account read was not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{operation:?} is not an account read proverka forwards here (only {allowed}); nothing was sent"
)]
pub struct OperationNotForwarded {
    /// What was asked.
    pub operation: String,
    /// What is forwarded, comma-separated.
    pub allowed: String,
}

/// Why a query got no provider answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CallError {
    /// The tenant's budget could not take the call's maximum price: nothing was sent.
    Budget(BudgetExceeded),
    /// The store of record did not answer: nothing was sent.
    StoreUnavailable(StoreError),
    /// No answer came back; `billed` says whether the provider may have billed it.
    Upstream {
        /// The provider's time ran out.
        timeout: bool,
        /// The answer was larger than allowed (refused unread).
        too_large: bool,
        /// Whether the provider may have billed the call.
        billed: proverka_core::Billed,
        /// What happened, without secrets.
        message: String,
    },
    /// `only-if-cached` and nothing cached: no call was made.
    NotCached,
    /// Too many provider calls in progress (`max_flights`): no call was made.
    Busy,
    /// Redis refuses writes: no call was made rather than one without the lock.
    Degraded,
    /// An account read the route does not forward: nothing was sent.
    NotForwarded(OperationNotForwarded),
}
