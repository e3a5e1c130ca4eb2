//! The spend ledger: one record per provider call, to the log target `proverka::ledger` and,
//! when `ledger_path` is set, to an append-only JSON-lines file (one line per call, written
//! with one `write` and flushed before the next). Spend per client and provider per Moscow
//! day is also counted, here and (with Redis) on counters shared by the replicas, for
//! `GET /v1/spend`.
//!
//! A record holds no secret and no personal data: the client's configured name, the provider,
//! the query kind, a short hash of the cache key (itself a digest of the canonical query), the
//! billing, the verdict code (sanitised: free text a provider puts in an error becomes
//! `other`), the HTTP status and the latency.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_cache::{ProviderCall, TieredCache};
use proverka_core::{Billed, Date, Money, Provider};
use serde::Serialize;

/// One provider call, as written to the ledger.
#[derive(Debug, Serialize)]
pub(crate) struct LedgerRecord<'a> {
    /// Unix time in milliseconds.
    pub(crate) ts_ms: u64,
    /// The Moscow day it counts against (`YYYY-MM-DD`).
    pub(crate) day: String,
    /// The client's configured name (`anonymous` without client keys).
    pub(crate) client: &'a str,
    /// The `X-Request-Id` of the request that led the flight (joiners paid nothing).
    pub(crate) request_id: &'a str,
    /// The provider.
    pub(crate) provider: Provider,
    /// The query kind (`physical`, `address`, `status`, `registry`, …).
    pub(crate) kind: &'static str,
    /// The first 16 hex digits of the cache key's digest: the same query, the same value.
    pub(crate) key: String,
    /// 1 for the flight's first call, 2, 3… for free retries.
    pub(crate) attempt: u32,
    /// `free`, `charged` or `unknown`.
    pub(crate) billed: &'static str,
    /// The price counted for it, in rubles (`"1.40"`); for `unknown`, the price reserved.
    pub(crate) price_rub: Money,
    /// `ok`, the provider's error code, or `unreadable`.
    pub(crate) code: String,
    /// The HTTP status, when an answer came back.
    pub(crate) http_status: Option<u16>,
    /// From sending to the end of the answer, in milliseconds.
    pub(crate) latency_ms: u64,
    /// Whether the proxy sent the query again after this call (a free, retryable failure).
    pub(crate) resent: bool,
}

/// A verdict code as the ledger keeps it: codes are short and ASCII; anything else (a
/// provider's free-text error) becomes `other`, so no query value can reach the ledger.
fn ledger_code(code: &str) -> String {
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

/// What one client spent with one provider on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Spend {
    /// Rubles billed (certainly).
    pub(crate) spent_rub: Money,
    /// Provider calls made.
    pub(crate) calls: i64,
    /// Calls that may have been billed and brought no readable answer.
    pub(crate) billed_unknown: i64,
}

/// The ledger of this process.
#[derive(Debug)]
pub(crate) struct Ledger {
    file: Option<Mutex<File>>,
    local: Mutex<HashMap<SpendKey, Spend>>,
}

/// A Moscow day, a client, a provider.
type SpendKey = (Date, Arc<str>, Provider);

/// Shared spend counters live past their day, whatever the clocks say.
const COUNTER_TTL: Duration = Duration::from_secs(8 * 24 * 3600);

fn counter_id(day: Date, client: &str, provider: Provider, what: &str) -> String {
    format!("spend/{}/{client}/{provider}/{what}", day.to_iso())
}

impl Ledger {
    /// A ledger writing to `path` (appending) when given.
    pub(crate) fn open(path: Option<&Path>) -> std::io::Result<Self> {
        let file = match path {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )),
            None => None,
        };
        Ok(Self {
            file,
            local: Mutex::default(),
        })
    }

    /// Records one provider call for `client`, counted at `price`.
    pub(crate) async fn record(
        &self,
        cache: &TieredCache,
        client: &Arc<str>,
        request_id: &str,
        call: &ProviderCall<'_>,
        price: Money,
    ) {
        let now = SystemTime::now();
        let day = Date::moscow_date_at(now);
        let provider = call.lookup.provider();
        let billed = call.verdict.billed();
        let record = LedgerRecord {
            ts_ms: now
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            day: day.to_iso(),
            client,
            request_id,
            provider,
            kind: call.lookup.query_kind(),
            key: call.lookup.cache_key().to_hex()[..16].to_owned(),
            attempt: call.attempt,
            billed: billed.as_str(),
            price_rub: price,
            code: ledger_code(call.verdict.code()),
            http_status: call.raw.map(|r| r.status),
            latency_ms: u64::try_from(call.latency.as_millis()).unwrap_or(u64::MAX),
            resent: call.resent,
        };
        let line = serde_json::to_string(&record).unwrap_or_default();
        // One field per column, so `log_format = "json"` writes the record as JSON fields.
        tracing::info!(
            target: "proverka::ledger",
            ts_ms = record.ts_ms,
            day = %record.day,
            client = record.client,
            request_id = record.request_id,
            provider = %record.provider,
            kind = record.kind,
            key = %record.key,
            attempt = record.attempt,
            billed = record.billed,
            price_rub = %record.price_rub,
            code = %record.code,
            http_status = record.http_status,
            latency_ms = record.latency_ms,
            resent = record.resent,
            "provider call"
        );
        if let Some(file) = &self.file {
            let mut f = file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let written = f
                .write_all(format!("{line}\n").as_bytes())
                .and_then(|()| f.flush());
            if let Err(e) = written {
                tracing::error!(error = %e, "the ledger file could not be written");
            }
        }
        let spent = if billed.is_yes() { price } else { Money::ZERO };
        let unknown = i64::from(billed == Billed::Unknown);
        {
            let mut local = self
                .local
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let cell = local
                .entry((day, Arc::clone(client), provider))
                .or_default();
            cell.spent_rub = cell.spent_rub.saturating_add(spent);
            cell.calls += 1;
            cell.billed_unknown += unknown;
        }
        for (what, delta) in [("rub", spent.kopecks()), ("calls", 1), ("unknown", unknown)] {
            if delta != 0 {
                cache
                    .shared_counter_add(
                        &counter_id(day, client, provider, what),
                        delta,
                        None,
                        COUNTER_TTL,
                    )
                    .await;
            }
        }
    }

    /// Spend on `day` per client and provider: the replicas' shared counters where Redis
    /// answers, this process's own otherwise. Only non-zero rows are listed.
    pub(crate) async fn spend(
        &self,
        cache: &TieredCache,
        clients: &[Arc<str>],
        providers: &[Provider],
        day: Date,
    ) -> BTreeMap<String, BTreeMap<Provider, Spend>> {
        let mut out: BTreeMap<String, BTreeMap<Provider, Spend>> = BTreeMap::new();
        for client in clients {
            for &provider in providers {
                let local = self
                    .local
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&(day, Arc::clone(client), provider))
                    .copied()
                    .unwrap_or_default();
                let read = |what: &'static str| {
                    let id = counter_id(day, client, provider, what);
                    async move {
                        cache
                            .shared_counter_add(&id, 0, None, COUNTER_TTL)
                            .await
                            .map(|(_, v)| v)
                    }
                };
                let spend = match (
                    read("rub").await,
                    read("calls").await,
                    read("unknown").await,
                ) {
                    (Some(rub), Some(calls), Some(unknown)) => Spend {
                        spent_rub: Money::from_kopecks(rub).max(local.spent_rub),
                        calls: calls.max(local.calls),
                        billed_unknown: unknown.max(local.billed_unknown),
                    },
                    _ => local,
                };
                if spend != Spend::default() {
                    out.entry(client.to_string())
                        .or_default()
                        .insert(provider, spend);
                }
            }
        }
        out
    }
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
