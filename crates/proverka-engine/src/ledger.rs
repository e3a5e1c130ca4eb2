//! The ledger's other readers: each settled provider call as a line on the log target
//! `proverka::ledger` and, when `ledger_path` is set, appended to a JSON-lines file (an export
//! for log pipelines; the record of money is the store's ledger). And settlements the store
//! could not take when they were made, kept and written as soon as it answers again.
//!
//! A line holds no secret and no personal data: the client's id and name, the provider, the
//! query kind, 16 hex digits of the cache key's digest, the billing, the verdict code
//! (sanitised: free text a provider puts in an error becomes `other`), the HTTP status, the
//! latency.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use proverka_core::{Date, Money, Provider};
use proverka_store::{IntentId, Settlement, Store};
use serde::Serialize;

/// One provider call, as the log and the export show it.
#[derive(Debug, Serialize)]
pub(crate) struct LedgerLine<'a> {
    /// Unix time in milliseconds.
    pub(crate) ts_ms: u64,
    /// The Moscow day it counts against (`YYYY-MM-DD`).
    pub(crate) day: String,
    /// The client's configured name (`anonymous` without client keys).
    pub(crate) client: &'a str,
    /// The client's stable id.
    pub(crate) tenant: &'a str,
    /// The request id of the request that led the flight (joiners paid nothing).
    pub(crate) request_id: &'a str,
    /// The provider.
    pub(crate) provider: Provider,
    /// The query kind.
    pub(crate) kind: &'a str,
    /// The first 16 hex digits of the cache key's digest.
    pub(crate) key: &'a str,
    /// 1 for the flight's first call, 2, 3… for free retries.
    pub(crate) attempt: u32,
    /// `free`, `charged` or `unknown`.
    pub(crate) billed: &'static str,
    /// The price counted for it (for `unknown`, the price reserved).
    pub(crate) price_rub: Money,
    /// `ok`, the provider's error code, or `unreadable`.
    pub(crate) code: &'a str,
    /// The HTTP status, when an answer came back.
    pub(crate) http_status: Option<u16>,
    /// From sending to the end of the answer, in milliseconds.
    pub(crate) latency_ms: u64,
    /// Whether the query is sent again (a free, retryable failure).
    pub(crate) resent: bool,
}

/// A verdict code as the ledger keeps it: codes are short and ASCII; anything else (a
/// provider's free-text error) becomes `other`, so no query value can reach the ledger.
pub(crate) fn ledger_code(code: &str) -> String {
    let plain = code.len() <= 48
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:=() ".contains(&b));
    if plain {
        code.to_owned()
    } else {
        "other".to_owned()
    }
}

/// The log line and export of each call, and the settlements waiting for the store.
#[derive(Debug)]
pub(crate) struct Ledger {
    /// The export's path and the file open at it now.
    file: Option<(PathBuf, Mutex<File>)>,
    waiting: Mutex<Vec<(IntentId, Settlement)>>,
}

fn append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

impl Ledger {
    /// A ledger exporting to `path` (appending) when given.
    pub(crate) fn open(path: Option<&Path>) -> std::io::Result<Self> {
        let file = match path {
            Some(p) => Some((p.to_owned(), Mutex::new(append(p)?))),
            None => None,
        };
        Ok(Self {
            file,
            waiting: Mutex::default(),
        })
    }

    /// Opens the export again at its path (after logrotate renamed the file it wrote to).
    pub(crate) fn reopen(&self) -> std::io::Result<()> {
        if let Some((path, file)) = &self.file {
            let fresh = append(path)?;
            *file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        }
        Ok(())
    }

    /// Logs one settled call (and appends it to the export).
    pub(crate) fn log(&self, line: &LedgerLine<'_>) {
        // One field per column, so `log_format = "json"` writes the record as JSON fields.
        tracing::info!(
            target: "proverka::ledger",
            ts_ms = line.ts_ms,
            day = %line.day,
            client = line.client,
            tenant = line.tenant,
            request_id = line.request_id,
            provider = %line.provider,
            kind = line.kind,
            key = line.key,
            attempt = line.attempt,
            billed = line.billed,
            price_rub = %line.price_rub,
            code = line.code,
            http_status = line.http_status,
            latency_ms = line.latency_ms,
            resent = line.resent,
            "provider call"
        );
        if let Some((_, file)) = &self.file {
            let text = serde_json::to_string(line).unwrap_or_default();
            let mut f = file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let written = f
                .write_all(format!("{text}\n").as_bytes())
                .and_then(|()| f.flush());
            if let Err(e) = written {
                tracing::error!(error = %e, "the ledger export could not be written");
            }
        }
    }

    /// Settles an intent in the store; one the store cannot take now waits for
    /// [`Ledger::retry`] (a process that dies meanwhile leaves it to recovery: `unknown`).
    pub(crate) async fn settle(&self, store: &dyn Store, id: IntentId, settlement: Settlement) {
        if let Err(e) = store.settle(id, &settlement).await {
            tracing::warn!(error = %e, intent = id, "settlement kept until the store answers");
            self.lock_waiting().push((id, settlement));
        }
    }

    /// Writes the settlements that waited; returns how many still wait.
    pub(crate) async fn retry(&self, store: &dyn Store) -> usize {
        let waiting = std::mem::take(&mut *self.lock_waiting());
        let mut still = Vec::new();
        for (id, settlement) in waiting {
            if store.settle(id, &settlement).await.is_err() {
                still.push((id, settlement));
            }
        }
        let mut w = self.lock_waiting();
        w.extend(still);
        w.len()
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, Vec<(IntentId, Settlement)>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Milliseconds since the Unix epoch of a clock reading.
pub(crate) fn unix_ms(at: std::time::SystemTime) -> u64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The Moscow day of a clock reading, as the ledger writes it.
pub(crate) fn day_text(at: std::time::SystemTime) -> String {
    Date::moscow_date_at(at).to_iso()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_only_short_ascii() {
        assert_eq!(ledger_code("456"), "456");
        assert_eq!(ledger_code("invalid_token"), "invalid_token");
        assert_eq!(
            ledger_code("Query limit is null (0)"),
            "Query limit is null (0)"
        );
        assert_eq!(ledger_code("Адрес Казань, Московская 1 не найден"), "other");
        assert_eq!(ledger_code(&"x".repeat(49)), "other");
    }
}
