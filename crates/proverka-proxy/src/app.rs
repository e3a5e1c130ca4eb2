//! The proxy's state: its configuration, the engine that carries the money path, the clients
//! (reloadable), the metrics and the routes.

use std::sync::Arc;

use proverka_core::Provider;
use proverka_engine::{Engine, EngineError};
use proverka_store::{SqlStore, StoreError};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::registry::RouteTable;

mod live;
mod plan;
pub(crate) mod today;

use live::Live;
pub use live::Reloaded;
pub(crate) use live::{Client, Operator};

/// Everything a request needs.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: Config,
    /// The money path: validation memo, tiers, flights, budgets, the ledger.
    pub(crate) engine: Engine,
    /// What SIGHUP re-reads: clients, budgets (prices are the engine's).
    live: std::sync::RwLock<Arc<Live>>,
    pub(crate) metrics: Arc<Metrics>,
    /// The provider routes, from the registry.
    pub(crate) routes: RouteTable,
    /// The counters at the start of the Moscow day (the status page's "today").
    pub(crate) day_start: std::sync::Mutex<today::DayStart>,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A provider's base URL, client setup or configured credential was rejected.
    #[error("provider {provider}: {source}")]
    Provider {
        /// Which.
        provider: Provider,
        /// Why.
        source: proverka_core::ConfigError,
    },
    /// Redis settings were rejected.
    #[error("cache: {0}")]
    Cache(String),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A client has a daily budget, but a provider it can reach bills at a price the proxy
    /// does not know: the budget could not be held.
    #[error(
        "client {client:?} has a daily budget, but {provider} has no known price: set providers.{provider}.price_rub (PROVERKA_PROVIDERS_{env}_PRICE_RUB) to the tariff's price of one answer"
    )]
    UnknownPrice {
        /// The client's name.
        client: String,
        /// The provider.
        provider: Provider,
        /// The provider's name in environment variables.
        env: String,
    },
    /// The ledger export cannot be opened for appending.
    #[error("ledger_path {path}: {source}")]
    Ledger {
        /// The configured path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store of record cannot be used.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<EngineError> for StartError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Provider { provider, source } => Self::Provider { provider, source },
            EngineError::Ledger { path, source } => Self::Ledger { path, source },
            other => Self::Cache(other.to_string()),
        }
    }
}

impl AppState {
    pub(crate) fn new(
        config: Config,
        clock: Arc<dyn proverka_core::Clock>,
    ) -> Result<Self, StartError> {
        let routes = RouteTable::new(&crate::registry::adapters());
        let metrics = Arc::new(Metrics::new(&routes));
        let cache = config
            .cache
            .build(&config.retry)
            .map_err(StartError::Cache)?;
        let store = SqlStore::open(config.store_location().expose())?;
        let memory = config.cache.memory_bytes();
        let engine = Engine::builder()
            .providers(config.providers.clone())
            .cache(cache)
            .store(Arc::new(store))
            .clock(clock)
            .observer(Arc::clone(&metrics) as Arc<dyn proverka_engine::Observer>)
            .program(format!("proverka-proxy {}", env!("CARGO_PKG_VERSION")))
            .ledger_path(config.ledger_path.clone())
            // One memory budget: the memo takes a sixteenth of memory_mb, the answers the rest.
            .memo_bytes(memory / 16)
            .build()?;
        let live = Live::new(&config, &engine)?;
        let today = proverka_core::Date::moscow_date_at(engine.presence().clock().now());
        Ok(Self {
            engine,
            live: std::sync::RwLock::new(Arc::new(live)),
            metrics,
            day_start: today::DayStart::new(routes.providers().len(), today),
            routes,
            config,
        })
    }

    /// The provider at `index` in the registry.
    pub(crate) fn upstream_at(&self, index: usize) -> &proverka_engine::Upstream {
        &self.engine.upstreams()[index]
    }

    /// The providers, in registry order.
    pub(crate) fn providers(&self) -> &[Provider] {
        self.routes.providers()
    }
}
