//! The proxy's state and the one pipeline every proxied request goes through:
//! client key → validation → cache → (the flight: budget reservation → concurrency limit →
//! provider → one judgement → settle, ledger, free retries) → answer.

use std::sync::Arc;
use std::time::Duration;

use proverka_cache::{RedisOptions, RedisStore, RemoteStore, TieredCache};
use proverka_core::{
    Adapter, Billed, Cost, CredentialStyle, HttpClient, HttpSettings, Money, PagePrice, Provider,
    RetryPolicy, Secret,
};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

pub(crate) use crate::budget::BudgetExceeded;
use crate::budget::Budgets;
use crate::config::{Config, SourceMode};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::registry::RouteTable;
use crate::sources::FreeRoute;

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

/// A client of the proxy, from `[[clients]]`.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) name: Arc<str>,
    key_hash: [u8; 32],
    pub(crate) budget: Option<Money>,
    pub(crate) may_refresh: bool,
}

impl Client {
    pub(crate) fn anonymous() -> Self {
        static ANONYMOUS: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        Self {
            name: Arc::clone(ANONYMOUS.get_or_init(|| Arc::from("anonymous"))),
            key_hash: [0; 32],
            budget: None,
            may_refresh: true,
        }
    }
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
    pub(crate) day_start: std::sync::Mutex<crate::status::DayStart>,
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

/// The settings a reload applies without a restart.
#[derive(Debug)]
pub(crate) struct Live {
    clients: Vec<Client>,
    /// The price of a paid answer the provider does not price itself, by upstream index.
    prices: Vec<Option<Money>>,
}

impl Live {
    /// Clients and prices of `config` for `upstreams`; a budgeted client needs a price for
    /// every provider that bills at its tariff.
    fn new(config: &Config, upstreams: &[Upstream]) -> Result<Self, StartError> {
        let prices: Vec<Option<Money>> = upstreams
            .iter()
            .map(|u| config.provider(u.provider).price())
            .collect();
        // A budget is a reservation of the call's maximum price: every paid provider a
        // budgeted client can reach needs one.
        if let Some(c) = config.clients.iter().find(|c| c.daily_budget_rub.is_some()) {
            for (u, price) in upstreams.iter().zip(&prices) {
                if u.page_price == PagePrice::Tariff && price.is_none() {
                    return Err(StartError::UnknownPrice {
                        client: c.name.clone(),
                        provider: u.provider,
                        env: u.provider.as_str().to_uppercase(),
                    });
                }
            }
        }
        let clients = config
            .clients
            .iter()
            .map(|c| Client {
                name: Arc::from(c.name.as_str()),
                key_hash: hash(&c.key),
                budget: c
                    .daily_budget_rub
                    .map(|r| Money::from_kopecks((r * 100.0).round() as i64)),
                may_refresh: c.may_refresh,
            })
            .collect();
        Ok(Self { clients, prices })
    }
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reloaded {
    /// What changed and is now in force (`clients`, `providers.<name>.price_rub`).
    pub applied: Vec<String>,
    /// Keys that changed but need a restart: reported, not applied.
    pub needs_restart: Vec<String>,
}

pub(crate) fn hash(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
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
            day_start: crate::status::DayStart::new(routes.providers().len()),
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

    /// What this proxy would do, one line each; never a secret's value.
    pub(crate) fn plan(&self) -> Vec<String> {
        let c = &self.config;
        let mut lines = vec![format!("listen on {}", c.listen)];
        if let Some(m) = c.metrics_listen {
            lines.push(format!("serve /metrics, /healthz, /readyz on {m}"));
        }
        for u in &self.upstreams {
            let credential = match (u.credential_style, &u.credential) {
                (CredentialStyle::None, _) => "no credential needed",
                (CredentialStyle::CallerBearer, _) => "the caller's own bearer",
                (CredentialStyle::QueryParam(_), Some(_)) => {
                    "the configured credential (one shared cache)"
                }
                (CredentialStyle::QueryParam(_), None) => {
                    "the caller's own credential (cache partitioned by it)"
                }
            };
            let mut line = format!(
                "call {} at {} with {credential}; timeout {} s",
                u.provider,
                u.http.settings().base_url(),
                u.http.settings().timeout().as_secs()
            );
            if let Some(pace) = u.pace {
                line.push_str(&format!("; one call every {} ms", pace.as_millis()));
            }
            if let Some(free) = &u.free {
                line.push_str(&format!(
                    "; source {:?}, free source {} (wait at most {} s)",
                    free.mode,
                    free.source.free(),
                    free.max_wait.as_secs()
                ));
            }
            lines.push(line);
        }
        lines.push(
            match (&c.cache.redis_url, c.cache.redis_cluster.is_empty()) {
                (Some(_), _) => format!(
                    "cache in memory ({} MiB) and in Redis, {}",
                    c.cache.memory_mb,
                    if c.cache.encryption_key.is_some() || !c.cache.encryption_keys.is_empty() {
                        "encrypted"
                    } else {
                        "in plain text (allow_plaintext)"
                    }
                ),
                (None, false) => format!(
                    "cache in memory ({} MiB) and in a Redis Cluster",
                    c.cache.memory_mb
                ),
                (None, true) => format!(
                    "cache in memory only ({} MiB): one process",
                    c.cache.memory_mb
                ),
            },
        );
        let live = self.live();
        lines.push(if live.clients.is_empty() {
            "accept any caller on loopback (no [[clients]])".to_owned()
        } else {
            format!(
                "accept {} client key(s); {} with a daily budget",
                live.clients.len(),
                live.clients.iter().filter(|cl| cl.budget.is_some()).count()
            )
        });
        lines.push(match &c.ledger_path {
            Some(p) => format!("append the spend ledger to {}", p.display()),
            None => "write the spend ledger to the log only".to_owned(),
        });
        lines
    }

    /// The settings in force (a reload swaps them whole).
    fn live(&self) -> Arc<Live> {
        Arc::clone(
            &self
                .live
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Applies a re-read configuration's clients, budgets and prices; reports the keys whose
    /// change needs a restart without applying them. Nothing changes when it fails.
    ///
    /// # Errors
    /// [`StartError::UnknownPrice`]: a budgeted client and a provider without a price.
    pub(crate) fn reload(&self, new: &Config) -> Result<Reloaded, StartError> {
        let needs_restart = self.config.needs_restart(new);
        let next = Live::new(new, &self.upstreams)?;
        let mut applied = Vec::new();
        {
            let mut live = self
                .live
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let facts = |c: &Client| (c.name.clone(), c.key_hash, c.budget, c.may_refresh);
            if live
                .clients
                .iter()
                .map(facts)
                .ne(next.clients.iter().map(facts))
            {
                applied.push("clients".to_owned());
            }
            for (u, (old, new)) in self
                .upstreams
                .iter()
                .zip(live.prices.iter().zip(&next.prices))
            {
                if old != new {
                    applied.push(format!("providers.{}.price_rub", u.provider));
                }
            }
            *live = Arc::new(next);
        }
        Ok(Reloaded {
            applied,
            needs_restart,
        })
    }

    /// Whether client keys are configured (then every request needs one).
    pub(crate) fn clients_required(&self) -> bool {
        !self
            .live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clients
            .is_empty()
    }

    /// The client whose key this is.
    pub(crate) fn client_by_key(&self, key: &Secret) -> Option<Client> {
        let h = hash(key);
        let live = self
            .live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Compare every key in full: the time taken does not tell which prefix matched.
        live.clients.iter().fold(None, |found, c| {
            let same = c
                .key_hash
                .iter()
                .zip(h.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            if same { Some(c.clone()) } else { found }
        })
    }

    /// The configured price of a paid answer of `provider`, where it does not price it itself.
    fn price(&self, provider: Provider) -> Option<Money> {
        let i = self.upstreams.iter().position(|u| u.provider == provider)?;
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .prices
            .get(i)
            .copied()
            .flatten()
    }

    /// The most one call of a query costing `cost` may cost: what a budget reserves.
    pub(crate) fn max_price(&self, provider: Provider, cost: Cost) -> Money {
        match cost {
            Cost::Free => Money::ZERO,
            _ => cost
                .typical()
                .or(self.price(provider))
                .unwrap_or(Money::ZERO),
        }
    }

    /// What a call judged `billed` cost: the reported price, else the configured or page
    /// price; for [`Billed::Unknown`], what was reserved (it may have been billed).
    pub(crate) fn price_of(&self, provider: Provider, billed: Billed, cost: Cost) -> Money {
        match billed {
            Billed::Yes(Some(m)) => m,
            Billed::Yes(None) | Billed::Unknown => self
                .price(provider)
                .or(cost.typical())
                .unwrap_or(Money::ZERO),
            Billed::No => Money::ZERO,
        }
    }

    /// The names `/v1/spend` reports on: every configured client, or `anonymous`.
    pub(crate) fn client_names(&self) -> Vec<Arc<str>> {
        let live = self.live();
        if live.clients.is_empty() {
            vec![Client::anonymous().name]
        } else {
            live.clients.iter().map(|c| Arc::clone(&c.name)).collect()
        }
    }
}
