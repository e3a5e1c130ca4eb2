//! The providers of the registry, configured: how each is reached (HTTP client, credential,
//! concurrency, pacing, its free source) and what its answers cost.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use proverka_cache::TieredCache;
use proverka_core::{
    Adapter, Billed, Cost, CredentialStyle, FreeSource, HttpClient, HttpSettings, Money, PagePrice,
    Provider, Secret,
};
use tokio::sync::Semaphore;

use crate::EngineError;
use crate::config::{ProviderConfig, SourceMode, provider_config};

/// One provider of the registry, configured.
#[derive(Debug)]
pub struct Upstream {
    provider: Provider,
    adapter: Arc<dyn Adapter>,
    credential_style: CredentialStyle,
    page_price: PagePrice,
    pub(crate) http: HttpClient,
    credential: Option<Arc<Secret>>,
    limit: Semaphore,
    max_concurrency: usize,
    pace: Option<Duration>,
    free: Option<FreeRoute>,
}

/// A paid provider's free source, as configured (`source`).
#[derive(Debug, Clone)]
pub struct FreeRoute {
    /// The source: which free provider answers which paid one.
    pub source: Arc<dyn FreeSource>,
    /// `free` or `free-then-paid`.
    pub mode: SourceMode,
    /// With `free-then-paid`: the longest wait for the free source's turn.
    pub max_wait: Duration,
}

/// The name of a provider's queue of paced turns: one per provider, shared by every process
/// that calls it from one address (through Redis).
pub(crate) fn pace_queue(provider: Provider) -> String {
    format!("pace:{provider}")
}

impl Upstream {
    /// Which provider.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// What it tells about itself: routes, validation, refusals.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// How its credential travels.
    pub fn credential_style(&self) -> CredentialStyle {
        self.credential_style
    }

    /// The configured credential: injected into every call, one cache shared by every client.
    pub fn configured_credential(&self) -> Option<&Arc<Secret>> {
        self.credential.as_ref()
    }

    /// The base URL and timeouts in use.
    pub fn settings(&self) -> &HttpSettings {
        self.http.settings()
    }

    /// The spacing of its calls, when they are paced (`per_minute`).
    pub fn pace(&self) -> Option<Duration> {
        self.pace
    }

    /// Its free source, when one is configured.
    pub fn free(&self) -> Option<&FreeRoute> {
        self.free.as_ref()
    }

    /// Calls to it in progress (places taken among `max_concurrency`).
    pub fn in_use(&self) -> usize {
        self.max_concurrency
            .saturating_sub(self.limit.available_permits())
    }

    /// A place among its concurrent calls.
    pub(crate) async fn acquire(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.limit.acquire().await.ok()
    }

    /// Waits for its next paced turn (shared by the replicas through Redis); `false` when no
    /// turn starts within `max_wait`.
    pub(crate) async fn wait_turn(&self, cache: &TieredCache, max_wait: Option<Duration>) -> bool {
        let Some(interval) = self.pace else {
            return true;
        };
        match cache
            .take_turn(&pace_queue(self.provider), interval, max_wait)
            .await
        {
            // A paid flight runs on when its callers leave (it has reserved, and its answer
            // will be kept), so its turn is never given back.
            Some(turn) => {
                if !turn.wait.is_zero() {
                    tokio::time::sleep(turn.wait).await;
                }
                true
            }
            None => false,
        }
    }
}

/// Every provider of the registry, configured by `providers` (defaults where a provider has
/// no section), with its free source where one is configured.
pub(crate) fn configure(
    providers: &BTreeMap<String, ProviderConfig>,
) -> Result<Vec<Upstream>, EngineError> {
    let mut upstreams = Vec::new();
    for adapter in proverka::adapters() {
        let provider = adapter.provider();
        let spec = adapter.spec();
        let pc = provider_config(providers, provider);
        let fail = |source| EngineError::Provider { provider, source };
        let base = pc.base_url.as_deref().unwrap_or(spec.base_url);
        let timeout = pc.timeout_secs.map_or(spec.timeout, Duration::from_secs);
        let settings = HttpSettings::new(base, timeout)
            .map_err(fail)?
            .with_max_body_bytes(
                pc.max_body_bytes
                    .unwrap_or(proverka_core::DEFAULT_MAX_BODY_BYTES),
            );
        let http = HttpClient::new(provider, settings).map_err(fail)?;
        let credential = pc.credential().cloned();
        if let (Some(c), CredentialStyle::QueryParam(_)) = (&credential, spec.credential) {
            adapter.check_credential(c).map_err(fail)?;
        }
        let max_concurrency = pc.max_concurrency.unwrap_or(8).max(1);
        upstreams.push(Upstream {
            provider,
            page_price: spec.price,
            credential_style: spec.credential,
            adapter,
            http,
            credential: credential.map(Arc::new),
            limit: Semaphore::new(max_concurrency),
            max_concurrency,
            pace: pc
                .per_minute
                .or(spec.calls_per_minute)
                .map(|n| Duration::from_secs(60) / n.max(1)),
            free: None,
        });
    }
    for source in proverka::free_sources() {
        let pc = provider_config(providers, source.paid());
        let mode = pc.source.unwrap_or_default();
        let free_known = upstreams.iter().any(|u| u.provider == source.free());
        if mode == SourceMode::Paid || !free_known {
            continue;
        }
        if let Some(u) = upstreams.iter_mut().find(|u| u.provider == source.paid()) {
            u.free = Some(FreeRoute {
                source,
                mode,
                max_wait: Duration::from_secs(pc.free_max_wait_secs.unwrap_or(10)),
            });
        }
    }
    Ok(upstreams)
}

/// What answers cost: the prices the configuration sets for providers that do not price
/// their answers themselves, by registry index. A reload swaps them whole.
#[derive(Debug, Default)]
pub(crate) struct Prices(RwLock<Vec<Option<Money>>>);

impl Prices {
    pub(crate) fn of(providers: &BTreeMap<String, ProviderConfig>) -> Vec<Option<Money>> {
        proverka::adapters()
            .iter()
            .map(|a| provider_config(providers, a.provider()).price())
            .collect()
    }

    pub(crate) fn set(&self, prices: Vec<Option<Money>>) -> Vec<Option<Money>> {
        std::mem::replace(
            &mut *self
                .0
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            prices,
        )
    }

    pub(crate) fn get(&self, index: usize) -> Option<Money> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(index)
            .copied()
            .flatten()
    }
}

/// The providers whose answers have no price this configuration knows: a budget could not be
/// held against them.
pub(crate) fn unpriced(upstreams: &[Upstream], prices: &[Option<Money>]) -> Vec<Provider> {
    upstreams
        .iter()
        .zip(prices)
        .filter(|(u, p)| u.page_price == PagePrice::Tariff && p.is_none())
        .map(|(u, _)| u.provider)
        .collect()
}

/// The most one call of a query costing `cost` may cost: what a budget reserves.
pub(crate) fn max_price(configured: Option<Money>, cost: Cost) -> Money {
    match cost {
        Cost::Free => Money::ZERO,
        _ => cost.typical().or(configured).unwrap_or(Money::ZERO),
    }
}

/// What a call judged `billed` cost: the reported price, else the configured or page price;
/// for [`Billed::Unknown`], what it may have cost.
pub(crate) fn price_of(configured: Option<Money>, billed: Billed, cost: Cost) -> Money {
    match billed {
        Billed::Yes(Some(m)) => m,
        Billed::Yes(None) | Billed::Unknown => configured.or(cost.typical()).unwrap_or(Money::ZERO),
        Billed::No => Money::ZERO,
    }
}
