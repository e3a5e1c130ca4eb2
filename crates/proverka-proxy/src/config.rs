//! Configuration: a TOML file, every key overridable by a `PROVERKA_…` environment variable
//! (secrets preferably so). See `docs/proxy.md` for the reference.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use proverka_core::{Money, Secret};
use serde::Deserialize;

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

/// Environment variables and the config key each sets.
fn env_keys() -> Vec<(String, Vec<&'static str>)> {
    let mut keys: Vec<(String, Vec<&'static str>)> = vec![
        ("PROVERKA_LISTEN".into(), vec!["listen"]),
        ("PROVERKA_METRICS_LISTEN".into(), vec!["metrics_listen"]),
        (
            "PROVERKA_HTTP_HEADER_READ_TIMEOUT_SECS".into(),
            vec!["http", "header_read_timeout_secs"],
        ),
        (
            "PROVERKA_HTTP_MAX_HEADER_BYTES".into(),
            vec!["http", "max_header_bytes"],
        ),
        (
            "PROVERKA_HTTP_MAX_CONNECTIONS".into(),
            vec!["http", "max_connections"],
        ),
        ("PROVERKA_LOG_FORMAT".into(), vec!["log_format"]),
        (
            "PROVERKA_SHUTDOWN_GRACE_SECS".into(),
            vec!["shutdown_grace_secs"],
        ),
        ("PROVERKA_MAX_QUERY_BYTES".into(), vec!["max_query_bytes"]),
        ("PROVERKA_LEDGER_PATH".into(), vec!["ledger_path"]),
        (
            "PROVERKA_CACHE_MEMORY_MB".into(),
            vec!["cache", "memory_mb"],
        ),
        (
            "PROVERKA_CACHE_REDIS_URL".into(),
            vec!["cache", "redis_url"],
        ),
        (
            "PROVERKA_CACHE_REDIS_CLUSTER".into(),
            vec!["cache", "redis_cluster"],
        ),
        (
            "PROVERKA_CACHE_REDIS_CA_FILE".into(),
            vec!["cache", "redis_ca_file"],
        ),
        (
            "PROVERKA_CACHE_ENCRYPTION_KEY".into(),
            vec!["cache", "encryption_key"],
        ),
        (
            "PROVERKA_CACHE_ENCRYPTION_KEYS".into(),
            vec!["cache", "encryption_keys"],
        ),
        (
            "PROVERKA_CACHE_MAX_FLIGHTS".into(),
            vec!["cache", "max_flights"],
        ),
        (
            "PROVERKA_CACHE_ALLOW_PLAINTEXT".into(),
            vec!["cache", "allow_plaintext"],
        ),
        (
            "PROVERKA_CACHE_KEY_PREFIX".into(),
            vec!["cache", "key_prefix"],
        ),
        (
            "PROVERKA_CACHE_STALE_GRACE_SECS".into(),
            vec!["cache", "stale_grace_secs"],
        ),
        (
            "PROVERKA_CACHE_LOCK_TTL_SECS".into(),
            vec!["cache", "lock_ttl_secs"],
        ),
        (
            "PROVERKA_RETRY_MAX_ATTEMPTS".into(),
            vec!["retry", "max_attempts"],
        ),
        (
            "PROVERKA_RETRY_BASE_DELAY_MS".into(),
            vec!["retry", "base_delay_ms"],
        ),
    ];
    for provider in crate::registry::names() {
        for field in [
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
        ] {
            keys.push((
                format!(
                    "PROVERKA_PROVIDERS_{}_{}",
                    provider.to_uppercase(),
                    field.to_uppercase()
                ),
                vec!["providers", provider, field],
            ));
        }
    }
    keys
}

/// The environment with every `<VAR>_FILE` replaced by `<VAR>` set to the named file's
/// content (one trailing line break dropped): secrets from systemd credentials
/// (`$CREDENTIALS_DIRECTORY`) or container secrets (`/run/secrets/…`) without putting them in
/// the environment. Any variable the proxy reads may come from a file; giving both forms is
/// an error, as is a file that cannot be read (named by its path, never its content).
fn with_files(env: &[(String, String)]) -> Result<Vec<(String, String)>, ConfigError> {
    let known: Vec<String> = env_keys()
        .into_iter()
        .map(|(var, _)| var)
        .chain(std::iter::once("PROVERKA_CLIENTS".to_owned()))
        .collect();
    let mut out: Vec<(String, String)> = env.to_vec();
    for (name, path) in env {
        let Some(var) = name.strip_suffix("_FILE") else {
            continue;
        };
        if !known.iter().any(|k| k == var) {
            continue;
        }
        if env.iter().any(|(k, _)| k == var) {
            return Err(ConfigError::Invalid(format!(
                "both {var} and {name} are set: keep one"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Invalid(format!("{name}: cannot read {path}: {e}")))?;
        let value = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        out.push((var.to_owned(), value.to_owned()));
    }
    Ok(out)
}

fn env_value(key: &[&str], raw: &str) -> toml::Value {
    if matches!(key.last(), Some(&("redis_cluster" | "encryption_keys"))) {
        return toml::Value::Array(
            raw.split(',')
                .map(|s| toml::Value::String(s.trim().to_owned()))
                .collect(),
        );
    }
    let secret_or_text = matches!(
        key.last(),
        Some(
            &("token"
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
                | "source")
        )
    );
    if !secret_or_text {
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

fn set_path(root: &mut toml::Table, path: &[&str], value: toml::Value) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut table = root;
    for p in parents {
        let entry = table
            .entry((*p).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        table = entry.as_table_mut().expect("just made a table");
    }
    table.insert((*last).to_owned(), value);
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

/// Every setting that needs a restart, as text by its key; a secret as its SHA-256, so a
/// changed secret is seen without being held in the clear twice.
fn restart_only(c: &Config) -> BTreeMap<String, String> {
    use sha2::Digest as _;
    let secret = |s: &Option<Secret>| {
        s.as_ref().map_or_else(String::new, |s| {
            format!("{:x}", sha2::Sha256::digest(s.expose().as_bytes()))
        })
    };
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), v);
    };
    put("listen", c.listen.to_string());
    put("metrics_listen", format!("{:?}", c.metrics_listen));
    put("log_format", format!("{:?}", c.log_format));
    put("shutdown_grace_secs", c.shutdown_grace_secs.to_string());
    put("max_query_bytes", c.max_query_bytes.to_string());
    put("ledger_path", format!("{:?}", c.ledger_path));
    put(
        "http.header_read_timeout_secs",
        c.http.header_read_timeout_secs.to_string(),
    );
    put("http.max_header_bytes", c.http.max_header_bytes.to_string());
    put("http.max_connections", c.http.max_connections.to_string());
    put("cache.memory_mb", c.cache.memory_mb.to_string());
    put("cache.redis_url", secret(&c.cache.redis_url));
    put("cache.redis_cluster", c.cache.redis_cluster.join(","));
    put(
        "cache.redis_ca_file",
        format!("{:?}", c.cache.redis_ca_file),
    );
    put("cache.encryption_key", secret(&c.cache.encryption_key));
    put(
        "cache.encryption_keys",
        c.cache
            .encryption_keys
            .iter()
            .map(|k| secret(&Some(k.clone())))
            .collect::<Vec<_>>()
            .join(","),
    );
    put("cache.allow_plaintext", c.cache.allow_plaintext.to_string());
    put("cache.key_prefix", c.cache.key_prefix.clone());
    put(
        "cache.stale_grace_secs",
        c.cache.stale_grace_secs.to_string(),
    );
    put("cache.max_flights", c.cache.max_flights.to_string());
    put("cache.lock_ttl_secs", c.cache.lock_ttl_secs.to_string());
    put("retry.max_attempts", c.retry.max_attempts.to_string());
    put("retry.base_delay_ms", c.retry.base_delay_ms.to_string());
    // Every registered provider, so a section added with defaults changes nothing.
    for name in crate::registry::names() {
        let p = c.providers.get(name).cloned().unwrap_or_default();
        let key = |field: &str| format!("providers.{name}.{field}");
        put(&key("base_url"), format!("{:?}", p.base_url));
        put(&key("credential"), secret(&p.credential().cloned()));
        put(&key("timeout_secs"), format!("{:?}", p.timeout_secs));
        put(&key("max_concurrency"), format!("{:?}", p.max_concurrency));
        put(&key("max_body_bytes"), format!("{:?}", p.max_body_bytes));
        put(&key("per_minute"), format!("{:?}", p.per_minute));
        put(&key("source"), format!("{:?}", p.source));
        put(
            &key("free_max_wait_secs"),
            format!("{:?}", p.free_max_wait_secs),
        );
    }
    m
}
