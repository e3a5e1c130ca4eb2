//! The status page (`/ui`) and the numbers it shows (`/v1/status`): per provider, the
//! queries answered and how (hit ratio), rubles spent and saved, calls in flight, the latest
//! provider errors, balance and quota as the provider last reported them; and Redis's state.
//! Every number is read from the metrics `/metrics` exposes, so the two always agree.

use std::time::UNIX_EPOCH;

use proverka_cache::RemoteStatus;
use proverka_core::{Date, Money};
use serde_json::{Value, json};

use crate::app::AppState;

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

/// `/v1/status`.
pub(crate) async fn status(state: &AppState) -> Value {
    let redis = match state.cache.remote_status().await {
        RemoteStatus::NotConfigured => "not_configured",
        RemoteStatus::Up => "up",
        RemoteStatus::Down => "down",
        RemoteStatus::Degraded => "degraded",
    };
    let day = Date::today_moscow();
    // Today's spend, shared by the replicas through Redis: what the ledger counted.
    let spend = state
        .ledger
        .spend(&state.cache, &state.client_names(), state.providers(), day)
        .await;
    let errors = state.metrics.recent_errors();
    let mut providers = Vec::new();
    for (index, &provider) in state.providers().iter().enumerate() {
        let mut by_status = [0u64; 5];
        for route in state.routes.routes_of(index) {
            for (total, n) in by_status.iter_mut().zip(state.metrics.requests_of(route)) {
                *total += n;
            }
        }
        let free: u64 = FREE_STATUSES.iter().map(|i| by_status[*i]).sum();
        let answered = free + by_status[MISS];
        let numbers = state.metrics.provider_numbers(provider);
        let spent_today = spend
            .values()
            .filter_map(|per_provider| per_provider.get(&provider))
            .fold(Money::ZERO, |t, s| t.saturating_add(s.spent_rub));
        providers.push(json!({
            "provider": provider.as_str(),
            "requests": by_status.iter().sum::<u64>(),
            "answered_from_cache": free,
            "answered_by_provider": by_status[MISS],
            "hit_ratio": (answered > 0).then(|| free as f64 / answered as f64),
            "provider_calls": numbers.calls,
            "in_flight": state.upstream(provider).in_use(),
            "spent_rub": rubles(numbers.spent_rub),
            "spent_today_rub": spent_today.to_string(),
            "saved_rub": rubles(numbers.saved_rub + numbers.saved_by_free_source_rub),
            "billed_unknown": numbers.billed_unknown,
            "balance_rub": numbers.balance_rub.map(rubles),
            "quota_left": numbers.quota_left,
            "last_errors": errors
                .iter()
                .filter(|e| e.provider == provider)
                .take(5)
                .map(|e| json!({
                    "at_ms": e.at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    "code": e.code,
                }))
                .collect::<Vec<_>>(),
        }));
    }
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "day": day.to_iso(),
        "redis": redis,
        "in_flight": state.cache.in_flight(),
        "providers": providers,
    })
}
