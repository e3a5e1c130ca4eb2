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

/// The clock a run reads (due subjects, "today", the store's times, the engine's day): the
/// system's, or, with `PROVERKA_NOW=<unix seconds>`, one that starts at that time and runs
/// on from there. For tests that move a simulator's clock instead of waiting, and for
/// replaying a schedule; a production run leaves it unset.
///
/// # Errors
/// `PROVERKA_NOW` that is not a number of seconds.
pub(crate) fn clock() -> Result<std::sync::Arc<dyn proverka_core::Clock>, String> {
    let Some(text) = var("PROVERKA_NOW") else {
        return Ok(std::sync::Arc::new(proverka_core::SystemClock));
    };
    let seconds: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("PROVERKA_NOW: {text:?} is not a number of seconds since 1970"))?;
    Ok(std::sync::Arc::new(Shifted {
        start: std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
        real: std::time::Instant::now(),
    }))
}

/// A clock that showed `start` when it was made, and runs on at the real pace.
#[derive(Debug)]
struct Shifted {
    start: std::time::SystemTime,
    real: std::time::Instant,
}

impl proverka_core::Clock for Shifted {
    fn now(&self) -> std::time::SystemTime {
        self.start + self.real.elapsed()
    }
}
