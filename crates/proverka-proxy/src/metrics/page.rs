//! What the status page needs beyond the counters: queries each provider refused locally (by
//! reason, also exported as `proverka_refused_locally_total`) and the time of its latest calls
//! (p50 and p99 over the last [`LATENCY_WINDOW`] calls: exact quantiles, which the exported
//! histogram's buckets cannot give).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use proverka_core::Provider;

use super::lock;

/// Why a query was answered without a provider call and without an answer: proverka's own
/// refusals, each costing nothing.
pub(crate) const REFUSALS: [&str; 8] = [
    "invalid",
    "no_credential",
    "unauthorized",
    "budget",
    "busy",
    "cache_degraded",
    "store_unavailable",
    "not_cached",
];

/// Provider calls the latency quantiles are taken over, per provider.
pub(crate) const LATENCY_WINDOW: usize = 1000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct RefusedLabels {
    provider: &'static str,
    reason: &'static str,
}

/// The latest calls' time: p50 and p99 over `calls` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantiles {
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) calls: usize,
}

impl Quantiles {
    /// Nearest-rank quantiles of `times` (`None` when empty).
    pub(crate) fn of(times: impl IntoIterator<Item = Duration>) -> Option<Self> {
        let mut sorted: Vec<Duration> = times.into_iter().collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_unstable();
        let rank = |q: f64| {
            let n = sorted.len() as f64;
            // Nearest rank: the smallest value with at least q of the calls at or below it.
            let i = ((q * n).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i]
        };
        Some(Self {
            p50: rank(0.50),
            p99: rank(0.99),
            calls: sorted.len(),
        })
    }
}

/// The page's numbers, per provider in registry order.
#[derive(Debug)]
pub(super) struct PageMetrics {
    providers: Vec<Provider>,
    refused: Family<RefusedLabels, Counter>,
    latencies: Vec<Mutex<VecDeque<Duration>>>,
}

impl PageMetrics {
    pub(super) fn register(registry: &mut Registry, providers: &[Provider]) -> Self {
        let refused = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "refused_locally",
            "Queries answered by proverka itself without a provider call, by reason (invalid, no_credential, unauthorized, budget, busy, cache_degraded, store_unavailable, not_cached): nothing sent, nothing billed",
            refused.clone(),
        );
        Self {
            providers: providers.to_vec(),
            refused,
            latencies: providers.iter().map(|_| Mutex::default()).collect(),
        }
    }

    fn index(&self, p: Provider) -> Option<usize> {
        self.providers.iter().position(|x| *x == p)
    }

    pub(super) fn refused(&self, p: Provider, reason: &'static str) {
        if self.index(p).is_some() && REFUSALS.contains(&reason) {
            self.refused
                .get_or_create(&RefusedLabels {
                    provider: p.as_str(),
                    reason,
                })
                .inc();
        }
    }

    /// Refusals so far, in the order of [`REFUSALS`].
    pub(super) fn refused_of(&self, p: Provider) -> [u64; REFUSALS.len()] {
        REFUSALS.map(|reason| {
            self.refused
                .get(&RefusedLabels {
                    provider: p.as_str(),
                    reason,
                })
                .map_or(0, |c| c.get())
        })
    }

    pub(super) fn call_took(&self, p: Provider, took: Duration) {
        if let Some(i) = self.index(p) {
            let mut window = lock(&self.latencies[i]);
            if window.len() == LATENCY_WINDOW {
                window.pop_front();
            }
            window.push_back(took);
        }
    }

    pub(super) fn quantiles(&self, p: Provider) -> Option<Quantiles> {
        let i = self.index(p)?;
        let window = lock(&self.latencies[i]).clone();
        Quantiles::of(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Two providers of the registry (no source file of the proxy names one).
    fn two() -> (Provider, Provider) {
        let all: Vec<Provider> = crate::registry::adapters()
            .iter()
            .map(|a| a.provider())
            .collect();
        (all[0], all[1])
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        assert_eq!(Quantiles::of([]), None);
        let one = Quantiles::of([ms(7)]).unwrap();
        assert_eq!((one.p50, one.p99, one.calls), (ms(7), ms(7), 1));
        // 1..=100 ms: the 50th and the 99th.
        let hundred = Quantiles::of((1..=100).rev().map(ms)).unwrap();
        assert_eq!((hundred.p50, hundred.p99), (ms(50), ms(99)));
        // One slow call in ten: p50 fast, p99 the slow one.
        let mixed = Quantiles::of((0..10).map(|i| if i == 3 { ms(900) } else { ms(20) })).unwrap();
        assert_eq!((mixed.p50, mixed.p99), (ms(20), ms(900)));
    }

    #[test]
    fn the_window_keeps_the_latest_calls() {
        let (one, other) = two();
        let page = PageMetrics::register(&mut Registry::default(), &[one]);
        for n in 0..(LATENCY_WINDOW as u64 + 500) {
            page.call_took(one, ms(n));
        }
        let q = page.quantiles(one).unwrap();
        assert_eq!(q.calls, LATENCY_WINDOW);
        // The oldest 500 are gone: the median is of 500..1500.
        assert_eq!(q.p50, ms(999));
        assert_eq!(page.quantiles(other), None);
    }

    #[test]
    fn refusals_count_by_provider_and_known_reason() {
        let (one, other) = two();
        let page = PageMetrics::register(&mut Registry::default(), &[one]);
        page.refused(one, "budget");
        page.refused(one, "budget");
        page.refused(one, "invented");
        page.refused(other, "budget");
        let counts = page.refused_of(one);
        assert_eq!(counts[3], 2);
        assert_eq!(counts.iter().sum::<u64>(), 2);
    }
}
