//! One proxied query's way through the cache: its credential, the flight's money rules
//! (budget reserved before each call and settled after it, one judgement, the ledger), and the
//! free source asked first where one is configured.

use std::sync::{Arc, Mutex};

use proverka_cache::{BoxFuture, Fetch, FetchOptions, ProviderCall, Refusal, Served};
use proverka_core::{
    Auth, Billed, CacheKey, Cost, CredentialStyle, Date, FreeFirst, Lookup, Money, Provider,
    RawAnswer, Secret, TransportError, UpstreamRequest, Verdict,
};

use crate::app::{AppState, BudgetExceeded, Client, FreeRoute};
use crate::sources::FreeOutcome;

/// How the upstream call authenticates, and whether the cache is shared.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// The config's credential: one cache for everyone.
    Configured(Arc<Secret>),
    /// The client's own: entries partitioned by a hash of it.
    PassThrough(Secret),
    /// The provider needs none (a free public service): one cache for everyone.
    NotNeeded,
}

impl Credential {
    fn secret(&self) -> Option<&Secret> {
        match self {
            Self::Configured(s) => Some(s),
            Self::PassThrough(s) => Some(s),
            Self::NotNeeded => None,
        }
    }
}

/// A lookup whose cache key is partitioned by the caller's credential.
struct Partitioned {
    inner: Arc<dyn Lookup>,
    secret: Secret,
}

impl Lookup for Partitioned {
    fn provider(&self) -> Provider {
        self.inner.provider()
    }
    fn query_kind(&self) -> &'static str {
        self.inner.query_kind()
    }
    fn cache_key(&self) -> CacheKey {
        self.inner.cache_key().partitioned_by(&self.secret)
    }
    fn cost(&self) -> Cost {
        self.inner.cost()
    }
    fn upstream_request(&self) -> UpstreamRequest {
        self.inner.upstream_request()
    }
    fn judge(&self, raw: &RawAnswer) -> Verdict {
        self.inner.judge(raw)
    }
    fn render(&self, raw: &RawAnswer) -> Result<serde_json::Value, proverka_core::RenderError> {
        self.inner.render(raw)
    }
}

/// One proxied query, validated.
pub(crate) struct Call {
    pub(crate) provider: Provider,
    pub(crate) lookup: Arc<dyn Lookup>,
    pub(crate) credential: Credential,
    pub(crate) client: Client,
    /// The request's `X-Request-Id`, for the ledger.
    pub(crate) request_id: crate::request_id::RequestId,
    pub(crate) options: FetchOptions,
    /// `Cache-Control: only-if-cached`: answer from the cache or not at all, never a call.
    pub(crate) only_if_cached: bool,
}

/// Why a proxied query got no provider answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The client's budget could not take the call's maximum price: nothing was sent.
    Budget(BudgetExceeded),
    /// No answer came back; `billed` says whether the provider may have billed it.
    Upstream {
        timeout: bool,
        too_large: bool,
        billed: Billed,
    },
    /// `only-if-cached` and nothing cached: no call was made.
    NotCached,
    /// Too many provider calls in progress (`max_flights`): no call was made.
    Busy,
    /// Redis refuses writes: no call was made rather than one without the lock.
    Degraded,
}

/// How a flight reaches the provider for one proxied query: the client's budget is reserved
/// before each call and settled after it, each call goes through the provider's concurrency
/// limit with the credential, and each call is counted and written to the ledger.
struct ProxyFetch {
    state: Arc<AppState>,
    provider: Provider,
    lookup: Arc<dyn Lookup>,
    credential: Credential,
    client: Client,
    request_id: crate::request_id::RequestId,
    /// The reservation of the call in progress: its day and amount.
    reserved: Mutex<Option<(Date, Money)>>,
    /// With a free source configured: the flight's query, asked of it first.
    sourced: Option<(Arc<FreeFirst>, FreeRoute)>,
}

impl Fetch for ProxyFetch {
    fn reserve(&self) -> BoxFuture<'_, Result<(), Refusal>> {
        Box::pin(async move {
            let Some(budget) = self.client.budget else {
                return Ok(());
            };
            let price = self.state.max_price(self.provider, self.lookup.cost());
            if price == Money::ZERO {
                return Ok(());
            }
            let day = Date::today_moscow();
            match self
                .state
                .budgets
                .reserve(&self.state.cache, &self.client.name, budget, day, price)
                .await
            {
                Ok(()) => {
                    *self
                        .reserved
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((day, price));
                    Ok(())
                }
                Err(e) => {
                    self.state.metrics.budget_refusal(&self.client.name);
                    Err(Refusal::new(e))
                }
            }
        })
    }

    fn send(&self) -> BoxFuture<'_, Result<RawAnswer, TransportError>> {
        Box::pin(async move {
            if let Some((sourced, route)) = &self.sourced {
                match crate::sources::ask_free(
                    &self.state,
                    sourced,
                    route,
                    &self.client,
                    self.request_id.as_str(),
                )
                .await
                {
                    FreeOutcome::Answered(answer) => return Ok(answer),
                    FreeOutcome::Failed(e) => return Err(e),
                    FreeOutcome::AskPaid => {}
                }
            }
            let upstream = self.state.upstream(self.provider);
            self.state.wait_turn(self.provider, None).await;
            let _permit = upstream.acquire().await;
            self.state.metrics.provider_call(self.provider);
            let auth = match (upstream.credential_style, self.credential.secret()) {
                (CredentialStyle::CallerBearer, Some(secret)) => Auth::Bearer(secret),
                (CredentialStyle::QueryParam(name), Some(secret)) => Auth::Query(name, secret),
                _ => Auth::None,
            };
            upstream
                .http
                .send(&self.lookup.upstream_request(), auth)
                .await
        })
    }

    fn settle<'a>(&'a self, call: &'a ProviderCall<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let state = &self.state;
            let provider = self.provider;
            let billed = call.verdict.billed();
            let price = state.price_of(provider, billed, self.lookup.cost());
            state.metrics.provider_call_judged(
                provider,
                call.verdict,
                call.raw.is_some(),
                call.latency,
            );
            match billed {
                Billed::Yes(_) => state.metrics.spent(provider, price),
                Billed::Unknown => state.metrics.billed_unknown(provider),
                Billed::No => {}
            }
            if let (Some((sourced, _)), Verdict::Answer { .. }) = (&self.sourced, call.verdict) {
                let name = sourced.source().source_of(call.verdict);
                state.metrics.source_answer(provider, name);
                if billed.is_no() {
                    // What the paid provider would have charged for it.
                    let would_cost =
                        state.price_of(provider, Billed::Yes(None), self.lookup.cost());
                    state.metrics.saved_by_free_source(provider, would_cost);
                }
            }
            let reserved = self
                .reserved
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some((day, amount)) = reserved {
                // Billed: the real price; unknown: the reservation stands; free: released.
                let actual = match billed {
                    Billed::Yes(_) => price,
                    Billed::Unknown => amount,
                    Billed::No => Money::ZERO,
                };
                state
                    .budgets
                    .settle(&state.cache, &self.client.name, day, amount, actual)
                    .await;
            }
            // Read in the one judgement: the body is not parsed again for them.
            let reported = call.verdict.reported();
            if let Some(balance) = reported.balance {
                state.metrics.balance(provider, balance);
            }
            if let Some(left) = reported.quota_left {
                state.metrics.quota_left(provider, left);
            }
            state
                .ledger
                .record(
                    &state.cache,
                    &self.client.name,
                    self.request_id.as_str(),
                    call,
                    price,
                )
                .await;
        })
    }
}

/// Runs one proxied query through the cache: a hit or a joined flight costs nothing; a miss
/// is a flight that reserves, calls, judges once and settles (see [`ProxyFetch`]).
pub(crate) async fn execute(state: &Arc<AppState>, call: Call) -> Result<Served, CallError> {
    let lookup: Arc<dyn Lookup> = match &call.credential {
        Credential::PassThrough(secret) => Arc::new(Partitioned {
            inner: call.lookup,
            secret: secret.clone(),
        }),
        Credential::Configured(_) | Credential::NotNeeded => call.lookup,
    };
    let provider = call.provider;
    let cost = lookup.cost();
    // The tiers are read once, here; a miss goes straight to the key's flight.
    if !call.options.force_refresh
        && let Some(hit) = state.cache.cached(&*lookup, call.options.max_age).await
    {
        let billed = hit.answer.verdict.billed();
        if billed.is_yes() {
            state
                .metrics
                .saved(provider, state.price_of(provider, billed, cost));
        }
        return Ok(hit);
    }
    if call.only_if_cached {
        return Err(CallError::NotCached);
    }
    // A miss of a provider with a free source: the flight asks it first.
    let sourced = state.upstream(provider).free.clone().map(|route| {
        let first = FreeFirst::new(Arc::clone(&lookup), Arc::clone(&route.source));
        (Arc::new(first), route)
    });
    let lookup: Arc<dyn Lookup> = match &sourced {
        Some((s, _)) => Arc::clone(s) as Arc<dyn Lookup>,
        None => lookup,
    };
    // Built only when this request leads a flight.
    let fetch = || ProxyFetch {
        state: Arc::clone(state),
        provider,
        lookup: Arc::clone(&lookup),
        credential: call.credential,
        client: call.client,
        request_id: call.request_id,
        reserved: Mutex::new(None),
        sourced,
    };
    match state
        .cache
        .flight(Arc::clone(&lookup), call.options, fetch)
        .await
    {
        Ok(served) => {
            if !matches!(served.status, proverka_cache::CacheStatus::Miss) {
                let billed = served.answer.verdict.billed();
                if billed.is_yes() {
                    state
                        .metrics
                        .saved(provider, state.price_of(provider, billed, cost));
                }
            }
            Ok(served)
        }
        Err(e) if e.is_busy() => Err(CallError::Busy),
        Err(e) if e.is_degraded() => Err(CallError::Degraded),
        Err(e) => match e.downcast_ref::<BudgetExceeded>() {
            Some(b) if e.refusal() => Err(CallError::Budget(*b)),
            _ => {
                let kind = e.downcast_ref::<TransportError>().map(TransportError::kind);
                Err(CallError::Upstream {
                    timeout: kind == Some(proverka_core::TransportErrorKind::Timeout),
                    too_large: kind == Some(proverka_core::TransportErrorKind::TooLarge),
                    billed: e.billed(),
                })
            }
        },
    }
}
