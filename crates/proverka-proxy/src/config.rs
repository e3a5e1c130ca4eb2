//! Configuration: a TOML file, every key overridable by a `PROVERKA_…` environment variable
//! (secrets preferably so). See `docs/proxy.md` for the reference.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use proverka_core::{Money, Secret};
use serde::Deserialize;

mod env;
mod reload;

use env::{env_keys, env_value, set_path, with_files};
use reload::restart_only;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `pretty` (default) or `json` log lines.
    #[serde(default)]
    pub log_format: LogFormat,
    /// How long a SIGTERM waits for provider calls in flight to finish and be stored.
    #[serde(default = "default_grace")]
    pub shutdown_grace_secs: u64,
    /// A separate address for `/metrics`, `/healthz` and `/readyz`, served there without a
    /// client key (bind it where only the monitoring reaches); `/metrics` then leaves the main
    /// listener. Absent: `/metrics` is on the main listener, behind the client keys when
    /// they are configured.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// The longest query string accepted (bytes); longer ones get 414.
    #[serde(default = "default_max_query")]
    pub max_query_bytes: usize,
    /// Limits of the HTTP server.
    #[serde(default)]
    pub http: HttpLimits,
    /// The cache.
    #[serde(default)]
    pub cache: CacheConfig,
    /// `[providers.<name>]`: one section per provider of the registry, by its name in
    /// metrics; a name the registry does not know is refused.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Retries of free, retryable provider failures.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Client keys and budgets; required to listen beyond loopback.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Where the spend ledger is appended as JSON lines (one per provider call); absent: the
    /// ledger goes to the log target `proverka::ledger` only.
    #[serde(default)]
    pub ledger_path: Option<std::path::PathBuf>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    #[default]
    Pretty,
    /// One JSON object a line.
    Json,
}

/// `[http]`: what one client can hold of the proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLimits {
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open (default 10).
    #[serde(default = "default_header_timeout")]
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers) in bytes; larger gets 431 (default
    /// 16384).
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Open connections at most, per worker thread (default 1024); more wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: default_header_timeout(),
            max_header_bytes: default_max_header_bytes(),
            max_connections: default_max_connections(),
        }
    }
}

fn default_max_flights() -> usize {
    10_000
}
fn default_header_timeout() -> u64 {
    10
}
fn default_max_header_bytes() -> usize {
    16 * 1024
}
fn default_max_connections() -> usize {
    1024
}

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

/// `[[clients]]`: one internal service allowed to use the proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// A name for logs and metrics.
    pub name: String,
    /// Its key (sent as the provider's `token`/`key` parameter or `X-Proverka-Key`).
    pub key: Secret,
    /// What it may spend on paid answers per Moscow day; absent: unlimited.
    #[serde(default)]
    pub daily_budget_rub: Option<f64>,
    /// Whether this client's `Cache-Control` may cause a paid refetch (`no-cache`, `max-age=0`,
    /// a `max-age` below a cached answer's age). Default false: others get the cached answer,
    /// marked `X-Proverka-Refresh: denied`.
    #[serde(default)]
    pub may_refresh: bool,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_grace() -> u64 {
    30
}
fn default_max_query() -> usize {
    4096
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
fn default_attempts() -> u32 {
    3
}
fn default_backoff() -> u64 {
    500
}

/// Why the configuration cannot be used. Messages name keys, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The TOML or a value in it is wrong.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// Listening beyond loopback needs client keys.
    #[error(
        "refusing to listen on {0} without [[clients]]: anyone on the network could spend the provider budget"
    )]
    OpenListener(SocketAddr),
}

impl Config {
    /// Reads `path` (if any), applies the environment, validates.
    ///
    /// # Errors
    /// [`ConfigError`].
    pub fn load(path: Option<&Path>, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        Self::from_toml(&text, env)
    }

    /// Parses TOML text, applies the environment, validates.
    ///
    /// # Errors
    /// [`ConfigError`].
    pub fn from_toml(text: &str, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(e.message().to_owned()))?;
        let env = &with_files(env)?;
        for (var, path) in env_keys() {
            if let Some((_, value)) = env.iter().find(|(k, _)| *k == var) {
                set_path(&mut table, &path, env_value(&path, value));
            }
        }
        let mut config: Self = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        // `[[clients]]` from the environment: a JSON array of {name, key, daily_budget_rub,
        // may_refresh}; it replaces the file's list (keys are secrets: keep them out of files).
        if let Some((_, json)) = env.iter().find(|(k, _)| k == "PROVERKA_CLIENTS") {
            config.clients = serde_json::from_str(json).map_err(|e| {
                ConfigError::Invalid(format!(
                    "PROVERKA_CLIENTS must be a JSON array of clients (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?;
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let known = crate::registry::names();
        if let Some(name) = self.providers.keys().find(|n| !known.contains(&n.as_str())) {
            return Err(ConfigError::Invalid(format!(
                "[providers.{name}]: no such provider; known: {}",
                known.join(", ")
            )));
        }
        let with_free_source: Vec<&str> = crate::registry::free_sources()
            .iter()
            .filter(|s| known.contains(&s.free().as_str()))
            .map(|s| s.paid().as_str())
            .collect();
        for (name, section) in &self.providers {
            if section.source.is_some_and(|s| s != SourceMode::Paid)
                && !with_free_source.contains(&name.as_str())
            {
                return Err(ConfigError::Invalid(format!(
                    "providers.{name}.source: {name} has no free source (only {} have)",
                    with_free_source.join(", ")
                )));
            }
            if section.per_minute == Some(0) {
                return Err(ConfigError::Invalid(format!(
                    "providers.{name}.per_minute must be at least 1"
                )));
            }
        }
        if !self.listen.ip().is_loopback() && self.clients.is_empty() {
            return Err(ConfigError::OpenListener(self.listen));
        }
        for (i, c) in self.clients.iter().enumerate() {
            if c.key.is_blank() || c.key.expose().len() < 8 {
                return Err(ConfigError::Invalid(format!(
                    "clients[{i}] ({}): key must be at least 8 characters",
                    c.name
                )));
            }
        }
        if self.cache.redis_url.is_some() && !self.cache.redis_cluster.is_empty() {
            return Err(ConfigError::Invalid(
                "set cache.redis_url or cache.redis_cluster, not both".into(),
            ));
        }
        let redis = self.cache.redis_url.is_some() || !self.cache.redis_cluster.is_empty();
        let keyring = self.cache.keyring().map_err(ConfigError::Invalid)?;
        if redis && keyring.is_none() && !self.cache.allow_plaintext {
            return Err(ConfigError::Invalid(
                "Redis is configured without cache.encryption_key: answers there hold names, INNs, birth dates and passports. Set cache.encryption_key (PROVERKA_CACHE_ENCRYPTION_KEY, 64 hex digits) or, on purpose, cache.allow_plaintext = true".into(),
            ));
        }
        Ok(())
    }

    /// The keys whose change needs a restart and differ between `self` (in force) and
    /// `new` (a re-read file): listen addresses, limits, the cache and Redis, the ledger,
    /// retries, and every provider setting but its price. Names only, never values. What
    /// SIGHUP applies (clients, budgets, prices) is not listed.
    pub fn needs_restart(&self, new: &Config) -> Vec<String> {
        let (old, new) = (restart_only(self), restart_only(new));
        let mut keys: Vec<String> = old
            .iter()
            .filter(|(k, v)| new.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .chain(new.keys().filter(|k| !old.contains_key(*k)).cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The configuration of one provider (its defaults when it has no section).
    pub fn provider(&self, p: proverka_core::Provider) -> &ProviderConfig {
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
        self.providers.get(p.as_str()).unwrap_or(&DEFAULTS)
    }

    /// The configuration of one provider, to change it (made when absent).
    pub fn provider_mut(&mut self, p: proverka_core::Provider) -> &mut ProviderConfig {
        self.providers.entry(p.as_str().to_owned()).or_default()
    }
}
