//! The environment the command line reads: every `PROVERKA_…` variable, and its
//! `<VAR>_FILE` form read from the named file as the proxy reads it (systemd credentials,
//! container secrets), so a token never has to sit in the environment itself.

use std::sync::OnceLock;

static RESOLVED: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Reads the `PROVERKA_…` variables once, their `_FILE` forms included, before anything
/// else runs.
///
/// # Errors
/// Both forms of one variable set, or a file that cannot be read (named by its path, never
/// by its content).
pub(crate) fn load() -> Result<(), proverka_core::EnvFileError> {
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("PROVERKA_"))
        .collect();
    let resolved = proverka_core::env_with_files(&env, |var| var.starts_with("PROVERKA_"))?;
    let _ = RESOLVED.set(resolved);
    Ok(())
}

/// A variable's value, from `<name>` or `<name>_FILE`; `None` when unset or blank.
pub(crate) fn var(name: &str) -> Option<String> {
    let value = match RESOLVED.get() {
        Some(env) => env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        None => std::env::var(name).ok(),
    };
    value.filter(|v| !v.trim().is_empty())
}
