//! [`Observer`]: what the engine tells a front end as a query goes through it (metrics, a
//! progress line), without the front end carrying any of the money path.

use std::fmt;
use std::time::{Duration, SystemTime};

use proverka_cache::QueueEvent;
use proverka_core::{Billed, Money, Provider, Verdict};

use crate::Tenant;

/// One provider call, judged once and settled.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct JudgedCall<'a> {
    /// The provider that was called.
    pub provider: Provider,
    /// Its one judgement.
    pub verdict: &'a Verdict,
    /// Whether an answer came back (any HTTP status).
    pub answered: bool,
    /// From sending to the end of the answer.
    pub latency: Duration,
    /// Whether the provider billed it.
    pub billed: Billed,
    /// What it counts for (the price billed; the reservation when unknown).
    pub price: Money,
    /// For an answer of a paid provider's question by its free source: the source's name and
    /// what the paid provider would have charged.
    pub free_answer: Option<(&'static str, Money)>,
    /// Which source answered a paid provider's question, where it has a free source.
    pub source: Option<&'static str>,
    /// When it was judged, on the engine's clock.
    pub at: SystemTime,
}

/// Hooks a front end implements to see the engine at work. Every method does nothing by
/// default.
pub trait Observer: Send + Sync + fmt::Debug {
    /// A provider call is about to be sent.
    fn sending(&self, provider: Provider) {
        let _ = provider;
    }

    /// A provider call was judged and settled.
    fn judged(&self, call: &JudgedCall<'_>) {
        let _ = call;
    }

    /// A paid answer was served without a call (a hit, a joined flight): `price` saved.
    fn saved(&self, provider: Provider, price: Money) {
        let _ = (provider, price);
    }

    /// A turn in a free source's queue was taken (its wait) or given back (its callers left).
    fn free_queue(&self, provider: Provider, event: QueueEvent) {
        let _ = (provider, event);
    }

    /// A tenant's budget refused a call.
    fn budget_refused(&self, tenant: &Tenant) {
        let _ = tenant;
    }
}

/// An observer that looks away.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl Observer for Unobserved {}
