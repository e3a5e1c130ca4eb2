//! The engine's settings: providers (`[providers.<name>]`), the cache (`[cache]`), retries
//! (`[retry]`), as the proxy's TOML file and the `PROVERKA_…` environment give them. The proxy's
//! configuration embeds these sections; the command line reads the same variables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use proverka_cache::{RedisOptions, RedisStore, RemoteStore, TieredCache};
use proverka_core::{Money, Provider, RetryPolicy, Secret};
use serde::Deserialize;

/// `[cache]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Memory tier size in MiB (default 256).
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// One Redis server (`redis://host:port/db`); absent: one process, memory only.
    #[serde(default)]
    pub redis_url: Option<Secret>,
    /// Redis Cluster nodes, instead of `redis_url`.
    #[serde(default)]
    pub redis_cluster: Vec<String>,
    /// With `rediss://` (TLS): the CA certificate (PEM file) that signed Redis's, when it is
    /// not one of the system's roots.
    #[serde(default)]
    pub redis_ca_file: Option<std::path::PathBuf>,
    /// 64 hex digits: encrypts values in Redis (they hold personal data). Required with Redis
    /// unless `allow_plaintext` is set on purpose.
    #[serde(default)]
    pub encryption_key: Option<Secret>,
    /// Several keys, for rotation (instead of `encryption_key`): the first encrypts new
    /// values, every one decrypts, entries keep their names. 64 hex digits each.
    #[serde(default)]
    pub encryption_keys: Vec<Secret>,
    /// Store answers in Redis unencrypted (names, INNs, birth dates, passports in plain text):
    /// only when set on purpose. Default false.
    #[serde(default)]
    pub allow_plaintext: bool,
    /// Prefix of every Redis key (default `proverka:`).
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// Serve an expired answer this long past expiry when the provider fails (default 0).
    #[serde(default)]
    pub stale_grace_secs: u64,
    /// Distinct provider calls in progress at most (default 10000); past it 503 `busy`, free.
    /// Calls outlive their callers, so this bounds what disconnecting clients leave running.
    #[serde(default = "default_max_flights")]
    pub max_flights: usize,
    /// Cross-replica lock TTL (default 10 s).
    #[serde(default = "default_lock_ttl")]
    pub lock_ttl_secs: u64,
    /// How long a miss that cannot reach Redis waits for it (a failover, a restart) before it
    /// calls the provider without the cross-replica lock, counted from when Redis began
    /// failing (default 20 s; 0: never wait). Set it above your cluster's failover time
    /// (`cluster-node-timeout` plus a few seconds).
    #[serde(default = "default_outage_wait")]
    pub outage_wait_secs: u64,
}

impl CacheConfig {
    /// The cache's keyring: `encryption_keys`, or the one `encryption_key`; `None` for
    /// neither. Messages name the key's place, never its value.
    ///
    /// # Errors
    /// Both set, a key that is not 64 hex digits, the same key twice.
    pub fn keyring(&self) -> Result<Option<proverka_cache::Keyring>, String> {
        let keys: Vec<&Secret> = match (&self.encryption_key, self.encryption_keys.is_empty()) {
            (Some(_), false) => {
                return Err(
                    "set cache.encryption_key or cache.encryption_keys, not both".to_owned(),
                );
            }
            (Some(k), true) => vec![k],
            (None, _) => self.encryption_keys.iter().collect(),
        };
        if keys.is_empty() {
            return Ok(None);
        }
        let parsed = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                proverka_cache::EncryptionKey::from_hex(k.expose()).map_err(|e| {
                    if self.encryption_key.is_some() {
                        format!("cache.encryption_key: {e}")
                    } else {
                        format!("cache.encryption_keys[{i}]: {e}")
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        proverka_cache::Keyring::new(parsed)
            .map(Some)
            .map_err(|e| format!("cache.encryption_keys: {e}"))
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            memory_mb: default_memory_mb(),
            redis_url: None,
            redis_cluster: Vec::new(),
            redis_ca_file: None,
            encryption_key: None,
            encryption_keys: Vec::new(),
            allow_plaintext: false,
            max_flights: default_max_flights(),
            key_prefix: default_prefix(),
            stale_grace_secs: 0,
            lock_ttl_secs: default_lock_ttl(),
            outage_wait_secs: default_outage_wait(),
        }
    }
}

/// One provider: `[providers.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Base URL (default: the provider's production host).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The provider's credential, for a provider whose credential travels as a query parameter
    /// (`token` and `key` are two names for it, after the providers' own parameter names).
    /// With it the proxy injects it and shares one cache; without it the client's own
    /// credential passes through and entries are partitioned by it.
    #[serde(default)]
    pub token: Option<Secret>,
    /// The provider's credential, as `token`.
    #[serde(default)]
    pub key: Option<Secret>,
    /// Whole-call timeout (default: what the provider's page asks clients to allow).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Provider calls at once (default 8; providers refuse beyond their own limits).
    #[serde(default)]
    pub max_concurrency: Option<usize>,
    /// Price of one paid answer in rubles, where the provider does not report it.
    #[serde(default)]
    pub price_rub: Option<f64>,
    /// The largest answer body read (default 8 MiB); a larger one is refused unread, not
    /// cached, not re-sent (the provider may have billed it).
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    /// Calls a minute to this provider at most, spaced evenly and shared by every replica
    /// through Redis (default: the provider's own per-IP limit where its page sets one, else
    /// none). A call waits for its turn; a refusal for too many calls pushes the next turns a
    /// minute later.
    #[serde(default)]
    pub per_minute: Option<u32>,
    /// Where this provider's questions go, for a provider with a free source in the
    /// registry: `paid` (default: nothing changes), `free` (the free source only), or
    /// `free-then-paid` (the free source while its queue is short and it is not refusing,
    /// else this provider).
    #[serde(default)]
    pub source: Option<SourceMode>,
    /// With `free-then-paid`: the longest expected wait in the free source's queue before a
    /// question goes to the paid provider instead (default 10 s).
    #[serde(default)]
    pub free_max_wait_secs: Option<u64>,
}

/// `source`: where a provider's questions go when the registry has a free source for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceMode {
    /// The paid provider only.
    #[default]
    Paid,
    /// The free source only (its failures are the caller's).
    Free,
    /// The free source while its expected wait is under `free_max_wait_secs` and it is not
    /// refusing; otherwise, and whenever it fails, the paid provider.
    FreeThenPaid,
}

impl ProviderConfig {
    /// The configured credential (`token` or `key`).
    pub fn credential(&self) -> Option<&Secret> {
        self.token
            .as_ref()
            .or(self.key.as_ref())
            .filter(|s| !s.is_blank())
    }

    /// The configured price.
    pub fn price(&self) -> Option<Money> {
        self.price_rub
            .filter(|p| p.is_finite() && *p >= 0.0)
            .map(|p| Money::from_kopecks((p * 100.0).round() as i64))
    }
}

/// `[retry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts in all (default 3).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First backoff (default 500 ms), doubled each time.
    #[serde(default = "default_backoff")]
    pub base_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: default_attempts(),
            base_delay_ms: default_backoff(),
        }
    }
}

fn default_max_flights() -> usize {
    10_000
}
fn default_memory_mb() -> u64 {
    256
}
fn default_prefix() -> String {
    "proverka:".into()
}
fn default_lock_ttl() -> u64 {
    10
}
fn default_outage_wait() -> u64 {
    20
}
fn default_attempts() -> u32 {
    3
}
fn default_backoff() -> u64 {
    500
}

impl RetryConfig {
    /// The policy the cache's flights follow.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base_delay: Duration::from_millis(self.base_delay_ms),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl CacheConfig {
    /// Whether a shared tier (Redis, Redis Cluster) is configured.
    pub fn shared(&self) -> bool {
        self.redis_url.is_some() || !self.redis_cluster.is_empty()
    }

    /// Checks what can be checked without connecting: one of `redis_url` and `redis_cluster`,
    /// keys that parse, and encryption (or `allow_plaintext` on purpose) with Redis.
    ///
    /// # Errors
    /// What is wrong, naming the key, never a value.
    pub fn validate(&self) -> Result<(), String> {
        if self.redis_url.is_some() && !self.redis_cluster.is_empty() {
            return Err("set cache.redis_url or cache.redis_cluster, not both".into());
        }
        let keyring = self.keyring()?;
        if self.shared() && keyring.is_none() && !self.allow_plaintext {
            return Err(
                "Redis is configured without cache.encryption_key: answers there hold names, INNs, birth dates and passports. Set cache.encryption_key (PROVERKA_CACHE_ENCRYPTION_KEY, 64 hex digits) or, on purpose, cache.allow_plaintext = true".into(),
            );
        }
        Ok(())
    }

    /// The two tiers: memory (`memory_mb` less the sixteenth the query memo takes) and, when
    /// configured, Redis or a Redis Cluster (encrypted with the keyring), with `retry` for
    /// the flights' free retries.
    ///
    /// # Errors
    /// An unreadable CA file, Redis settings the client refuses, keys that do not parse.
    pub fn build(&self, retry: &RetryConfig) -> Result<TieredCache, String> {
        let memory_bytes = self.memory_bytes();
        let mut builder = TieredCache::builder()
            .retry(retry.policy())
            .memory_bytes(memory_bytes - memory_bytes / 16)
            .key_prefix(self.key_prefix.clone())
            .stale_grace(Duration::from_secs(self.stale_grace_secs))
            .lock_ttl(Duration::from_secs(self.lock_ttl_secs.max(1)))
            .outage_wait(Duration::from_secs(self.outage_wait_secs))
            .max_flights(self.max_flights)
            .dictionaries(registry_dictionaries()?);
        // TLS (`rediss://`) with a private CA when one is configured.
        let ca = match &self.redis_ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| format!("redis_ca_file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let options = RedisOptions::default();
        let store = if let Some(url) = &self.redis_url {
            Some(match ca {
                Some(pem) => RedisStore::single_with_ca(url.expose(), pem, options),
                None => RedisStore::single(url.expose(), options),
            })
        } else if !self.redis_cluster.is_empty() {
            let nodes = &self.redis_cluster;
            Some(match ca {
                Some(pem) => RedisStore::cluster_with_ca(nodes, pem, options),
                None => RedisStore::cluster(nodes, options),
            })
        } else {
            None
        };
        if let Some(store) = store {
            let remote: Arc<dyn RemoteStore> = Arc::new(store.map_err(|e| e.to_string())?);
            builder = builder.remote(remote);
        }
        if let Some(keyring) = self.keyring()? {
            builder = builder.encryption_keys(keyring);
        }
        Ok(builder.build())
    }

    /// `memory_mb` in bytes: the answers' tier and the query memo share it.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mb.saturating_mul(1024 * 1024)
    }
}

/// The fields of a `[providers.<name>]` section, each also a `PROVERKA_PROVIDERS_<NAME>_<FIELD>`
/// variable.
pub const PROVIDER_FIELDS: [&str; 10] = [
    "base_url",
    "token",
    "key",
    "timeout_secs",
    "max_concurrency",
    "price_rub",
    "max_body_bytes",
    "per_minute",
    "source",
    "free_max_wait_secs",
];

/// An environment value as the TOML value of the key `field` it sets: text for secrets,
/// addresses and names (a token of digits stays text), a list for comma-separated lists, else
/// a boolean, an integer or a float when it reads as one.
pub fn env_value(field: &str, raw: &str) -> toml::Value {
    if matches!(field, "redis_cluster" | "encryption_keys") {
        return toml::Value::Array(
            raw.split(',')
                .map(|s| toml::Value::String(s.trim().to_owned()))
                .collect(),
        );
    }
    let text = matches!(
        field,
        "token"
            | "key"
            | "redis_url"
            | "redis_ca_file"
            | "encryption_key"
            | "base_url"
            | "listen"
            | "key_prefix"
            | "ledger_path"
            | "metrics_listen"
            | "log_format"
            | "source"
            | "store_path"
            | "store_url"
    );
    if !text {
        if let Ok(b) = raw.trim().parse::<bool>() {
            return toml::Value::Boolean(b);
        }
        if let Ok(i) = raw.parse::<i64>() {
            return toml::Value::Integer(i);
        }
        if let Ok(f) = raw.parse::<f64>() {
            return toml::Value::Float(f);
        }
    }
    toml::Value::String(raw.to_owned())
}

/// The `[providers.<name>]` sections the environment sets (`PROVERKA_PROVIDERS_<NAME>_<FIELD>`,
/// read through `var`, which also resolves `_FILE` forms), for every provider of the registry.
///
/// # Errors
/// A value of the wrong type, naming the variable.
pub fn providers_from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, ProviderConfig>, String> {
    let mut out = BTreeMap::new();
    for adapter in proverka::adapters() {
        let name = adapter.provider().as_str();
        let mut table = toml::Table::new();
        for field in PROVIDER_FIELDS {
            let variable = provider_variable(adapter.provider(), field);
            if let Some(raw) = var(&variable) {
                table.insert(field.to_owned(), env_value(field, &raw));
            }
        }
        if table.is_empty() {
            continue;
        }
        let section: ProviderConfig =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    format!(
                        "PROVERKA_PROVIDERS_{}_…: {}",
                        name.to_uppercase(),
                        e.message()
                    )
                })?;
        out.insert(name.to_owned(), section);
    }
    Ok(out)
}

/// The variable that sets `field` of a provider's section.
pub fn provider_variable(provider: Provider, field: &str) -> String {
    format!(
        "PROVERKA_PROVIDERS_{}_{}",
        provider.as_str().to_uppercase(),
        field.to_uppercase()
    )
}

/// Points every provider of the registry at `url` (a simulator of them all), with the
/// credential `credential_of` gives where none is set and a price of 1 RUB where none is set:
/// `--sandbox`.
pub fn point_at(
    providers: &mut BTreeMap<String, ProviderConfig>,
    url: &str,
    credential_of: impl Fn(Provider) -> Option<&'static str>,
) {
    for adapter in proverka::adapters() {
        let provider = adapter.provider();
        let section = providers.entry(provider.as_str().to_owned()).or_default();
        section.base_url = Some(url.to_owned());
        if section.credential().is_none()
            && let Some(c) = credential_of(provider)
        {
            section.token = Some(Secret::new(c));
        }
        section.price_rub.get_or_insert(1.0);
    }
}

/// The settings of one provider (its defaults when it has no section).
pub fn provider_config(
    providers: &BTreeMap<String, ProviderConfig>,
    p: Provider,
) -> &ProviderConfig {
    static DEFAULTS: ProviderConfig = ProviderConfig {
        base_url: None,
        token: None,
        key: None,
        timeout_secs: None,
        max_concurrency: None,
        price_rub: None,
        max_body_bytes: None,
        per_minute: None,
        source: None,
        free_max_wait_secs: None,
    };
    providers.get(p.as_str()).unwrap_or(&DEFAULTS)
}

/// Checks the provider sections against the registry: known names, free sources only where
/// the registry has one, `per_minute` at least 1.
///
/// # Errors
/// What is wrong, naming the key.
pub fn validate_providers(providers: &BTreeMap<String, ProviderConfig>) -> Result<(), String> {
    let known: Vec<&str> = proverka::adapters()
        .iter()
        .map(|a| a.provider().as_str())
        .collect();
    if let Some(name) = providers.keys().find(|n| !known.contains(&n.as_str())) {
        return Err(format!(
            "[providers.{name}]: no such provider; known: {}",
            known.join(", ")
        ));
    }
    let with_free_source: Vec<&str> = proverka::free_sources()
        .iter()
        .filter(|s| known.contains(&s.free().as_str()))
        .map(|s| s.paid().as_str())
        .collect();
    for (name, section) in providers {
        if section.source.is_some_and(|s| s != SourceMode::Paid)
            && !with_free_source.contains(&name.as_str())
        {
            return Err(format!(
                "providers.{name}.source: {name} has no free source (only {} have)",
                with_free_source.join(", ")
            ));
        }
        if section.per_minute == Some(0) {
            return Err(format!("providers.{name}.per_minute must be at least 1"));
        }
    }
    Ok(())
}

/// The zstd dictionaries every registered provider ships ([`ProviderSpec::dictionaries`]), for
/// the shared tier's values.
///
/// [`ProviderSpec::dictionaries`]: proverka_core::ProviderSpec::dictionaries
fn registry_dictionaries() -> Result<proverka_cache::Dictionaries, String> {
    proverka::adapters()
        .iter()
        .try_fold(proverka_cache::Dictionaries::new(), |all, adapter| {
            all.add(adapter.provider(), adapter.spec().dictionaries)
        })
        .map_err(|e| format!("the cache's compression dictionaries: {e}"))
}
