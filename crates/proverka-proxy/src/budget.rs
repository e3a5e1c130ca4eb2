//! Daily budgets as reservations: before a paid call the call's maximum price is reserved
//! atomically against the client's Moscow day, after it the reservation is settled to what the
//! provider really billed. With Redis the day's total is one counter shared by every replica
//! (a Lua script checks and adds in one step); without it, or while it fails, this process's
//! own count decides, under a lock.
//!
//! So a budget of B rubles holds whatever the concurrency: the sum of reservations and
//! settled prices never passes B, and a settled price is never above its reservation except
//! where the provider itself reports a higher price than its page announces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proverka_cache::TieredCache;
use proverka_core::{Date, Money};

/// A client's daily budget would be exceeded.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "the daily budget of {budget} RUB would be exceeded ({spent} RUB spent or reserved today, this call may cost {price} RUB)"
)]
pub(crate) struct BudgetExceeded {
    pub(crate) budget: Money,
    pub(crate) spent: Money,
    pub(crate) price: Money,
}

/// Reservations and spend per client per Moscow day, in this process.
#[derive(Debug, Default)]
pub(crate) struct Budgets {
    local: Mutex<HashMap<Arc<str>, (Date, Money)>>,
}

/// How long a day's shared counter lives: past the end of that day, whatever the clocks say.
const COUNTER_TTL: Duration = Duration::from_secs(2 * 24 * 3600);

fn counter_id(client: &str, day: Date) -> String {
    format!("budget/{client}/{}", day.to_iso())
}

impl Budgets {
    /// Adds `delta` to this process's count for `client` today; with `limit`, only when the
    /// total stays within it. Returns the total before, and whether it was added.
    fn add_local(
        &self,
        client: &Arc<str>,
        day: Date,
        delta: Money,
        limit: Option<Money>,
    ) -> (Money, bool) {
        let mut local = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = local
            .entry(Arc::clone(client))
            .or_insert((day, Money::ZERO));
        if entry.0 != day {
            *entry = (day, Money::ZERO);
        }
        let before = entry.1;
        let after = before.saturating_add(delta);
        if limit.is_some_and(|l| delta > Money::ZERO && after > l) {
            return (before, false);
        }
        entry.1 = after;
        (before, true)
    }

    /// Reserves `price` of `client`'s `budget` for `day`, atomically: here, then on the
    /// counter shared by the replicas (undone here if that refuses).
    pub(crate) async fn reserve(
        &self,
        cache: &TieredCache,
        client: &Arc<str>,
        budget: Money,
        day: Date,
        price: Money,
    ) -> Result<(), BudgetExceeded> {
        let refused = |spent| BudgetExceeded {
            budget,
            spent,
            price,
        };
        let (before, added) = self.add_local(client, day, price, Some(budget));
        if !added {
            return Err(refused(before));
        }
        match cache
            .shared_counter_add(
                &counter_id(client, day),
                price.kopecks(),
                Some(budget.kopecks()),
                COUNTER_TTL,
            )
            .await
        {
            Some((false, total)) => {
                self.add_local(client, day, Money::ZERO.saturating_sub(price), None);
                Err(refused(Money::from_kopecks(total)))
            }
            // Reserved on the shared counter, or no shared counter: this process's count
            // holds the reservation either way.
            Some((true, _)) | None => Ok(()),
        }
    }

    /// Settles a reservation of `reserved` to `actual`: both counts move by the difference.
    pub(crate) async fn settle(
        &self,
        cache: &TieredCache,
        client: &Arc<str>,
        day: Date,
        reserved: Money,
        actual: Money,
    ) {
        let delta = actual.saturating_sub(reserved);
        if delta == Money::ZERO {
            return;
        }
        self.add_local(client, day, delta, None);
        cache
            .shared_counter_add(&counter_id(client, day), delta.kopecks(), None, COUNTER_TTL)
            .await;
    }
}
