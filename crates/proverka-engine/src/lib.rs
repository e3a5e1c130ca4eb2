//! # proverka-engine
//!
//! The money path, written once: every front end (the proxy, the `proverka` command line, the
//! watch lists to come) builds an [`Engine`] from its configuration and renders what it
//! answers; none of them carries a pipeline of its own.
//!
//! A query goes through it one way:
//!
//! ```text
//! validate (the adapter; the query memo)  →  tiers (memory, Redis)  →  hit: free
//!    ↓ miss
//! the key's single flight, across replicas:
//!    reserve + intent (the store of record, one transaction, before anything leaves)
//!    → the free source first, where configured and paced → or the provider (its
//!      concurrency limit, its pace, the credential)
//!    → one judgement → settle (the store) → re-send only what the provider calls free
//!    → store and share the answer
//! ```
//!
//! Money state lives in the store of record only ([`proverka_store`]): reservations, the
//! ledger's intents and settlements, batch rows. A process that died after sending left an
//! open intent; once it is known to be gone ([`Presence`]) the intent is settled `unknown` at
//! its reservation, counted and shown, never sent again on its own. Time comes from one
//! injectable [`proverka_core::Clock`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let store = Arc::new(proverka_store::SqlStore::open("/tmp/proverka.sqlite")?);
//! let engine = proverka_engine::Engine::builder()
//!     .store(store)
//!     .program("example 0.1.0")
//!     .build()?;
//! # let _ = engine;
//! # Ok(()) }
//! ```

mod account;
mod batch;
mod call;
pub mod config;
mod fetch;
mod ledger;
mod memo;
mod observer;
mod outcome;
mod presence;
mod request;
mod savings;
mod tenant;
mod upstream;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use proverka_cache::{RemoteStatus, TieredCache};
use proverka_core::{Billed, Clock, Cost, Date, Money, Provider, SystemClock};
use proverka_store::{Saving, SpendQuery, SpendRow, Store, StoreError};

pub use account::AccountRequest;
pub use batch::{Batch, BatchError, RowView};
pub use config::{CacheConfig, ProviderConfig, RetryConfig, SourceMode};
pub use memo::{MemoId, ParseMemo};
pub use observer::{JudgedCall, Observer, Unobserved};
pub use outcome::{Outcome, Status};
pub use presence::{HEARTBEAT, Presence, STALE_AFTER};
/// What happened to a turn in a free source's queue ([`Observer::free_queue`]).
pub use proverka_cache::QueueEvent;
pub use request::{
    BudgetExceeded, CallError, Credential, OperationNotForwarded, Request, RowTask,
    StoreUnavailable, SummarizeFn, Summarizer,
};
pub use tenant::Tenant;
pub use upstream::{FreeRoute, Upstream};

use crate::ledger::Ledger;
use crate::upstream::Prices;

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A provider's base URL, client setup or configured credential was refused.
    #[error("provider {provider}: {source}")]
    Provider {
        /// Which.
        provider: Provider,
        /// Why.
        source: proverka_core::ConfigError,
    },
    /// The ledger export cannot be opened for appending.
    #[error("ledger_path {path}: {source}")]
    Ledger {
        /// The configured path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No store of record was given: money state has nowhere to live.
    #[error("no store of record: an engine needs one (SQLite by default)")]
    NoStore,
}

/// The money path: validation memo, tiers, single flight, free source and pacing, budgets,
/// the ledger and batch state, over the store of record. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) cache: TieredCache,
    pub(crate) upstreams: Vec<Upstream>,
    pub(crate) prices: Prices,
    pub(crate) presence: Arc<Presence>,
    pub(crate) ledger: Ledger,
    pub(crate) observer: Arc<dyn Observer>,
    pub(crate) memo: ParseMemo,
    pub(crate) clock: Arc<dyn Clock>,
    /// Paid answers served without a call, not yet added to the store's savings.
    pub(crate) savings: savings::Savings,
}

/// Builds an [`Engine`].
#[derive(Debug)]
#[must_use]
pub struct EngineBuilder {
    providers: BTreeMap<String, ProviderConfig>,
    cache: Option<TieredCache>,
    store: Option<Arc<dyn Store>>,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn Observer>,
    program: String,
    ledger_path: Option<PathBuf>,
    memo_bytes: u64,
}

impl Engine {
    /// A builder: every provider at its defaults, a 64 MiB memory cache, the system clock.
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            providers: BTreeMap::new(),
            cache: None,
            store: None,
            clock: Arc::new(SystemClock),
            observer: Arc::new(Unobserved),
            program: format!("proverka-engine {}", env!("CARGO_PKG_VERSION")),
            ledger_path: None,
            memo_bytes: 4 << 20,
        }
    }

    /// The providers of the registry, configured, in registry order.
    pub fn upstreams(&self) -> &[Upstream] {
        &self.inner.upstreams
    }

    /// One provider, configured.
    pub fn upstream(&self, provider: Provider) -> &Upstream {
        self.inner.upstream(provider)
    }

    /// The cache (its statistics, its remote tier's state).
    pub fn cache(&self) -> &TieredCache {
        &self.inner.cache
    }

    /// The memo of validated queries.
    pub fn memo(&self) -> &ParseMemo {
        &self.inner.memo
    }

    /// The store of record.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.inner.presence.store()
    }

    /// This process, as the store knows it.
    pub fn presence(&self) -> &Arc<Presence> {
        &self.inner.presence
    }

    /// Applies new prices (a reload); returns the providers whose price changed.
    pub fn set_prices(&self, providers: &BTreeMap<String, ProviderConfig>) -> Vec<Provider> {
        let new = Prices::of(providers);
        let old = self.inner.prices.set(new.clone());
        self.inner
            .upstreams
            .iter()
            .zip(old.iter().zip(&new))
            .filter(|(_, (o, n))| o != n)
            .map(|(u, _)| u.provider())
            .collect()
    }

    /// The providers that bill at a tariff and have no price in `providers`: a budget could
    /// not be held against them.
    pub fn unpriced(&self, providers: &BTreeMap<String, ProviderConfig>) -> Vec<Provider> {
        upstream::unpriced(&self.inner.upstreams, &Prices::of(providers))
    }

    /// The most one call of a query costing `cost` may cost: what a budget reserves.
    pub fn max_price(&self, provider: Provider, cost: Cost) -> Money {
        upstream::max_price(self.inner.configured_price(provider), cost)
    }

    /// What a call judged `billed` cost, when it is known: the provider's reported price, else
    /// the configured one (`price_rub`), else the provider's typical price; `None` when none
    /// is known (shown as unknown, never as 0.00).
    pub fn known_price(&self, provider: Provider, billed: Billed, cost: Cost) -> Option<Money> {
        match billed {
            Billed::Yes(Some(m)) => Some(m),
            Billed::Yes(None) | Billed::Unknown => {
                self.inner.configured_price(provider).or(cost.typical())
            }
            Billed::No => Some(Money::ZERO),
        }
    }

    /// What a call judged `billed` cost.
    pub fn price_of(&self, provider: Provider, billed: Billed, cost: Cost) -> Money {
        upstream::price_of(self.inner.configured_price(provider), billed, cost)
    }

    /// Savings (paid answers served without a call) per day and provider, from the store of
    /// record: every replica's, as the engines flushed them (each within a second).
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn savings(&self, from: Date, to: Date) -> Result<Vec<Saving>, StoreError> {
        self.store().savings(from, to).await
    }

    /// Spend from the store of record.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn spend(&self, query: &SpendQuery) -> Result<Vec<SpendRow>, StoreError> {
        self.store().spend(query).await
    }

    /// Whether the engine can take paid calls now: the store answers and this process is
    /// registered in it; and what the shared cache says of itself.
    pub async fn readiness(&self) -> Readiness {
        let presence = &self.inner.presence;
        let store = if presence.is_down() && !presence.probe().await {
            Err(StoreError::Unavailable("it did not answer".into()))
        } else {
            match presence.noted(self.store().ping().await) {
                Ok(()) if presence.ensure().await => Ok(()),
                Ok(()) => Err(StoreError::Unavailable("not registered yet".into())),
                Err(e) => Err(e),
            }
        };
        Readiness {
            store,
            cache: self.inner.cache.remote_status().await,
        }
    }

    /// Opens the files the engine writes again at their paths (the ledger export), so that a
    /// file logrotate renamed stops growing: on SIGHUP.
    ///
    /// # Errors
    /// A path that can no longer be opened for appending (the old file is kept then).
    pub fn reopen_files(&self) -> std::io::Result<()> {
        self.inner.ledger.reopen()
    }

    /// Stops cleanly: waits up to `grace` for the flights in progress (paid calls finish and
    /// are stored), writes the settlements that waited for the store, and leaves the store:
    /// a call still open then is settled `unknown`. Returns whether every flight ended.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        let idle = self.inner.cache.wait_idle(grace).await;
        self.inner.ledger.retry(self.store().as_ref()).await;
        self.inner.flush_savings().await;
        self.inner.presence.leave().await;
        idle
    }
}

/// What [`Engine::readiness`] found.
#[derive(Debug)]
pub struct Readiness {
    /// The store of record: `Ok` when paid calls can be reserved and recorded.
    pub store: Result<(), StoreError>,
    /// The shared cache tier.
    pub cache: RemoteStatus,
}

impl Inner {
    /// Adds the savings counted since the last flush to today's (Moscow, by the engine's
    /// clock) in the store.
    async fn flush_savings(&self) {
        let day = Date::moscow_date_at(self.clock.now());
        self.savings
            .flush(self.presence.store().as_ref(), day)
            .await;
    }

    pub(crate) fn upstream(&self, provider: Provider) -> &Upstream {
        self.upstreams
            .iter()
            .find(|u| u.provider() == provider)
            .expect("an upstream for every provider of the registry")
    }

    pub(crate) fn configured_price(&self, provider: Provider) -> Option<Money> {
        let i = self
            .upstreams
            .iter()
            .position(|u| u.provider() == provider)?;
        self.prices.get(i)
    }
}

impl EngineBuilder {
    /// The providers' sections (`[providers.<name>]`).
    pub fn providers(mut self, providers: BTreeMap<String, ProviderConfig>) -> Self {
        self.providers = providers;
        self
    }

    /// The cache (default: 64 MiB in memory, no shared tier).
    pub fn cache(mut self, cache: TieredCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The store of record (required).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where time is read (tests move a [`ManualClock`](proverka_core::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Who watches (metrics).
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// What this process is called in the store (`proverka-proxy 0.1.0`).
    pub fn program(mut self, program: impl Into<String>) -> Self {
        self.program = program.into();
        self
    }

    /// Appends every settled call to this JSON-lines file too (an export).
    pub fn ledger_path(mut self, path: Option<PathBuf>) -> Self {
        self.ledger_path = path;
        self
    }

    /// The query memo's share of memory, in bytes.
    pub fn memo_bytes(mut self, bytes: u64) -> Self {
        self.memo_bytes = bytes;
        self
    }

    /// The engine: providers configured (credentials checked), this process registering with
    /// the store (see [`Presence::start`]), its background work started. Call within a tokio
    /// runtime.
    ///
    /// # Errors
    /// [`EngineError`]: a provider's settings, the ledger export, no store.
    pub fn build(self) -> Result<Engine, EngineError> {
        let store = self.store.ok_or(EngineError::NoStore)?;
        let upstreams = upstream::configure(&self.providers)?;
        let ledger =
            Ledger::open(self.ledger_path.as_deref()).map_err(|source| EngineError::Ledger {
                path: self
                    .ledger_path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                source,
            })?;
        let presence = Presence::start(store, Arc::clone(&self.clock), &self.program);
        let prices = Prices::default();
        prices.set(Prices::of(&self.providers));
        let inner = Arc::new(Inner {
            cache: self
                .cache
                .unwrap_or_else(|| TieredCache::builder().memory_bytes(64 << 20).build()),
            prices,
            presence,
            ledger,
            observer: self.observer,
            memo: ParseMemo::new(self.memo_bytes),
            savings: savings::Savings::new(upstreams.iter().map(Upstream::provider).collect()),
            upstreams,
            clock: self.clock,
        });
        tokio::spawn(settling(Arc::downgrade(&inner)));
        Ok(Engine { inner })
    }
}

/// Writes the settlements that waited for the store, once a second, while the engine lives.
async fn settling(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        if inner.presence.probe().await {
            let store = inner.presence.store().as_ref();
            inner.ledger.retry(store).await;
            inner.flush_savings().await;
        }
    }
}
