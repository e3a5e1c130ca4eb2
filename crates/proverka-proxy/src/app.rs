//! The proxy's state and the one pipeline every proxied request goes through:
//! client key → validation → cache → budget → concurrency limit and retries → provider.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proverka_cache::{FetchOptions, RedisOptions, RedisStore, RemoteStore, Served, TieredCache};
use proverka_core::{
    Auth, CacheKey, Charge, Cost, Date, HttpClient, HttpSettings, Lookup, Money, Provider,
    RawAnswer, RetryPolicy, Secret, TransportError, UpstreamRequest, Verdict,
};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::metrics::Metrics;

/// How a provider is reached.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) provider: Provider,
    http: HttpClient,
    /// The credential from the config: injected, and the cache shared by all clients.
    pub(crate) credential: Option<Arc<Secret>>,
    limit: Arc<Semaphore>,
    /// The price of a paid answer the provider does not price itself.
    price: Option<Money>,
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

/// Spend per client per Moscow day.
#[derive(Debug, Default)]
struct Budgets {
    spent: HashMap<Arc<str>, (Date, Money)>,
}

/// Everything a request needs.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) cache: TieredCache,
    upstreams: Vec<Upstream>,
    clients: Vec<Client>,
    budgets: Mutex<Budgets>,
    pub(crate) metrics: Metrics,
    pub(crate) memo: crate::routes::ParseMemo,
    retry: RetryPolicy,
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
}

fn default_base(p: Provider) -> &'static str {
    match p {
        Provider::Fssp => proverka_fssp::DEFAULT_BASE_URL,
        Provider::Court => proverka_court::DEFAULT_BASE_URL,
        Provider::Npd => proverka_npd::DEFAULT_BASE_URL,
        Provider::Alfa => proverka_alfa::PRODUCTION_BASE_URL,
    }
}

fn default_timeout(p: Provider) -> Duration {
    match p {
        Provider::Fssp => proverka_fssp::DEFAULT_TIMEOUT,
        Provider::Court => proverka_court::DEFAULT_TIMEOUT,
        Provider::Npd => proverka_npd::DEFAULT_TIMEOUT,
        Provider::Alfa => proverka_alfa::DEFAULT_TIMEOUT,
    }
}

pub(crate) fn hash(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
}

impl AppState {
    pub(crate) fn new(config: Config) -> Result<Self, StartError> {
        let mut upstreams = Vec::new();
        for provider in Provider::ALL {
            let pc = config.provider(provider);
            let base = pc.base_url.as_deref().unwrap_or(default_base(provider));
            let timeout = pc
                .timeout_secs
                .map_or(default_timeout(provider), Duration::from_secs);
            let settings = HttpSettings::new(base, timeout)
                .map_err(|source| StartError::Provider { provider, source })?;
            let http = HttpClient::new(provider, settings)
                .map_err(|source| StartError::Provider { provider, source })?;
            upstreams.push(Upstream {
                provider,
                http,
                credential: pc.credential().cloned().map(Arc::new),
                limit: Arc::new(Semaphore::new(pc.max_concurrency.unwrap_or(8).max(1))),
                price: pc.price(),
            });
        }
        let mut builder = TieredCache::builder()
            .memory_bytes(config.cache.memory_mb.saturating_mul(1024 * 1024))
            .key_prefix(config.cache.key_prefix.clone())
            .stale_grace(Duration::from_secs(config.cache.stale_grace_secs))
            .lock_ttl(Duration::from_secs(config.cache.lock_ttl_secs.max(1)));
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
        let retry = RetryPolicy {
            max_attempts: config.retry.max_attempts.max(1),
            base_delay: Duration::from_millis(config.retry.base_delay_ms),
            max_delay: Duration::from_secs(30),
        };
        Ok(Self {
            cache: builder.build(),
            upstreams,
            clients,
            budgets: Mutex::default(),
            metrics: Metrics::default(),
            memo: crate::routes::ParseMemo::new(),
            retry,
            config,
        })
    }

    pub(crate) fn upstream(&self, p: Provider) -> &Upstream {
        self.upstreams
            .iter()
            .find(|u| u.provider == p)
            .expect("an upstream for every provider")
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

    /// The price of one paid answer of `lookup` for budgets, when it is not reported.
    fn estimate(&self, provider: Provider, cost: Cost) -> Money {
        match cost {
            Cost::Free => Money::ZERO,
            _ => cost
                .typical()
                .or(self.upstream(provider).price)
                .unwrap_or(Money::ZERO),
        }
    }

    fn price_of(&self, provider: Provider, verdict: &Verdict, cost: Cost) -> Money {
        match verdict.charge() {
            Charge::Charged(Some(m)) => m,
            Charge::Charged(None) => self
                .upstream(provider)
                .price
                .or(cost.typical())
                .unwrap_or(Money::ZERO),
            _ => Money::ZERO,
        }
    }

    /// The shared counter of a client's spend on a Moscow day.
    fn budget_counter(client: &str, day: Date) -> String {
        format!("budget/{client}/{}", day.to_iso())
    }

    /// How long a day's counter lives: past the end of that day, whatever the clocks say.
    const BUDGET_TTL: Duration = Duration::from_secs(2 * 24 * 3600);

    /// What `client` spent today: the replicas' shared total when Redis answers, this
    /// process's own count otherwise (whichever is larger).
    async fn spent_today(&self, client: &Client) -> Money {
        let today = Date::today_moscow();
        let local = {
            let budgets = self
                .budgets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match budgets.spent.get(&client.name) {
                Some((day, spent)) if *day == today => *spent,
                _ => Money::ZERO,
            }
        };
        let shared = self
            .cache
            .shared_counter_add(
                &Self::budget_counter(&client.name, today),
                0,
                Self::BUDGET_TTL,
            )
            .await
            .map_or(Money::ZERO, Money::from_kopecks);
        local.max(shared)
    }

    /// Whether `client` can pay `price` today; records nothing.
    async fn within_budget(&self, client: &Client, price: Money) -> Result<(), BudgetExceeded> {
        let Some(budget) = client.budget else {
            return Ok(());
        };
        let spent = self.spent_today(client).await;
        if spent.saturating_add(price) > budget {
            return Err(BudgetExceeded {
                budget,
                spent,
                price,
            });
        }
        Ok(())
    }

    /// Records a paid answer against the client's day, here and on the shared counter.
    async fn record_spend(&self, client: &Arc<str>, price: Money) {
        let today = Date::today_moscow();
        {
            let mut budgets = self
                .budgets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry = budgets
                .spent
                .entry(Arc::clone(client))
                .or_insert((today, Money::ZERO));
            if entry.0 != today {
                *entry = (today, Money::ZERO);
            }
            entry.1 = entry.1.saturating_add(price);
        }
        if self
            .clients
            .iter()
            .any(|c| c.budget.is_some() && c.name == *client)
        {
            self.cache
                .shared_counter_add(
                    &Self::budget_counter(client, today),
                    price.kopecks(),
                    Self::BUDGET_TTL,
                )
                .await;
        }
    }
}

/// A client's daily budget would be exceeded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BudgetExceeded {
    pub(crate) budget: Money,
    pub(crate) spent: Money,
    pub(crate) price: Money,
}

/// How the upstream call authenticates, and whether the cache is shared.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// The config's credential: one cache for everyone.
    Configured(Arc<Secret>),
    /// The client's own: entries partitioned by a hash of it.
    PassThrough(Secret),
}

impl Credential {
    fn secret(&self) -> &Secret {
        match self {
            Self::Configured(s) => s,
            Self::PassThrough(s) => s,
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
}

/// One proxied query, validated.
pub(crate) struct Call {
    pub(crate) provider: Provider,
    pub(crate) lookup: Arc<dyn Lookup>,
    pub(crate) credential: Credential,
    pub(crate) client: Client,
    pub(crate) options: FetchOptions,
}

/// Why a proxied query got no provider answer.
#[derive(Debug)]
pub(crate) enum CallError {
    Budget(BudgetExceeded),
    Upstream { timeout: bool },
}

/// The provider call with the credential, the concurrency limit and retries of free,
/// retryable failures: what runs in the cache's detached task.
async fn call_provider(
    state: Arc<AppState>,
    provider: Provider,
    lookup: Arc<dyn Lookup>,
    credential: Credential,
    client: Arc<str>,
) -> Result<RawAnswer, TransportError> {
    let upstream = state.upstream(provider);
    let request = lookup.upstream_request();
    let mut attempt = 1;
    loop {
        let result = {
            let _permit = upstream.limit.acquire().await;
            state.metrics.provider_call(provider);
            let auth = match (provider, credential.secret()) {
                (Provider::Alfa, s) => Auth::Bearer(s),
                (Provider::Npd, s) => Auth::Query("key", s),
                (_, s) => Auth::Query("token", s),
            };
            upstream.http.get(&request, auth).await
        };
        let (retryable, charged) = match &result {
            Ok(raw) => {
                let verdict = lookup.judge(raw);
                if let Verdict::ProviderError { code, .. } = &verdict {
                    state.metrics.provider_error(provider, code);
                }
                let price = state.price_of(provider, &verdict, lookup.cost());
                if price > Money::ZERO {
                    state.metrics.spent(provider, price);
                    state.record_spend(&client, price).await;
                }
                report_gauges(&state, provider, raw);
                let charged = if verdict.charge().is_charged() {
                    proverka_core::Charged::Yes
                } else {
                    proverka_core::Charged::No
                };
                (
                    verdict.retryable() && !matches!(verdict, Verdict::Answer { .. }),
                    charged,
                )
            }
            Err(e) => {
                state.metrics.provider_error(provider, "transport");
                (e.retryable(), e.charged())
            }
        };
        match state.retry.next_delay(attempt, retryable, charged) {
            Some(delay) => {
                tracing::debug!(%provider, attempt, "retrying a free, retryable provider failure");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            None => return result,
        }
    }
}

/// Balance and quota as the provider last reported them.
fn report_gauges(state: &AppState, provider: Provider, raw: &RawAnswer) {
    match provider {
        Provider::Fssp => {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&raw.body)
                && let Some(b) = v
                    .get("inquiry")
                    .and_then(|i| Money::from_json(&i["balance"]))
            {
                state.metrics.fssp_balance(b);
            }
        }
        Provider::Court => {
            if let Some(n) = proverka_court::queries_left(&raw.body) {
                state.metrics.court_left(n);
            }
        }
        _ => {}
    }
}

/// Runs one proxied query through the cache.
pub(crate) async fn execute(state: &Arc<AppState>, call: Call) -> Result<Served, CallError> {
    let lookup: Arc<dyn Lookup> = match &call.credential {
        Credential::PassThrough(secret) => Arc::new(Partitioned {
            inner: call.lookup,
            secret: secret.clone(),
        }),
        Credential::Configured(_) => call.lookup,
    };
    let provider = call.provider;
    let cost = lookup.cost();
    if !call.options.force_refresh
        && let Some(hit) = state.cache.cached(&*lookup, call.options.max_age).await
    {
        state.metrics.saved(
            provider,
            state.price_of(provider, &hit.answer.verdict, cost),
        );
        return Ok(hit);
    }
    if let Err(e) = state
        .within_budget(&call.client, state.estimate(provider, cost))
        .await
    {
        state.metrics.budget_refusal(&call.client.name);
        return Err(CallError::Budget(e));
    }
    let fetch = {
        let (state, lookup, credential, client) = (
            Arc::clone(state),
            Arc::clone(&lookup),
            call.credential.clone(),
            Arc::clone(&call.client.name),
        );
        move || call_provider(state, provider, lookup, credential, client)
    };
    match state
        .cache
        .get_or_fetch(Arc::clone(&lookup), call.options, fetch)
        .await
    {
        Ok(served) => {
            if !matches!(served.status, proverka_cache::CacheStatus::Miss) {
                state.metrics.saved(
                    provider,
                    state.price_of(provider, &served.answer.verdict, cost),
                );
            }
            Ok(served)
        }
        Err(e) => {
            let timeout = e
                .downcast_ref::<TransportError>()
                .is_some_and(|t| t.kind() == proverka_core::TransportErrorKind::Timeout);
            Err(CallError::Upstream { timeout })
        }
    }
}
