//! The proxy's state and the one pipeline every proxied request goes through:
//! client key → validation → cache → (the flight: budget reservation → concurrency limit →
//! provider → one judgement → settle, ledger, free retries) → answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proverka_cache::{
    BoxFuture, Fetch, FetchOptions, ProviderCall, RedisOptions, RedisStore, Refusal, RemoteStore,
    Served, TieredCache,
};
use proverka_core::{
    Adapter, Auth, Billed, CacheKey, Cost, CredentialStyle, Date, HttpClient, HttpSettings, Lookup,
    Money, PagePrice, Provider, RawAnswer, RetryPolicy, Secret, TransportError, UpstreamRequest,
    Verdict,
};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

pub(crate) use crate::budget::BudgetExceeded;
use crate::budget::Budgets;
use crate::config::{Config, SourceMode};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::registry::RouteTable;
use crate::sources::{FreeOutcome, FreeRoute, Sourced};

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
    /// The price of a paid answer the provider does not price itself.
    price: Option<Money>,
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
}

/// A client of the proxy, from `[[clients]]`.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) name: Arc<str>,
    key_hash: [u8; 32],
    budget: Option<Money>,
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
    clients: Vec<Client>,
    budgets: Budgets,
    pub(crate) ledger: Ledger,
    pub(crate) metrics: Metrics,
    pub(crate) memo: crate::memo::ParseMemo,
    /// The provider routes, from the registry.
    pub(crate) routes: RouteTable,
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

pub(crate) fn hash(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
}

impl AppState {
    pub(crate) fn new(config: Config) -> Result<Self, StartError> {
        let mut upstreams = Vec::new();
        for adapter in crate::registry::adapters() {
            let provider = adapter.provider();
            let defaults = adapter.defaults();
            let pc = config.provider(provider);
            let base = pc.base_url.as_deref().unwrap_or(defaults.base_url);
            let timeout = pc
                .timeout_secs
                .map_or(defaults.timeout, Duration::from_secs);
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
                .or_else(|| adapter.calls_per_minute())
                .map(|n| Duration::from_secs(60) / n.max(1));
            upstreams.push(Upstream {
                provider,
                page_price: defaults.price,
                credential_style: adapter.credential(),
                adapter,
                http,
                credential: pc.credential().cloned().map(Arc::new),
                limit: Arc::new(Semaphore::new(pc.max_concurrency.unwrap_or(8).max(1))),
                price: pc.price(),
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
        let remote: Option<Arc<dyn RemoteStore>> = if let Some(url) = &config.cache.redis_url {
            Some(Arc::new(
                RedisStore::single(url.expose(), RedisOptions::default())
                    .map_err(|e| StartError::Cache(e.to_string()))?,
            ))
        } else if !config.cache.redis_cluster.is_empty() {
            Some(Arc::new(
                RedisStore::cluster(&config.cache.redis_cluster, RedisOptions::default())
                    .map_err(|e| StartError::Cache(e.to_string()))?,
            ))
        } else {
            None
        };
        if let Some(r) = remote {
            builder = builder.remote(r);
        }
        if let Some(k) = &config.cache.encryption_key {
            let key = proverka_cache::EncryptionKey::from_hex(k.expose())
                .map_err(|e| StartError::Cache(e.to_owned()))?;
            builder = builder.encryption(key);
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
        // A budget is a reservation of the call's maximum price: every paid provider a
        // budgeted client can reach needs one.
        if let Some(c) = config.clients.iter().find(|c| c.daily_budget_rub.is_some()) {
            for u in &upstreams {
                if u.page_price == PagePrice::Tariff && u.price.is_none() {
                    return Err(StartError::UnknownPrice {
                        client: c.name.clone(),
                        provider: u.provider,
                        env: u.provider.as_str().to_uppercase(),
                    });
                }
            }
        }
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
            clients,
            budgets: Budgets::default(),
            ledger,
            metrics: Metrics::new(&routes),
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

    /// The provider refused for too many calls or is down: no turn for the next
    /// [`BACK_OFF`](crate::sources::BACK_OFF).
    pub(crate) async fn back_off(&self, provider: Provider) {
        if self.upstream(provider).pace.is_some() {
            let queue = format!("pace:{provider}");
            let _ = self
                .cache
                .take_turn(&queue, crate::sources::BACK_OFF, None)
                .await;
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
                    if c.cache.encryption_key.is_some() {
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
        lines.push(if self.clients.is_empty() {
            "accept any caller on loopback (no [[clients]])".to_owned()
        } else {
            format!(
                "accept {} client key(s); {} with a daily budget",
                self.clients.len(),
                self.clients.iter().filter(|cl| cl.budget.is_some()).count()
            )
        });
        lines.push(match &c.ledger_path {
            Some(p) => format!("append the spend ledger to {}", p.display()),
            None => "write the spend ledger to the log only".to_owned(),
        });
        lines
    }

    /// Whether client keys are configured (then every request needs one).
    pub(crate) fn clients_required(&self) -> bool {
        !self.clients.is_empty()
    }

    /// The client whose key this is.
    pub(crate) fn client_by_key(&self, key: &Secret) -> Option<&Client> {
        let h = hash(key);
        // Compare every key in full: the time taken does not tell which prefix matched.
        self.clients.iter().fold(None, |found, c| {
            let same = c
                .key_hash
                .iter()
                .zip(h.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            if same { Some(c) } else { found }
        })
    }

    /// The most one call of a query costing `cost` may cost: what a budget reserves.
    fn max_price(&self, provider: Provider, cost: Cost) -> Money {
        match cost {
            Cost::Free => Money::ZERO,
            _ => cost
                .typical()
                .or(self.upstream(provider).price)
                .unwrap_or(Money::ZERO),
        }
    }

    /// What a call judged `billed` cost: the reported price, else the configured or page
    /// price; for [`Billed::Unknown`], what was reserved (it may have been billed).
    fn price_of(&self, provider: Provider, billed: Billed, cost: Cost) -> Money {
        match billed {
            Billed::Yes(Some(m)) => m,
            Billed::Yes(None) | Billed::Unknown => self
                .upstream(provider)
                .price
                .or(cost.typical())
                .unwrap_or(Money::ZERO),
            Billed::No => Money::ZERO,
        }
    }

    /// The names `/v1/spend` reports on: every configured client, or `anonymous`.
    pub(crate) fn client_names(&self) -> Vec<Arc<str>> {
        if self.clients.is_empty() {
            vec![Client::anonymous().name]
        } else {
            self.clients.iter().map(|c| Arc::clone(&c.name)).collect()
        }
    }
}

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
    /// The reservation of the call in progress: its day and amount.
    reserved: Mutex<Option<(Date, Money)>>,
    /// With a free source configured: the flight's query, asked of it first.
    sourced: Option<Arc<Sourced>>,
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
            if let Some(sourced) = &self.sourced {
                match crate::sources::ask_free(&self.state, sourced, &self.client).await {
                    FreeOutcome::Answered(answer) => return Ok(answer),
                    FreeOutcome::Failed(e) => return Err(e),
                    FreeOutcome::AskPaid => {}
                }
            }
            let upstream = self.state.upstream(self.provider);
            self.state.wait_turn(self.provider, None).await;
            let _permit = upstream.limit.acquire().await;
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
            match call.verdict {
                Verdict::ProviderError { code, .. } => state.metrics.provider_error(provider, code),
                Verdict::Unreadable { .. } => state.metrics.provider_error(provider, "unreadable"),
                _ => {}
            }
            match billed {
                Billed::Yes(_) => state.metrics.spent(provider, price),
                Billed::Unknown => state.metrics.billed_unknown(provider),
                Billed::No => {}
            }
            if let (Some(sourced), Verdict::Answer { .. }) = (&self.sourced, call.verdict) {
                let name = sourced.route.name_of(call.verdict);
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
                .record(&state.cache, &self.client.name, call, price)
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
    let sourced = state
        .upstream(provider)
        .free
        .clone()
        .map(|route| Arc::new(Sourced::new(Arc::clone(&lookup), route)));
    let lookup: Arc<dyn Lookup> = match &sourced {
        Some(s) => Arc::clone(s) as Arc<dyn Lookup>,
        None => lookup,
    };
    // Built only when this request leads a flight.
    let fetch = || ProxyFetch {
        state: Arc::clone(state),
        provider,
        lookup: Arc::clone(&lookup),
        credential: call.credential,
        client: call.client,
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
