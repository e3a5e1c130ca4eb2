//! What the cache saved: paid answers served without a call (hits, joined flights), counted
//! in memory on the hit path (two relaxed atomic adds) and added to the store's savings of the
//! day by the engine's settling task every second and at shutdown. Statistics, not money state:
//! a crash loses at most the last second's count, and no budget or bill depends on it.

use std::sync::atomic::{AtomicI64, Ordering};

use proverka_core::{Date, Money, Provider};
use proverka_store::{Saving, Store};

/// One provider's count since the last flush.
#[derive(Debug, Default)]
struct Slot {
    answers: AtomicI64,
    kopecks: AtomicI64,
}

/// Savings not yet in the store, per provider in registry order.
#[derive(Debug)]
pub(crate) struct Savings {
    providers: Vec<Provider>,
    slots: Vec<Slot>,
}

impl Savings {
    pub(crate) fn new(providers: Vec<Provider>) -> Self {
        let slots = providers.iter().map(|_| Slot::default()).collect();
        Self { providers, slots }
    }

    /// One paid answer served without a call, worth `price`.
    pub(crate) fn add(&self, provider: Provider, price: Money) {
        if let Some(i) = self.providers.iter().position(|p| *p == provider) {
            let slot = &self.slots[i];
            slot.answers.fetch_add(1, Ordering::Relaxed);
            slot.kopecks.fetch_add(price.kopecks(), Ordering::Relaxed);
        }
    }

    /// Adds what was counted to `day`'s savings in the store; kept for the next flush when
    /// the store does not answer.
    pub(crate) async fn flush(&self, store: &dyn Store, day: Date) {
        let taken: Vec<(usize, i64, i64)> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    i,
                    s.answers.swap(0, Ordering::Relaxed),
                    s.kopecks.swap(0, Ordering::Relaxed),
                )
            })
            .filter(|(_, answers, _)| *answers > 0)
            .collect();
        if taken.is_empty() {
            return;
        }
        let savings: Vec<Saving> = taken
            .iter()
            .map(|&(i, answers, kopecks)| Saving {
                day,
                provider: self.providers[i].as_str().to_owned(),
                answers,
                saved: Money::from_kopecks(kopecks),
            })
            .collect();
        if let Err(e) = store.add_savings(&savings).await {
            tracing::debug!(error = %e, "savings kept for the next flush");
            for (i, answers, kopecks) in taken {
                self.slots[i].answers.fetch_add(answers, Ordering::Relaxed);
                self.slots[i].kopecks.fetch_add(kopecks, Ordering::Relaxed);
            }
        }
    }
}
