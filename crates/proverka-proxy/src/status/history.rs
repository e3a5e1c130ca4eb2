//! The chart's numbers: rubles spent (the ledger's billed calls) and saved (answers served
//! without a call) per provider on each of the last [`DAYS`] Moscow days, from the store of
//! record, so every replica's calls and hits count, across restarts.

use std::time::{Duration, SystemTime};

use proverka_core::{Date, Money};
use proverka_store::SpendQuery;
use serde_json::{Value, json};

use crate::app::AppState;

/// Days the chart shows, today included.
pub(crate) const DAYS: usize = 30;

/// The last [`DAYS`] Moscow days at `now`, oldest first.
fn days_to(now: SystemTime) -> Vec<Date> {
    (0..DAYS as u64)
        .rev()
        .map(|k| {
            let at = now
                .checked_sub(Duration::from_secs(86_400 * k))
                .unwrap_or(now);
            Date::moscow_date_at(at)
        })
        .collect()
}

/// `history` of `/v1/status`: `days` (ISO dates, oldest first) and, per provider, `spent_rub`
/// and `saved_rub` for each day; `available` is false while the store does not answer.
pub(super) async fn last_days(state: &AppState, now: SystemTime) -> Value {
    let days = days_to(now);
    let (from, to) = (days[0], days[DAYS - 1]);
    let spend = state
        .engine
        .spend(&SpendQuery {
            from,
            to,
            tenant: None,
        })
        .await;
    let savings = state.engine.savings(from, to).await;
    let available = spend.is_ok() && savings.is_ok();
    let (spend, savings) = (spend.unwrap_or_default(), savings.unwrap_or_default());
    let providers: Vec<Value> = state
        .providers()
        .iter()
        .map(|provider| {
            let name = provider.as_str();
            let per_day = |day: &Date| {
                let spent = spend
                    .iter()
                    .filter(|r| r.day == *day && r.provider == name)
                    .fold(Money::ZERO, |t, r| t.saturating_add(r.charged));
                let saved = savings
                    .iter()
                    .filter(|s| s.day == *day && s.provider == name)
                    .fold(Money::ZERO, |t, s| t.saturating_add(s.saved));
                (spent.to_string(), saved.to_string())
            };
            let (spent, saved): (Vec<String>, Vec<String>) = days.iter().map(per_day).unzip();
            json!({"provider": name, "spent_rub": spent, "saved_rub": saved})
        })
        .collect();
    json!({
        "days": days.iter().map(Date::to_iso).collect::<Vec<_>>(),
        "available": available,
        "providers": providers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_moscow_days_end_today() {
        // 2026-12-06 23:59:30 in Moscow.
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_796_590_770);
        let days = days_to(now);
        assert_eq!(days.len(), 30);
        assert_eq!(days[29].to_iso(), "2026-12-06");
        assert_eq!(days[0].to_iso(), "2026-11-07");
        assert!(days.windows(2).all(|w| w[0] < w[1]));
    }
}
