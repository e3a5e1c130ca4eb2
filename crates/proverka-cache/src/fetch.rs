//! [`Fetch`]: what a flight needs from its caller to make provider calls, and what it tells
//! the caller about each one ([`ProviderCall`]).
//!
//! The flight owns the whole miss: it reserves, sends, judges the answer once with
//! [`Lookup::judge`], decides whether a retry is free, reports the call, stores and shares.
//! The caller's [`Fetch`] only sends one request and returns what came back, and is told
//! before and after each call so it can hold budgets and keep a ledger.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use proverka_core::{Lookup, RawAnswer, TransportError, Verdict};

use crate::remote::BoxFuture;

/// One provider call, as the flight made and judged it: what a spend ledger records.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct ProviderCall<'a> {
    /// The query (its kind, provider and cache key; never a secret).
    pub lookup: &'a dyn Lookup,
    /// 1 for the first call of the flight, then 2, 3… for free retries.
    pub attempt: u32,
    /// The one judgement of this call (its billing included).
    pub verdict: &'a Verdict,
    /// The answer, when one came back (balances and quotas are read from it).
    pub raw: Option<&'a RawAnswer>,
    /// From sending to the end of the body (or the failure).
    pub latency: Duration,
    /// Whether the flight will send the query again (the call was free and retryable).
    pub resent: bool,
}

impl<'a> ProviderCall<'a> {
    /// A call made outside a flight (a free source asked before the paid provider), so the
    /// same ledger can record it: its first and only attempt, not re-sent.
    pub fn single(
        lookup: &'a dyn Lookup,
        verdict: &'a Verdict,
        raw: Option<&'a RawAnswer>,
        latency: Duration,
    ) -> Self {
        Self {
            lookup,
            attempt: 1,
            verdict,
            raw,
            latency,
            resent: false,
        }
    }
}

impl std::fmt::Debug for ProviderCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderCall")
            .field("provider", &self.lookup.provider())
            .field("kind", &self.lookup.query_kind())
            .field("attempt", &self.attempt)
            .field("verdict", self.verdict)
            .field("latency", &self.latency)
            .field("resent", &self.resent)
            .finish_non_exhaustive()
    }
}

/// Why a flight made no call at all: a budget, a rate limit, anything the caller decides
/// in [`Fetch::reserve`]. Shared with the flight's waiters, who then ask again on their own
/// account (a refusal of one client is not an answer for another).
#[derive(Debug, Clone)]
pub struct Refusal(Arc<dyn StdError + Send + Sync>);

impl Refusal {
    /// A refusal for this reason.
    pub fn new(reason: impl StdError + Send + Sync + 'static) -> Self {
        Self(Arc::new(reason))
    }

    /// The reason as a concrete type.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }

    pub(crate) fn into_source(self) -> Arc<dyn StdError + Send + Sync> {
        self.0
    }
}

/// How a flight reaches the provider. Implemented for any `Fn() -> Future<Output =
/// Result<RawAnswer, TransportError>>` (no reservation, nothing to settle); the engine
/// implements it to write each call's intent with its budget reservation to the store of
/// record before the call, and to settle it after.
pub trait Fetch: Send + Sync + 'static {
    /// Sends the query once and returns what came back: any HTTP status is an answer for the
    /// flight to judge; only a failure to get one is an error.
    fn send(&self) -> BoxFuture<'_, Result<RawAnswer, TransportError>>;

    /// Called before each call: take what the call may cost (a budget reservation). An error
    /// refuses the call: nothing is sent, and the flight ends with
    /// [`FetchError::refusal`](crate::FetchError::refusal).
    fn reserve(&self) -> BoxFuture<'_, Result<(), Refusal>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Called after each call with its judgement: settle the reservation to what the call
    /// really cost, record it.
    fn settle<'a>(&'a self, call: &'a ProviderCall<'a>) -> BoxFuture<'a, ()> {
        let _ = call;
        Box::pin(std::future::ready(()))
    }
}

impl<F, Fut> Fetch for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<RawAnswer, TransportError>> + Send + 'static,
{
    fn send(&self) -> BoxFuture<'_, Result<RawAnswer, TransportError>> {
        Box::pin(self())
    }
}
