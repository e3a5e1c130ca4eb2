//! One query through the engine: a [`Request`] in, an answer ([`Served`]) or a
//! [`CallError`] out; [`Engine::check`] renders either as an [`Outcome`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use proverka_cache::{CacheStatus, Probe, Served};
use proverka_core::{
    Cost, FreeFirst, Lookup, Provider, Rekeyed, TransportError, TransportErrorKind, Verdict,
};

use crate::fetch::EngineFetch;
use crate::request::{BudgetExceeded, CallError, Credential, Request, StoreUnavailable};
use crate::{Engine, Outcome};

impl Engine {
    /// Runs one query: a hit or a joined flight costs nothing; a miss is a flight that
    /// reserves and records before each call, judges once and settles (see the crate's
    /// documentation).
    ///
    /// # Errors
    /// [`CallError`]: refused before any call, or no answer came back.
    pub async fn execute(&self, req: Request<'_>) -> Result<Served, CallError> {
        let inner = &self.inner;
        let lookup: Arc<dyn Lookup> = match &req.credential {
            Credential::PassThrough(secret) => {
                let key = req.lookup.cache_key().partitioned_by(secret);
                Arc::new(Rekeyed::new(req.lookup, key))
            }
            Credential::Configured(_) | Credential::NotNeeded => req.lookup,
        };
        let provider = lookup.provider();
        let cost = lookup.cost();
        // Only what is cached: a read, no lock.
        if req.only_if_cached {
            if !req.options.force_refresh
                && let Some(hit) = inner.cache.cached(&*lookup, req.options.max_age).await
            {
                self.saved(provider, &hit, cost);
                return Ok(hit);
            }
            return Err(CallError::NotCached);
        }
        // The tiers are read once, here (with Redis, one round trip that also takes the
        // cross-replica lock when nothing is there); a miss goes straight to the key's flight.
        let miss = match inner.cache.probe(&*lookup, req.options).await {
            Probe::Hit(hit) => {
                self.saved(provider, &hit, cost);
                return Ok(hit);
            }
            Probe::Miss(miss) => miss,
        };
        // A miss of a provider with a free source: the flight asks it first.
        let sourced = inner.upstream(provider).free().cloned().map(|route| {
            let first = FreeFirst::new(Arc::clone(&lookup), Arc::clone(&route.source));
            (Arc::new(first), route)
        });
        let lookup: Arc<dyn Lookup> = match &sourced {
            Some((s, _)) => Arc::clone(s) as Arc<dyn Lookup>,
            None => lookup,
        };
        // Built only when this request leads a flight.
        let request_id = req.request_id;
        let fetch = || EngineFetch {
            inner: Arc::clone(&self.inner),
            provider,
            lookup: Arc::clone(&lookup),
            credential: req.credential,
            tenant: req.tenant,
            request_id: request_id.to_string(),
            row: req.row,
            sourced,
            state: Mutex::default(),
        };
        match inner
            .cache
            .flight_after(miss, Arc::clone(&lookup), req.options, fetch)
            .await
        {
            Ok(served) => {
                if !matches!(served.status, CacheStatus::Miss) {
                    self.saved(provider, &served, cost);
                }
                Ok(served)
            }
            Err(e) if e.is_busy() => Err(CallError::Busy),
            Err(e) if e.is_degraded() => Err(CallError::Degraded),
            Err(e) => {
                if e.refusal() {
                    if let Some(b) = e.downcast_ref::<BudgetExceeded>() {
                        return Err(CallError::Budget(*b));
                    }
                    if let Some(s) = e.downcast_ref::<StoreUnavailable>() {
                        return Err(CallError::StoreUnavailable(s.0.clone()));
                    }
                }
                let kind = e.downcast_ref::<TransportError>().map(TransportError::kind);
                Err(CallError::Upstream {
                    timeout: kind == Some(TransportErrorKind::Timeout),
                    too_large: kind == Some(TransportErrorKind::TooLarge),
                    billed: e.billed(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// A paid answer served without a call: what it would have cost.
    fn saved(&self, provider: Provider, served: &Served, cost: Cost) {
        let billed = served.answer.verdict.billed();
        if billed.is_yes() {
            let price = self.price_of(provider, billed, cost);
            self.inner.savings.add(provider, price);
            self.inner.observer.saved(provider, price);
        }
    }

    /// Runs one query and says what became of it, rendered with the query's own model; a
    /// batch row's outcome is recorded in the store (with the call's settlement when this
    /// query paid for it, in the same transaction).
    pub async fn check(&self, req: Request<'_>) -> Outcome {
        let lookup = Arc::clone(&req.lookup);
        let provider = lookup.provider();
        let row = req.row.clone();
        let summarize = row.as_ref().map(|r| Arc::clone(&r.summarize));
        let mut stale = false;
        let outcome = match self.execute(req).await {
            Ok(served) => {
                stale = served.status == CacheStatus::Stale;
                let source = match served.status {
                    CacheStatus::Hit(_) | CacheStatus::Stale => "cache",
                    _ => self.source_of(provider, &served.answer.verdict),
                };
                let price = self.price_of(provider, served.answer.verdict.billed(), lookup.cost());
                crate::outcome::of_answer(
                    &*lookup,
                    &served.answer.raw,
                    &served.answer.verdict,
                    source,
                    price,
                    summarize.as_deref(),
                )
            }
            Err(e) => crate::outcome::of_error(&e),
        };
        // A flight this query led recorded its row with the settlement; anything else (a hit,
        // a joined flight, a refusal) is recorded now.
        if let Some(task) = row
            && (stale || !task.recorded.load(Ordering::SeqCst))
            && let Err(e) = self
                .store()
                .row_done(&task.row, &outcome.to_json(), false, self.inner.clock.now())
                .await
        {
            tracing::warn!(error = %e, "a batch row's outcome could not be recorded");
        }
        outcome
    }

    /// Which source answered a paid provider's question: its free source's name for an
    /// answer that cost nothing, else `provider`.
    fn source_of(&self, provider: Provider, verdict: &Verdict) -> &'static str {
        match self.inner.upstream(provider).free() {
            Some(route)
                if matches!(verdict, Verdict::Answer { .. }) && verdict.billed().is_no() =>
            {
                route.source.source_names().1
            }
            _ => "provider",
        }
    }

    /// Whether an answer to `lookup` is cached (free to ask).
    pub async fn is_cached(&self, lookup: &dyn Lookup) -> bool {
        self.inner.cache.cached(lookup, None).await.is_some()
    }
}
