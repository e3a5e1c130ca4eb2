//! `PROVERKA_…` environment variables: which key each sets (the providers' from the
//! registry), `<VAR>_FILE` secrets, and the value's TOML type.

use super::ConfigError;

/// Environment variables and the config key each sets.
pub(super) fn env_keys() -> Vec<(String, Vec<&'static str>)> {
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
        ("PROVERKA_STORE_PATH".into(), vec!["store_path"]),
        ("PROVERKA_STORE_URL".into(), vec!["store_url"]),
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
            "PROVERKA_CACHE_OUTAGE_WAIT_SECS".into(),
            vec!["cache", "outage_wait_secs"],
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
    for adapter in proverka::adapters() {
        let provider = adapter.provider();
        for field in proverka_engine::config::PROVIDER_FIELDS {
            keys.push((
                proverka_engine::config::provider_variable(provider, field),
                vec!["providers", provider.as_str(), field],
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
pub(super) fn with_files(env: &[(String, String)]) -> Result<Vec<(String, String)>, ConfigError> {
    let known: Vec<String> = env_keys()
        .into_iter()
        .map(|(var, _)| var)
        .chain([
            "PROVERKA_CLIENTS".to_owned(),
            "PROVERKA_OPERATORS".to_owned(),
        ])
        .collect();
    proverka_core::env_with_files(env, |var| known.iter().any(|k| k == var))
        .map_err(|e| ConfigError::Invalid(e.to_string()))
}

pub(super) fn env_value(key: &[&str], raw: &str) -> toml::Value {
    proverka_engine::config::env_value(key.last().copied().unwrap_or_default(), raw)
}

pub(super) fn set_path(root: &mut toml::Table, path: &[&str], value: toml::Value) {
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
