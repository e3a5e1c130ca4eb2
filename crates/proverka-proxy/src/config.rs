//! Configuration: a TOML file, every key overridable by a `PROVERKA_…` environment variable
//! (secrets preferably so). See `docs/proxy.md` for the reference.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use proverka_core::Secret;
use serde::Deserialize;

pub use keys::{ClientConfig, OperatorConfig};
pub use proverka_engine::{CacheConfig, ProviderConfig, RetryConfig, SourceMode};

mod env;
mod keys;
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
    /// Operator keys: `/metrics`, `/ui`, `/v1/status` and every client's `/v1/spend`.
    #[serde(default)]
    pub operators: Vec<OperatorConfig>,
    /// Also append every provider call, as JSON lines, to this file (an export for log
    /// pipelines; the ledger of record is the store's). Absent: the log target
    /// `proverka::ledger` only.
    #[serde(default)]
    pub ledger_path: Option<std::path::PathBuf>,
    /// The store of record (budgets, the ledger, batch state) in a SQLite file here, when no
    /// `store_url` is set. Default: `proverka-store.sqlite` in the working directory (the
    /// Debian package's unit sets its state directory).
    #[serde(default)]
    pub store_path: Option<std::path::PathBuf>,
    /// The store of record in PostgreSQL (`postgres://user:password@host/db`), shared by every
    /// replica: what a fleet needs. Overrides `store_path`.
    #[serde(default)]
    pub store_url: Option<Secret>,
    /// What loading noticed and did not refuse (a secret file others can read): logged at
    /// start and on reload, printed by `--check-config`.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Where the store of record is when neither `store_url` nor `store_path` says.
pub const DEFAULT_STORE_PATH: &str = "proverka-store.sqlite";

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

fn default_header_timeout() -> u64 {
    10
}
fn default_max_header_bytes() -> usize {
    16 * 1024
}
fn default_max_connections() -> usize {
    1024
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

/// Where in `text` a TOML error is, on one line: `line L, column C: message`.
fn located(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {}", e.message())
        }
        None => e.message().to_owned(),
    }
}

/// A value of the wrong shape, with the key it is at and where it came from: the variable
/// that set it, or its line in the file.
fn explain(
    text: &str,
    from_env: &[(String, String)],
    e: &serde_path_to_error::Error<toml::de::Error>,
) -> ConfigError {
    let key = e.path().to_string();
    let message = e.inner().message();
    if let Some((var, _)) = from_env.iter().find(|(_, k)| *k == key) {
        return ConfigError::Invalid(format!("{key} (from {var}): {message}"));
    }
    // The file as the TOML parser reads it points at the line.
    match toml::from_str::<Config>(text) {
        Err(file) if file.span().is_some() => {
            ConfigError::Invalid(format!("{key} ({})", located(text, &file)))
        }
        _ => ConfigError::Invalid(format!("{key}: {message}")),
    }
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
        let raw_env = env;
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(located(text, &e)))?;
        let env = &with_files(env)?;
        let mut from_env = Vec::new();
        for (var, path) in env_keys() {
            if let Some((_, value)) = env.iter().find(|(k, _)| *k == var) {
                set_path(&mut table, &path, env_value(&path, value));
                from_env.push((var, path.join(".")));
            }
        }
        let mut config: Self = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| explain(text, &from_env, &e))?;
        keys::from_environment(&mut config, env)?;
        keys::read_key_files(&mut config)?;
        config.warnings = keys::secret_file_warnings(&config, raw_env);
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        proverka_engine::config::validate_providers(&self.providers)
            .map_err(ConfigError::Invalid)?;
        self.check_listener(self.listen)?;
        keys::validate(&self.clients, &self.operators)?;
        self.cache.validate().map_err(ConfigError::Invalid)
    }

    /// The rule of a listener: beyond loopback, client keys are required. Checked at start
    /// against `listen`, and on reload against the socket actually bound (a reload cannot move
    /// the listener, so it must not open it).
    ///
    /// # Errors
    /// [`ConfigError::OpenListener`].
    pub fn check_listener(&self, bound: SocketAddr) -> Result<(), ConfigError> {
        if !bound.ip().is_loopback() && self.clients.is_empty() {
            return Err(ConfigError::OpenListener(bound));
        }
        Ok(())
    }

    /// Where the store of record is: `store_url`, else `store_path`, else
    /// [`DEFAULT_STORE_PATH`].
    pub fn store_location(&self) -> Secret {
        match (&self.store_url, &self.store_path) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => Secret::new(path.display().to_string()),
            (None, None) => Secret::new(DEFAULT_STORE_PATH),
        }
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
        proverka_engine::config::provider_config(&self.providers, p)
    }

    /// The configuration of one provider, to change it (made when absent).
    pub fn provider_mut(&mut self, p: proverka_core::Provider) -> &mut ProviderConfig {
        self.providers.entry(p.as_str().to_owned()).or_default()
    }
}
