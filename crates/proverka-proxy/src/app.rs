//! The proxy's state and the one pipeline every proxied request goes through:
//! client key → validation → cache → (the flight: budget reservation → concurrency limit →
//! provider → one judgement → settle, ledger, free retries) → answer.

use std::sync::Arc;
use std::time::Duration;

use proverka_cache::{RedisOptions, RedisStore, RemoteStore, TieredCache};
use proverka_core::{
    Adapter, CredentialStyle, FreeSource, HttpClient, HttpSettings, PagePrice, Provider,
    RetryPolicy, Secret,
};
use tokio::sync::Semaphore;

pub(crate) use crate::budget::BudgetExceeded;
use crate::budget::Budgets;
use crate::config::{Config, SourceMode};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::registry::RouteTable;

mod live;
mod plan;
pub(crate) mod today;

pub(crate) use live::Client;
use live::Live;
pub use live::Reloaded;

/// One provider of the registry, configured: how it is reached.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) provider: Provider,
    /// What the provider tells the proxy about itself.
    pub(crate) adapter: Arc<dyn Adapter>,
    /// How its credential travels.
    pub(crate) credential_style: CredentialStyle,
    /// What its page says about prices.
    page_price: PagePrice,
    pub(crate) http: HttpClient,
    /// The credential from the config: injected, and the cache shared by all clients.
    pub(crate) credential: Option<Arc<Secret>>,
    limit: Arc<Semaphore>,
    max_concurrency: usize,
    /// The spacing of calls when the provider limits them (`per_minute`).
    pace: Option<Duration>,
    /// Its free source, when one is configured (`source`).
    pub(crate) free: Option<FreeRoute>,
}

impl Upstream {
    /// A place among the provider's concurrent calls (`max_concurrency`).
    pub(crate) async fn acquire(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.limit.acquire().await.ok()
    }

    /// The spacing of its calls, when they are paced (`per_minute`).
    pub(crate) fn pace(&self) -> Option<Duration> {
        self.pace
    }

    /// Calls to the provider in progress (places taken among `max_concurrency`).
    pub(crate) fn in_use(&self) -> usize {
        self.max_concurrency
            .saturating_sub(self.limit.available_permits())
    }
}

/// A paid provider's free source, as configured.
#[derive(Debug, Clone)]
pub(crate) struct FreeRoute {
    pub(crate) source: Arc<dyn FreeSource>,
    pub(crate) mode: SourceMode,
    pub(crate) max_wait: Duration,
}

/// Everything a request needs.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) cache: TieredCache,
    upstreams: Vec<Upstream>,
    /// What SIGHUP re-reads: clients, budgets, prices.
    live: std::sync::RwLock<Arc<Live>>,
    pub(crate) budgets: Budgets,
    pub(crate) ledger: Ledger,
    pub(crate) metrics: Metrics,
    pub(crate) memo: crate::memo::ParseMemo,
    /// The provider routes, from the registry.
    pub(crate) routes: RouteTable,
    /// The counters at the start of the Moscow day (the status page's "today").
    pub(crate) day_start: std::sync::Mutex<today::DayStart>,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A provider's base URL or client setup was rejected.
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
    /// The ledger file cannot be opened for appending.
    #[error("ledger_path {path}: {source}")]
    Ledger {
        /// The configured path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl AppState {
    pub(crate) fn new(config: Config) -> Result<Self, StartError> {
        let mut upstreams = Vec::new();
        for adapter in crate::registry::adapters() {
            let provider = adapter.provider();
            let spec = adapter.spec();
            let pc = config.provider(provider);
            let base = pc.base_url.as_deref().unwrap_or(spec.base_url);
            let timeout = pc.timeout_secs.map_or(spec.timeout, Duration::from_secs);
            let settings = HttpSettings::new(base, timeout)
                .map_err(|source| StartError::Provider { provider, source })?
                .with_max_body_bytes(
                    pc.max_body_bytes
                        .unwrap_or(proverka_core::DEFAULT_MAX_BODY_BYTES),
                );
            let http = HttpClient::new(provider, settings)
                .map_err(|source| StartError::Provider { provider, source })?;
            let pace = pc
                .per_minute
                .or(spec.calls_per_minute)
                .map(|n| Duration::from_secs(60) / n.max(1));
            upstreams.push(Upstream {
                provider,
                page_price: spec.price,
                credential_style: spec.credential,
                adapter,
                http,
                credential: pc.credential().cloned().map(Arc::new),
                limit: Arc::new(Semaphore::new(pc.max_concurrency.unwrap_or(8).max(1))),
                max_concurrency: pc.max_concurrency.unwrap_or(8).max(1),
                pace,
                free: None,
            });
        }
        for source in crate::registry::free_sources() {
            let pc = config.provider(source.paid());
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
        let retry = RetryPolicy {
            max_attempts: config.retry.max_attempts.max(1),
            base_delay: Duration::from_millis(config.retry.base_delay_ms),
            max_delay: Duration::from_secs(30),
        };
        let memory_bytes = config.cache.memory_mb.saturating_mul(1024 * 1024);
        let mut builder = TieredCache::builder()
            .retry(retry)
            .memory_bytes(memory_bytes - memory_bytes / 16)
            .key_prefix(config.cache.key_prefix.clone())
            .stale_grace(Duration::from_secs(config.cache.stale_grace_secs))
            .lock_ttl(Duration::from_secs(config.cache.lock_ttl_secs.max(1)))
            .max_flights(config.cache.max_flights);
        // TLS (`rediss://`) with a private CA when one is configured.
        let ca = match &config.cache.redis_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                StartError::Cache(format!("redis_ca_file {}: {e}", path.display()))
            })?),
            None => None,
        };
        let options = RedisOptions::default();
        let store = if let Some(url) = &config.cache.redis_url {
            Some(match ca {
                Some(pem) => RedisStore::single_with_ca(url.expose(), pem, options),
                None => RedisStore::single(url.expose(), options),
            })
        } else if !config.cache.redis_cluster.is_empty() {
            let nodes = &config.cache.redis_cluster;
            Some(match ca {
                Some(pem) => RedisStore::cluster_with_ca(nodes, pem, options),
                None => RedisStore::cluster(nodes, options),
            })
        } else {
            None
        };
        let remote: Option<Arc<dyn RemoteStore>> = match store {
            Some(s) => Some(Arc::new(s.map_err(|e| StartError::Cache(e.to_string()))?)),
            None => None,
        };
        if let Some(r) = remote {
            builder = builder.remote(r);
        }
        if let Some(keyring) = config.cache.keyring().map_err(StartError::Cache)? {
            builder = builder.encryption_keys(keyring);
        }
        let live = Live::new(&config, &upstreams)?;
        let ledger =
            Ledger::open(config.ledger_path.as_deref()).map_err(|source| StartError::Ledger {
                path: config
                    .ledger_path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                source,
            })?;
        let routes = RouteTable::new(
            &upstreams
                .iter()
                .map(|u| Arc::clone(&u.adapter))
                .collect::<Vec<_>>(),
        );
        Ok(Self {
            cache: builder.build(),
            upstreams,
            live: std::sync::RwLock::new(Arc::new(live)),
            budgets: Budgets::default(),
            ledger,
            metrics: Metrics::new(&routes),
            day_start: today::DayStart::new(routes.providers().len()),
            routes,
            // One memory budget: the memo takes a sixteenth of memory_mb, the answers the rest.
            memo: crate::memo::ParseMemo::new(memory_bytes / 16),
            config,
        })
    }

    /// The provider at `index` in the registry.
    pub(crate) fn upstream_at(&self, index: usize) -> &Upstream {
        &self.upstreams[index]
    }

    /// The providers, in registry order.
    pub(crate) fn providers(&self) -> &[Provider] {
        self.routes.providers()
    }

    pub(crate) fn upstream(&self, p: Provider) -> &Upstream {
        self.upstreams
            .iter()
            .find(|u| u.provider == p)
            .expect("an upstream for every provider")
    }

    /// Waits for a turn to call `provider` when its calls are paced (`per_minute`), shared by
    /// the replicas through Redis; `false` when no turn starts within `max_wait`.
    pub(crate) async fn wait_turn(&self, provider: Provider, max_wait: Option<Duration>) -> bool {
        let Some(interval) = self.upstream(provider).pace else {
            return true;
        };
        let queue = format!("pace:{provider}");
        match self.cache.take_turn(&queue, interval, max_wait).await {
            Some(wait) => {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                true
            }
            None => false,
        }
    }
}
