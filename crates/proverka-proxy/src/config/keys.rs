//! Who may use the proxy: `[[clients]]` (provider queries, their own spend and budget) and
//! `[[operators]]` (metrics, the status page, every client's spend). A key is written inline,
//! read from a file (`key_file`), or the whole list comes from the environment
//! (`PROVERKA_CLIENTS`, `PROVERKA_OPERATORS`: JSON arrays, or their `_FILE` forms). Secret files
//! that others can read are reported, not refused (containers mount secrets readable).

use std::path::{Path, PathBuf};

use proverka_core::Secret;
use serde::Deserialize;

use super::{Config, ConfigError};

fn blank() -> Secret {
    Secret::new("")
}

/// `[[clients]]`: one internal service allowed to use the proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Its stable id: its budget and spend belong to it, so renaming the client keeps its day.
    /// Default: `key-` and 16 hex digits of a digest of its key.
    #[serde(default)]
    pub id: Option<String>,
    /// A name for logs, metrics and reports.
    pub name: String,
    /// Its key (sent as the provider's `token`/`key` parameter or `X-Proverka-Key`), or
    /// `key_file`.
    #[serde(default = "blank")]
    pub key: Secret,
    /// A file holding its key (one trailing line break dropped), instead of `key`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// What it may spend on paid answers per Moscow day; absent: unlimited.
    #[serde(default)]
    pub daily_budget_rub: Option<f64>,
    /// Whether this client's `Cache-Control` may cause a paid refetch (`no-cache`, `max-age=0`,
    /// a `max-age` below a cached answer's age). Default false: others get the cached answer,
    /// marked `X-Proverka-Refresh: denied`.
    #[serde(default)]
    pub may_refresh: bool,
}

impl ClientConfig {
    /// Its stable id: `id`, else derived from its key.
    pub fn tenant_id(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| proverka_engine::Tenant::id_of_key(&self.key))
    }
}

/// `[[operators]]`: someone who watches the proxy: `/metrics`, `/ui`, `/v1/status` and every
/// client's `/v1/spend`. An operator's key queries no provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// A name for logs.
    pub name: String,
    /// Its key (`X-Proverka-Key`, `Authorization: Bearer`, or a browser's Basic password), or
    /// `key_file`.
    #[serde(default = "blank")]
    pub key: Secret,
    /// A file holding its key, instead of `key`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// `PROVERKA_CLIENTS` and `PROVERKA_OPERATORS` (JSON arrays): they replace the file's lists.
pub(super) fn from_environment(
    config: &mut Config,
    env: &[(String, String)],
) -> Result<(), ConfigError> {
    let json = |var: &str| env.iter().find(|(k, _)| k == var).map(|(_, v)| v);
    let invalid = |var: &str, what: &str, e: serde_json::Error| {
        ConfigError::Invalid(format!(
            "{var} must be a JSON array of {what} (line {}, column {})",
            e.line(),
            e.column()
        ))
    };
    if let Some(text) = json("PROVERKA_CLIENTS") {
        config.clients =
            serde_json::from_str(text).map_err(|e| invalid("PROVERKA_CLIENTS", "clients", e))?;
    }
    if let Some(text) = json("PROVERKA_OPERATORS") {
        config.operators = serde_json::from_str(text)
            .map_err(|e| invalid("PROVERKA_OPERATORS", "operators", e))?;
    }
    Ok(())
}

/// Reads every `key_file` into its entry's key.
pub(super) fn read_key_files(config: &mut Config) -> Result<(), ConfigError> {
    let entries = config
        .clients
        .iter_mut()
        .enumerate()
        .map(|(i, c)| (format!("clients[{i}]"), &mut c.key, &c.key_file))
        .chain(
            config
                .operators
                .iter_mut()
                .enumerate()
                .map(|(i, o)| (format!("operators[{i}]"), &mut o.key, &o.key_file)),
        );
    for (place, key, file) in entries {
        let Some(path) = file else { continue };
        if !key.is_blank() {
            return Err(ConfigError::Invalid(format!(
                "{place}: set key or key_file, not both"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::Invalid(format!("{place}.key_file {}: {e}", path.display()))
        })?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        *key = Secret::new(text.strip_suffix('\r').unwrap_or(text));
    }
    Ok(())
}

/// Keys long enough, one id per client, and no key that is both a client's and an operator's
/// (or two entries').
pub(super) fn validate(
    clients: &[ClientConfig],
    operators: &[OperatorConfig],
) -> Result<(), ConfigError> {
    let named = clients
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("clients[{i}] ({})", c.name), &c.key))
        .chain(
            operators
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("operators[{i}] ({})", o.name), &o.key)),
        )
        .collect::<Vec<_>>();
    for (place, key) in &named {
        if key.is_blank() || key.expose().len() < 8 {
            return Err(ConfigError::Invalid(format!(
                "{place}: key must be at least 8 characters"
            )));
        }
    }
    for (n, (place, key)) in named.iter().enumerate() {
        if let Some((other, _)) = named[n + 1..].iter().find(|(_, k)| k == key) {
            return Err(ConfigError::Invalid(format!(
                "{place} and {other} have the same key: a key is one client's or one operator's"
            )));
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    for c in clients {
        if !ids.insert(c.tenant_id()) {
            return Err(ConfigError::Invalid(format!(
                "clients: two clients have the id {:?}: a budget belongs to one",
                c.tenant_id()
            )));
        }
    }
    Ok(())
}

/// Secret files (`<VAR>_FILE`, `key_file`) that group or others may read: named with where
/// they come from, never with what they hold.
pub(super) fn secret_file_warnings(config: &Config, env: &[(String, String)]) -> Vec<String> {
    let from_env = env
        .iter()
        .filter(|(k, _)| k.starts_with("PROVERKA_") && k.ends_with("_FILE"))
        .map(|(k, v)| (k.clone(), PathBuf::from(v)));
    let from_keys =
        config
            .clients
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((format!("clients[{i}].key_file"), c.key_file.clone()?)))
            .chain(config.operators.iter().enumerate().filter_map(|(i, o)| {
                Some((format!("operators[{i}].key_file"), o.key_file.clone()?))
            }));
    from_env
        .chain(from_keys)
        .filter_map(|(place, path)| {
            let mode = readable_by_others(&path)?;
            Some(format!(
                "{place}: {} is readable by group or others (mode {mode:o}); a secret file is best 0600 (or 0400), owned by the service",
                path.display()
            ))
        })
        .collect()
}

/// The file's permission bits when group or others may read it.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> Option<u32> {
    None
}
