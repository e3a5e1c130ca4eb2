//! Prometheus metrics, rendered as text at `GET /metrics`. No label ever holds a secret or a
//! query value: routes, cache statuses, provider names and codes, client names from config.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use proverka_cache::CacheStats;
use proverka_core::{Money, Provider};

pub(crate) use crate::registry::RouteId;
use crate::registry::RouteTable;

/// Cache statuses counted (`-` where no cache was involved).
const CACHE: [&str; 5] = ["HIT", "MISS", "COALESCED", "STALE", "-"];

/// The proxy's counters and gauges, one slot per route and per provider of the registry.
#[derive(Debug)]
pub struct Metrics {
    /// Route labels, by [`RouteId`].
    routes: Vec<String>,
    /// The providers, in registry order: the index of every per-provider slot.
    providers: Vec<Provider>,
    /// Lock-free: one counter per (route, cache status), bumped on every request.
    requests: Vec<[AtomicU64; 5]>,
    provider_calls: Vec<AtomicU64>,
    billed_unknown: Vec<AtomicU64>,
    provider_errors: Mutex<BTreeMap<(Provider, String), u64>>,
    spent: Vec<AtomicI64>,
    saved: Vec<AtomicI64>,
    /// Balance per provider as last reported (misses only: a lock is fine).
    balance: Mutex<Vec<Option<Money>>>,
    /// Queries left today per provider as last reported.
    quota_left: Mutex<Vec<Option<i64>>>,
    budget_refusals: Mutex<BTreeMap<String, u64>>,
    /// Answers by provider and the source that gave them (providers with a free source).
    source_answers: Mutex<BTreeMap<(Provider, &'static str), u64>>,
    /// Kopecks the paid provider would have charged for the free source's answers.
    saved_by_free: Vec<AtomicI64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// Counters for the routes and providers of `routes`.
    pub(crate) fn new(routes: &RouteTable) -> Self {
        let n = routes.providers().len();
        Self {
            routes: routes.labels().to_vec(),
            providers: routes.providers().to_vec(),
            requests: routes.labels().iter().map(|_| Default::default()).collect(),
            provider_calls: (0..n).map(|_| AtomicU64::new(0)).collect(),
            billed_unknown: (0..n).map(|_| AtomicU64::new(0)).collect(),
            provider_errors: Mutex::default(),
            spent: (0..n).map(|_| AtomicI64::new(0)).collect(),
            saved: (0..n).map(|_| AtomicI64::new(0)).collect(),
            balance: Mutex::new(vec![None; n]),
            quota_left: Mutex::new(vec![None; n]),
            budget_refusals: Mutex::default(),
            source_answers: Mutex::default(),
            saved_by_free: (0..n).map(|_| AtomicI64::new(0)).collect(),
        }
    }

    /// The slot of `p` (a provider outside the registry cannot be routed to, so has none).
    fn slot(&self, p: Provider) -> Option<usize> {
        self.providers.iter().position(|x| *x == p)
    }

    pub(crate) fn request(&self, route: RouteId, cache: &str) {
        let r = route.0.min(self.requests.len() - 1);
        let c = CACHE
            .iter()
            .position(|x| *x == cache)
            .unwrap_or(CACHE.len() - 1);
        self.requests[r][c].fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn provider_call(&self, p: Provider) {
        if let Some(i) = self.slot(p) {
            self.provider_calls[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    pub(crate) fn provider_error(&self, p: Provider, code: &str) {
        *lock(&self.provider_errors)
            .entry((p, code.to_owned()))
            .or_insert(0) += 1;
    }
    pub(crate) fn billed_unknown(&self, p: Provider) {
        if let Some(i) = self.slot(p) {
            self.billed_unknown[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    pub(crate) fn spent(&self, p: Provider, m: Money) {
        if let Some(i) = self.slot(p) {
            self.spent[i].fetch_add(m.kopecks(), Ordering::Relaxed);
        }
    }
    pub(crate) fn saved(&self, p: Provider, m: Money) {
        if let Some(i) = self.slot(p) {
            self.saved[i].fetch_add(m.kopecks(), Ordering::Relaxed);
        }
    }
    pub(crate) fn balance(&self, p: Provider, m: Money) {
        if let Some(i) = self.slot(p) {
            lock(&self.balance)[i] = Some(m);
        }
    }
    pub(crate) fn quota_left(&self, p: Provider, n: i64) {
        if let Some(i) = self.slot(p) {
            lock(&self.quota_left)[i] = Some(n);
        }
    }
    pub(crate) fn source_answer(&self, p: Provider, source: &'static str) {
        *lock(&self.source_answers).entry((p, source)).or_insert(0) += 1;
    }
    pub(crate) fn saved_by_free_source(&self, p: Provider, m: Money) {
        if let Some(i) = self.slot(p) {
            self.saved_by_free[i].fetch_add(m.kopecks(), Ordering::Relaxed);
        }
    }
    pub(crate) fn budget_refusal(&self, client: &str) {
        *lock(&self.budget_refusals)
            .entry(client.to_owned())
            .or_insert(0) += 1;
    }

    /// Provider calls made so far (tests).
    pub fn provider_calls(&self, p: Provider) -> u64 {
        self.slot(p)
            .map_or(0, |i| self.provider_calls[i].load(Ordering::Relaxed))
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(
        &self,
        cache: &CacheStats,
        in_flight: usize,
        redis_up: Option<bool>,
    ) -> String {
        let mut out = String::new();
        let header = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        header(
            &mut out,
            "proverka_requests_total",
            "counter",
            "Requests by route and X-Cache status.",
        );
        for (r, route) in self.routes.iter().enumerate() {
            for (c, cache_status) in CACHE.iter().enumerate() {
                let n = self.requests[r][c].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "proverka_requests_total{{route=\"{route}\",cache=\"{cache_status}\"}} {n}"
                    );
                }
            }
        }
        header(
            &mut out,
            "proverka_provider_calls_total",
            "counter",
            "Calls made to each provider.",
        );
        for (i, p) in self.providers.iter().enumerate() {
            let _ = writeln!(
                out,
                "proverka_provider_calls_total{{provider=\"{p}\"}} {}",
                self.provider_calls[i].load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "proverka_provider_errors_total",
            "counter",
            "Provider error answers by code.",
        );
        for ((p, code), n) in lock(&self.provider_errors).iter() {
            let code: String = code
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || " _-().".contains(*c))
                .take(60)
                .collect();
            let _ = writeln!(
                out,
                "proverka_provider_errors_total{{provider=\"{p}\",code=\"{code}\"}} {n}"
            );
        }
        header(
            &mut out,
            "proverka_billed_unknown_total",
            "counter",
            "Provider calls that may have been billed but brought no readable answer (never re-sent, never cached).",
        );
        for (i, p) in self.providers.iter().enumerate() {
            let n = self.billed_unknown[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "proverka_billed_unknown_total{{provider=\"{p}\"}} {n}");
        }
        header(
            &mut out,
            "proverka_rubles_spent_total",
            "counter",
            "Rubles paid to each provider.",
        );
        for (i, p) in self.providers.iter().enumerate() {
            let m = Money::from_kopecks(self.spent[i].load(Ordering::Relaxed));
            let _ = writeln!(out, "proverka_rubles_spent_total{{provider=\"{p}\"}} {m}");
        }
        header(
            &mut out,
            "proverka_rubles_saved_total",
            "counter",
            "Rubles not paid: answers served from the cache.",
        );
        for (i, p) in self.providers.iter().enumerate() {
            let m = Money::from_kopecks(self.saved[i].load(Ordering::Relaxed));
            let _ = writeln!(out, "proverka_rubles_saved_total{{provider=\"{p}\"}} {m}");
        }
        header(
            &mut out,
            "proverka_source_answers_total",
            "counter",
            "Answers to a provider with a free source, by the source that gave them.",
        );
        for ((p, source), n) in lock(&self.source_answers).iter() {
            let _ = writeln!(
                out,
                "proverka_source_answers_total{{provider=\"{p}\",source=\"{source}\"}} {n}"
            );
        }
        header(
            &mut out,
            "proverka_rubles_saved_by_free_source_total",
            "counter",
            "Rubles the paid provider would have charged for the free source's answers.",
        );
        for (i, p) in self.providers.iter().enumerate() {
            let m = Money::from_kopecks(self.saved_by_free[i].load(Ordering::Relaxed));
            if m != Money::ZERO {
                let _ = writeln!(
                    out,
                    "proverka_rubles_saved_by_free_source_total{{provider=\"{p}\"}} {m}"
                );
            }
        }
        header(
            &mut out,
            "proverka_provider_balance_rubles",
            "gauge",
            "Account balance as the provider last reported it in an answer.",
        );
        for (i, p) in self.providers.iter().enumerate() {
            if let Some(m) = lock(&self.balance)[i] {
                let _ = writeln!(
                    out,
                    "proverka_provider_balance_rubles{{provider=\"{p}\"}} {m}"
                );
            }
        }
        header(
            &mut out,
            "proverka_provider_quota_left",
            "gauge",
            "Queries left today as the provider last reported them in an answer.",
        );
        for (i, p) in self.providers.iter().enumerate() {
            if let Some(n) = lock(&self.quota_left)[i] {
                let _ = writeln!(out, "proverka_provider_quota_left{{provider=\"{p}\"}} {n}");
            }
        }
        header(
            &mut out,
            "proverka_budget_refusals_total",
            "counter",
            "Queries refused with 402 by client.",
        );
        for (client, n) in lock(&self.budget_refusals).iter() {
            let _ = writeln!(
                out,
                "proverka_budget_refusals_total{{client=\"{client}\"}} {n}"
            );
        }
        header(
            &mut out,
            "proverka_in_flight",
            "gauge",
            "Provider calls in flight.",
        );
        let _ = writeln!(out, "proverka_in_flight {in_flight}");
        header(
            &mut out,
            "proverka_redis_up",
            "gauge",
            "1 if Redis answers, 0 if not; absent without Redis.",
        );
        if let Some(up) = redis_up {
            let _ = writeln!(out, "proverka_redis_up {}", u8::from(up));
        }
        for (name, help, value) in [
            (
                "proverka_cache_hits_memory_total",
                "Answers served from memory.",
                cache.hits_memory,
            ),
            (
                "proverka_cache_hits_redis_total",
                "Answers served from Redis.",
                cache.hits_remote,
            ),
            (
                "proverka_cache_misses_total",
                "Requests that started a provider call.",
                cache.misses,
            ),
            (
                "proverka_cache_coalesced_total",
                "Requests that waited on another's call.",
                cache.coalesced,
            ),
            (
                "proverka_cache_remote_waits_total",
                "Calls left to another replica.",
                cache.remote_waits,
            ),
            (
                "proverka_cache_fetch_errors_total",
                "Provider calls with no answer.",
                cache.fetch_errors,
            ),
            (
                "proverka_cache_redis_errors_total",
                "Redis operations failed or skipped.",
                cache.remote_errors,
            ),
            (
                "proverka_cache_lock_takeovers_total",
                "Locks taken over from dead replicas.",
                cache.lock_takeovers,
            ),
            (
                "proverka_cache_stale_total",
                "Expired answers served in the stale grace.",
                cache.stale_served,
            ),
        ] {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        }
        header(
            &mut out,
            "proverka_cache_bytes",
            "gauge",
            "Bytes held in the memory tier.",
        );
        let _ = writeln!(out, "proverka_cache_bytes {}", cache.bytes_held);
        out
    }
}
