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
/// system's, or, with `PROVERKA_NOW=<seconds since 1970>` (decimals allowed), one that starts at that time and runs
/// on from there. For tests that move a simulator's clock instead of waiting, and for
/// replaying a schedule; a production run leaves it unset.
///
/// # Errors
/// `PROVERKA_NOW` that is not a number of seconds.
pub(crate) fn clock() -> Result<std::sync::Arc<dyn proverka_core::Clock>, String> {
    let Some(text) = var("PROVERKA_NOW") else {
        return Ok(std::sync::Arc::new(proverka_core::SystemClock));
    };
    let start = since_1970(text.trim()).ok_or_else(|| {
        format!("PROVERKA_NOW: {text:?} is not a number of seconds since 1970 (`1796626800.25`)")
    })?;
    Ok(std::sync::Arc::new(Shifted {
        start: std::time::UNIX_EPOCH + start,
        real: std::time::Instant::now(),
    }))
}

/// Seconds since 1970, with up to nine decimals (a test hands on its clock to the nanosecond,
/// so that a command started later never reads an earlier time).
fn since_1970(text: &str) -> Option<std::time::Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let nanos: u32 = format!("{fraction:0<9}").parse().ok()?;
    Some(std::time::Duration::new(seconds, nanos))
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::since_1970;

    #[test]
    fn a_time_is_read_to_the_nanosecond() {
        assert_eq!(since_1970("12"), Some(Duration::from_secs(12)));
        assert_eq!(since_1970("12.5"), Some(Duration::from_millis(12_500)));
        assert_eq!(
            since_1970("1796626800.000000001"),
            Some(Duration::new(1_796_626_800, 1))
        );
        for bad in ["", "x", "-1", "1.x", "1.0000000001", "1e9"] {
            assert_eq!(since_1970(bad), None, "{bad}");
        }
    }
}
