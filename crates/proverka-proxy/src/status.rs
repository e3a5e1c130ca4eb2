//! The status page (`/ui`) and the numbers it shows (`/v1/status`), for an operator: per
//! provider, today's queries and how they were answered (hit ratio), rubles spent and saved,
//! calls in flight, p50 and p99 of the latest calls' time, queries refused locally by reason,
//! balance and quota as the provider last reported them; the latest provider errors, each with
//! its meaning from the adapter's table and what to do; each client's budget today (spent,
//! reserved, left); rubles spent and saved per provider per day over 30 days; and Redis's
//! state. Times are Moscow's, formatted here (24-hour), never the browser's.
//!
//! The replica's counters are read from the metrics `/metrics` exposes, less their values at
//! the start of the Moscow day (a task takes them at each midnight; zeros for a replica started
//! today), so the page and Prometheus agree; budgets, spend and the 30 days come from the store
//! of record (every replica's).

mod history;

use std::sync::{Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_cache::RemoteStatus;
use proverka_core::{CodeMeaning, Date, Money};
use proverka_store::SpendRow;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::today::{Counts, DayStart};
use crate::metrics::REFUSALS;

/// The page: one self-contained HTML file (no external asset), refreshing itself.
pub(crate) const PAGE: &str = include_str!("status.html");

/// Cache statuses answered without a provider call by this request.
const FREE_STATUSES: [usize; 3] = [0, 2, 3]; // HIT, COALESCED, STALE
/// `MISS`.
const MISS: usize = 1;

/// Rubles as the page shows them (two decimals).
fn rubles(v: f64) -> String {
    format!("{v:.2}")
}

fn counts(state: &AppState, index: usize) -> Counts {
    let mut by_status = [0u64; 5];
    for route in state.routes.routes_of(index) {
        for (total, n) in by_status.iter_mut().zip(state.metrics.requests_of(route)) {
            *total += n;
        }
    }
    let n = state.metrics.provider_numbers(state.providers()[index]);
    Counts {
        by_status,
        calls: n.calls,
        billed_unknown: n.billed_unknown,
        spent_rub: n.spent_rub,
        saved_rub: n.saved_rub + n.saved_by_free_source_rub,
        refused: state.metrics.refused_of(state.providers()[index]),
    }
}

/// At each Moscow midnight (on the engine's clock), takes the counters as the new day's
/// start, for as long as the proxy lives.
pub(crate) fn roll_days(state: Weak<AppState>) {
    tokio::spawn(async move {
        loop {
            let Some(now) = state.upgrade().map(|s| s.engine.presence().clock().now()) else {
                return;
            };
            let wait = Date::moscow_date_at(now).until_end_of_moscow_day(now);
            // A second past midnight: the new day for certain.
            tokio::time::sleep(wait + Duration::from_secs(1)).await;
            let Some(state) = state.upgrade() else {
                return;
            };
            start_day(&state);
        }
    });
}

/// Takes the counters now as the start of today.
fn start_day(state: &AppState) {
    let counts = (0..state.providers().len())
        .map(|i| counts(state, i))
        .collect();
    *lock(&state.day_start) = DayStart {
        day: Date::moscow_date_at(state.engine.presence().clock().now()),
        counts,
    };
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Moscow's offset from UTC (no daylight saving since 2014).
const MOSCOW_OFFSET_SECS: u64 = 3 * 3600;

/// The time of day in Moscow at `at`, 24-hour (`14:03:09`).
pub(crate) fn moscow_clock(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + MOSCOW_OFFSET_SECS;
    let of_day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// A code on the page: the adapter's meaning of it and what to do.
fn explained(state: &AppState, provider: proverka_core::Provider, code: &str) -> CodeMeaning {
    if code == CodeMeaning::UNREADABLE {
        return CodeMeaning::unreadable();
    }
    state
        .engine
        .upstream(provider)
        .adapter()
        .explain(code)
        .unwrap_or_else(CodeMeaning::not_in_table)
}

/// Each configured client's budget today, from the store of record (every replica's calls).
async fn clients(state: &AppState, day: Date, spend: &[SpendRow]) -> Vec<Value> {
    let store = state.engine.store();
    let mut out = Vec::new();
    for tenant in state.tenants() {
        let rows = spend.iter().filter(|r| *r.tenant == *tenant.id);
        let sum = |f: fn(&SpendRow) -> Money| {
            rows.clone().map(f).fold(Money::ZERO, Money::saturating_add)
        };
        let committed = store.committed(&tenant.id, day).await.ok();
        out.push(json!({
            "name": tenant.name,
            "daily_budget_rub": tenant.budget,
            "spent_rub": sum(|r| r.charged),
            "possibly_billed_rub": sum(|r| r.unknown),
            "reserved_rub": sum(|r| r.open),
            "left_rub": tenant.budget.zip(committed).map(|(b, c)| b.saturating_sub(c).max(Money::ZERO)),
        }));
    }
    out
}

/// `/v1/status`.
pub(crate) async fn status(state: &AppState) -> Value {
    let cache = state.engine.cache();
    let redis = match cache.remote_status().await {
        RemoteStatus::NotConfigured => "not_configured",
        RemoteStatus::Up => "up",
        RemoteStatus::Down => "down",
        RemoteStatus::Degraded => "degraded",
        RemoteStatus::Unauthorized => "unauthorized",
    };
    let (day, start) = {
        let d = lock(&state.day_start);
        (d.day, d.counts.clone())
    };
    let now = state.engine.presence().clock().now();
    // Today's spend of every replica: the store of record's ledger (none while it is down).
    let spend = state
        .engine
        .spend(&proverka_store::SpendQuery {
            from: day,
            to: day,
            tenant: None,
        })
        .await
        .unwrap_or_default();
    let errors: Vec<Value> = state
        .metrics
        .recent_errors()
        .iter()
        .take(20)
        .map(|e| {
            let m = explained(state, e.provider, &e.code);
            json!({
                "provider": e.provider.as_str(),
                "at_moscow": moscow_clock(e.at),
                "code": e.code,
                "meaning": m.meaning,
                "remedy": m.remedy,
                "advice": m.remedy.advice(),
                "retryable": m.retryable,
            })
        })
        .collect();
    let mut providers = Vec::new();
    for (index, &provider) in state.providers().iter().enumerate() {
        let now = counts(state, index);
        let base = start.get(index).copied().unwrap_or_default();
        let mut by_status = now.by_status;
        for (n, b) in by_status.iter_mut().zip(base.by_status) {
            *n = n.saturating_sub(b);
        }
        let free: u64 = FREE_STATUSES.iter().map(|i| by_status[*i]).sum();
        let answered = free + by_status[MISS];
        let numbers = state.metrics.provider_numbers(provider);
        let spent_today = spend
            .iter()
            .filter(|row| row.provider == provider.as_str())
            .fold(Money::ZERO, |t, row| t.saturating_add(row.charged));
        let refused: serde_json::Map<String, Value> = REFUSALS
            .iter()
            .zip(now.refused.iter().zip(base.refused))
            .map(|(reason, (n, b))| ((*reason).to_owned(), n.saturating_sub(b).into()))
            .filter(|(_, n)| *n != 0)
            .collect();
        let latency = state.metrics.call_quantiles(provider).map(|q| {
            let ms = |d: Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
            json!({"p50_ms": ms(q.p50), "p99_ms": ms(q.p99), "calls": q.calls})
        });
        providers.push(json!({
            "provider": provider.as_str(),
            "requests": by_status.iter().sum::<u64>(),
            "answered_from_cache": free,
            "answered_by_provider": by_status[MISS],
            "hit_ratio": (answered > 0).then(|| free as f64 / answered as f64),
            "provider_calls": now.calls.saturating_sub(base.calls),
            "in_flight": state.engine.upstream(provider).in_use(),
            "spent_rub": rubles(now.spent_rub - base.spent_rub),
            "spent_today_all_replicas_rub": spent_today.to_string(),
            "saved_rub": rubles(now.saved_rub - base.saved_rub),
            "billed_unknown": now.billed_unknown.saturating_sub(base.billed_unknown),
            "balance_rub": numbers.balance_rub.map(rubles),
            "quota_left": numbers.quota_left,
            "latency": latency,
            "refused_locally": refused,
            "last_errors": errors
                .iter()
                .filter(|e| e["provider"] == provider.as_str())
                .take(5)
                .map(|e| json!({"at_moscow": e["at_moscow"], "code": e["code"]}))
                .collect::<Vec<_>>(),
        }));
    }
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "day": day.to_iso(),
        "now_moscow": format!("{} {}", Date::moscow_date_at(now).to_iso(), moscow_clock(now)),
        "redis": redis,
        "in_flight": cache.in_flight(),
        "providers": providers,
        "errors": errors,
        "clients": clients(state, day, &spend).await,
        "history": history::last_days(state, now).await,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_page_counts_from_the_start_of_the_day() {
        let toml = proverka_testkit::own_store();
        let state = AppState::new(
            crate::Config::from_toml(&toml, &[]).unwrap(),
            std::sync::Arc::new(proverka_core::SystemClock),
        )
        .unwrap();
        let [drop_in, typed] = state.routes.routes_of(0);
        let provider = state.providers()[0].as_str();
        let requests = |v: &Value| {
            v["providers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["provider"] == provider)
                .map(|p| (p["requests"].clone(), p["hit_ratio"].clone()))
                .unwrap()
        };
        state.metrics.request(drop_in, "MISS", Duration::ZERO);
        state.metrics.request(typed, "HIT", Duration::ZERO);
        assert_eq!(requests(&status(&state).await), (2.into(), 0.5.into()));
        // Midnight: yesterday's requests are no longer today's.
        start_day(&state);
        assert_eq!(requests(&status(&state).await), (0.into(), Value::Null));
        state.metrics.request(typed, "HIT", Duration::ZERO);
        assert_eq!(requests(&status(&state).await), (1.into(), 1.0.into()));
    }

    #[test]
    fn times_are_moscow_s_on_a_24_hour_clock() {
        // 2026-12-06 20:59:30 UTC is 23:59:30 in Moscow.
        let at = UNIX_EPOCH + Duration::from_secs(1_796_590_770);
        assert_eq!(moscow_clock(at), "23:59:30");
        assert_eq!(moscow_clock(at + Duration::from_secs(31)), "00:00:01");
        assert_eq!(
            moscow_clock(at - Duration::from_secs(10 * 3600)),
            "13:59:30"
        );
    }
}
