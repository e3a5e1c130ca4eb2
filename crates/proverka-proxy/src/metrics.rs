//! Prometheus metrics with `prometheus-client`, rendered at `GET /metrics` as OpenMetrics text.
//!
//! Names follow Prometheus conventions: counters end in `_total`, units are suffixes
//! (`_seconds`, `_rubles`, `_bytes`). Label values are escaped and every label set is
//! bounded: routes and providers come from the registry, cache statuses and outcomes are
//! fixed lists, clients come from the configuration, and a provider's error codes are capped
//! at [`MAX_CODES_PER_PROVIDER`] (the rest count as `other`). No label ever holds a secret or a
//! query value.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use proverka_core::{Money, Provider, Verdict};

mod exposition;
mod free_queue;
mod latency;
mod page;
mod scrape;

pub(crate) use exposition::{CLASSIC, OPENMETRICS, classic_text, wants_openmetrics};
use latency::{RequestCollector, RequestStats};
pub(crate) use page::{Quantiles, REFUSALS};
pub(crate) use scrape::Scrape;
use scrape::ScrapeCollector;

pub(crate) use crate::registry::RouteId;
use crate::registry::RouteTable;

/// Cache statuses counted (`-` where no cache was involved).
const CACHE: [&str; 5] = ["HIT", "MISS", "COALESCED", "STALE", "-"];

/// Distinct error codes counted per provider; later new codes count as `other`, so a provider
/// inventing codes (or echoing free text) cannot grow the series without bound.
pub const MAX_CODES_PER_PROVIDER: usize = 32;

/// Request latency buckets, seconds: a memory hit takes microseconds, the slowest provider
/// call up to 400 s.
const REQUEST_BUCKETS: [f64; 17] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    30.0, 120.0, 400.0,
];
/// Provider call latency buckets, seconds.
const CALL_BUCKETS: [f64; 13] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 240.0, 400.0,
];

/// A label value from outside the code (a client's configured name, a provider's error code),
/// escaped for the text format (`\\`, `"`, line breaks).
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
struct Text(Arc<str>);

impl EncodeLabelValue for Text {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Text,
    cache: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    provider: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    provider: &'static str,
    code: Text,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    provider: &'static str,
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClientLabels {
    client: Text,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

type Rubles = Counter<f64, AtomicU64>;
type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

fn call_histogram() -> Histogram {
    Histogram::new(CALL_BUCKETS)
}

fn rubles(m: Money) -> f64 {
    // Kopecks are exact in an f64 far beyond any budget.
    m.kopecks() as f64 / 100.0
}

/// How many provider errors the status page keeps.
const RECENT_ERRORS: usize = 50;

/// A provider error, for the status page: when, whose, which code (no query value).
#[derive(Debug, Clone)]
pub(crate) struct RecentError {
    pub(crate) at: SystemTime,
    pub(crate) provider: Provider,
    pub(crate) code: String,
}

/// One provider's counters and gauges, read for the status page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProviderNumbers {
    pub(crate) calls: u64,
    pub(crate) billed_unknown: u64,
    pub(crate) spent_rub: f64,
    pub(crate) saved_rub: f64,
    pub(crate) saved_by_free_source_rub: f64,
    pub(crate) balance_rub: Option<f64>,
    pub(crate) quota_left: Option<i64>,
}

/// The proxy's metrics: one registry, handles kept for the hot path.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// The providers, in registry order.
    providers: Vec<Provider>,
    /// Per (route, cache status): count and latency, lock-free and sharded by thread.
    requests: Arc<RequestStats>,
    provider_calls: Family<ProviderLabels, Counter>,
    call_seconds: HistogramFamily<OutcomeLabels>,
    provider_errors: Family<CodeLabels, Counter>,
    /// The codes counted so far per provider (the cap).
    codes_seen: Mutex<BTreeMap<Provider, BTreeSet<String>>>,
    billed_unknown: Family<ProviderLabels, Counter>,
    spent: Family<ProviderLabels, Rubles>,
    saved: Family<ProviderLabels, Rubles>,
    saved_by_free: Family<ProviderLabels, Rubles>,
    source_answers: Family<SourceLabels, Counter>,
    balance: Family<ProviderLabels, Gauge<f64, AtomicU64>>,
    quota_left: Family<ProviderLabels, Gauge>,
    budget_refusals: Family<ClientLabels, Counter>,
    reloads: Family<ResultLabels, Counter>,
    free_queue: free_queue::FreeQueueMetrics,
    page: page::PageMetrics,
    scrape: Arc<Mutex<Scrape>>,
    /// The latest provider errors, newest last (the status page).
    recent_errors: Mutex<VecDeque<RecentError>>,
    /// One scrape at a time: the scrape-time values belong to it.
    rendering: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// The metrics of the routes and providers of `routes`.
    pub(crate) fn new(routes: &RouteTable) -> Self {
        let mut registry = Registry::with_prefix("proverka");
        let rubles_unit = || Unit::Other("rubles".into());
        let requests = Arc::new(RequestStats {
            routes: routes
                .labels()
                .iter()
                .map(|l| Text(Arc::from(l.as_str())))
                .collect(),
            slots: routes.labels().iter().map(|_| Default::default()).collect(),
        });
        registry.register_collector(Box::new(RequestCollector(Arc::clone(&requests))));
        let provider_calls = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "provider_calls",
            "Calls made to each provider",
            provider_calls.clone(),
        );
        let call_seconds: HistogramFamily<OutcomeLabels> =
            Family::new_with_constructor(call_histogram);
        registry.register_with_unit(
            "provider_call_duration",
            "Provider call time, from sending to the end of the answer, by provider and outcome (answer, provider_error, unreadable, no_answer)",
            Unit::Seconds,
            call_seconds.clone(),
        );
        let provider_errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "provider_errors",
            "Provider error answers by code (unreadable answers as `unreadable`; codes beyond the first 32 of a provider as `other`)",
            provider_errors.clone(),
        );
        let billed_unknown = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "billed_unknown",
            "Provider calls that may have been billed but brought no readable answer (never re-sent, never cached)",
            billed_unknown.clone(),
        );
        let spent = Family::<ProviderLabels, Rubles>::default();
        registry.register_with_unit(
            "spent",
            "Rubles paid to each provider",
            rubles_unit(),
            spent.clone(),
        );
        let saved = Family::<ProviderLabels, Rubles>::default();
        registry.register_with_unit(
            "saved",
            "Rubles not paid: answers served from the cache",
            rubles_unit(),
            saved.clone(),
        );
        let saved_by_free = Family::<ProviderLabels, Rubles>::default();
        registry.register_with_unit(
            "saved_by_free_source",
            "Rubles the paid provider would have charged for the free source's answers",
            rubles_unit(),
            saved_by_free.clone(),
        );
        let source_answers = Family::<SourceLabels, Counter>::default();
        registry.register(
            "source_answers",
            "Answers to a provider with a free source, by the source that gave them",
            source_answers.clone(),
        );
        let balance = Family::<ProviderLabels, Gauge<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "provider_balance",
            "Account balance as the provider last reported it in an answer",
            rubles_unit(),
            balance.clone(),
        );
        let quota_left = Family::<ProviderLabels, Gauge>::default();
        registry.register(
            "provider_quota_left",
            "Queries left today as the provider last reported them in an answer",
            quota_left.clone(),
        );
        let budget_refusals = Family::<ClientLabels, Counter>::default();
        registry.register(
            "budget_refusals",
            "Queries refused with 402 by client",
            budget_refusals.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "reloads",
            "Configuration reloads (SIGHUP) by result: applied, or refused whole (a file that does not parse, or one that would weaken access on a bound socket)",
            reloads.clone(),
        );
        let free_queue = free_queue::FreeQueueMetrics::register(&mut registry);
        let page = page::PageMetrics::register(&mut registry, routes.providers());
        // A gauge at 1, the common `*_build_info` convention (the OpenMetrics `info` type is
        // not read by the classic text parser of promtool and older Prometheus).
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The proxy's version", build_info);
        let scrape = Arc::new(Mutex::new(Scrape::default()));
        registry.register_collector(Box::new(ScrapeCollector(Arc::clone(&scrape))));
        // Every provider's counters exist from the start (at 0), so rates and alerts see
        // a provider before its first call.
        for p in routes.providers() {
            let labels = ProviderLabels {
                provider: p.as_str(),
            };
            provider_calls.get_or_create_owned(&labels);
            billed_unknown.get_or_create_owned(&labels);
            spent.get_or_create_owned(&labels);
            saved.get_or_create_owned(&labels);
        }
        Self {
            registry,
            providers: routes.providers().to_vec(),
            requests,
            provider_calls,
            call_seconds,
            provider_errors,
            codes_seen: Mutex::default(),
            billed_unknown,
            spent,
            saved,
            saved_by_free,
            source_answers,
            balance,
            quota_left,
            budget_refusals,
            reloads,
            free_queue,
            page,
            scrape,
            recent_errors: Mutex::default(),
            rendering: Mutex::new(()),
        }
    }

    fn provider(&self, p: Provider) -> Option<ProviderLabels> {
        self.providers.contains(&p).then(|| ProviderLabels {
            provider: p.as_str(),
        })
    }

    /// One answered request: its route, `X-Cache` status and time.
    pub(crate) fn request(&self, route: RouteId, cache: &str, took: Duration) {
        let slots = &self.requests.slots;
        let r = route.0.min(slots.len() - 1);
        let c = CACHE
            .iter()
            .position(|x| *x == cache)
            .unwrap_or(CACHE.len() - 1);
        slots[r][c].observe(took);
    }

    pub(crate) fn provider_call(&self, p: Provider) {
        if let Some(l) = self.provider(p) {
            self.provider_calls.get_or_create(&l).inc();
        }
    }

    /// A provider call judged: its time by outcome, and its error code when it brought one.
    pub(crate) fn provider_call_judged(
        &self,
        p: Provider,
        verdict: &Verdict,
        answered: bool,
        took: Duration,
        at: SystemTime,
    ) {
        let Some(l) = self.provider(p) else {
            return;
        };
        let outcome = match verdict {
            Verdict::Answer { .. } => "answer",
            Verdict::ProviderError { code, .. } => {
                self.provider_error(p, code, at);
                "provider_error"
            }
            _ if answered => {
                self.provider_error(p, "unreadable", at);
                "unreadable"
            }
            _ => "no_answer",
        };
        self.page.call_took(p, took);
        self.call_seconds
            .get_or_create(&OutcomeLabels {
                provider: l.provider,
                outcome,
            })
            .observe(took.as_secs_f64());
    }

    fn provider_error(&self, p: Provider, code: &str, at: SystemTime) {
        let code: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || " _-().:=".contains(*c))
            .take(60)
            .collect();
        {
            let mut recent = lock(&self.recent_errors);
            if recent.len() == RECENT_ERRORS {
                recent.pop_front();
            }
            recent.push_back(RecentError {
                at,
                provider: p,
                code: code.clone(),
            });
        }
        let code = {
            let mut seen = lock(&self.codes_seen);
            let codes = seen.entry(p).or_default();
            if codes.contains(&code) || codes.len() < MAX_CODES_PER_PROVIDER {
                codes.insert(code.clone());
                code
            } else {
                "other".to_owned()
            }
        };
        self.provider_errors
            .get_or_create(&CodeLabels {
                provider: p.as_str(),
                code: Text(Arc::from(code)),
            })
            .inc();
    }

    pub(crate) fn billed_unknown(&self, p: Provider) {
        if let Some(l) = self.provider(p) {
            self.billed_unknown.get_or_create(&l).inc();
        }
    }
    pub(crate) fn spent(&self, p: Provider, m: Money) {
        if let Some(l) = self.provider(p) {
            self.spent.get_or_create(&l).inc_by(rubles(m));
        }
    }
    pub(crate) fn saved(&self, p: Provider, m: Money) {
        if let Some(l) = self.provider(p) {
            self.saved.get_or_create(&l).inc_by(rubles(m));
        }
    }
    pub(crate) fn balance(&self, p: Provider, m: Money) {
        if let Some(l) = self.provider(p) {
            self.balance.get_or_create(&l).set(rubles(m));
        }
    }
    pub(crate) fn quota_left(&self, p: Provider, n: i64) {
        if let Some(l) = self.provider(p) {
            self.quota_left.get_or_create(&l).set(n);
        }
    }
    pub(crate) fn source_answer(&self, p: Provider, source: &'static str) {
        self.source_answers
            .get_or_create(&SourceLabels {
                provider: p.as_str(),
                source,
            })
            .inc();
    }
    pub(crate) fn saved_by_free_source(&self, p: Provider, m: Money) {
        if let Some(l) = self.provider(p) {
            self.saved_by_free.get_or_create(&l).inc_by(rubles(m));
        }
    }
    pub(crate) fn budget_refusal(&self, client: &str) {
        self.budget_refusals
            .get_or_create(&ClientLabels {
                client: Text(Arc::from(client)),
            })
            .inc();
    }

    /// A reload applied (`true`) or refused whole.
    pub(crate) fn reload(&self, applied: bool) {
        self.reloads
            .get_or_create(&ResultLabels {
                result: if applied { "applied" } else { "refused" },
            })
            .inc();
    }

    /// Requests of a route so far, by cache status (`HIT`, `MISS`, `COALESCED`, `STALE`, `-`).
    pub(crate) fn requests_of(&self, route: RouteId) -> [u64; 5] {
        let mut out = [0; 5];
        if let Some(slots) = self.requests.slots.get(route.0) {
            for (n, slot) in out.iter_mut().zip(slots) {
                *n = slot.count();
            }
        }
        out
    }

    /// One provider's numbers so far, as `/metrics` shows them (the status page).
    pub(crate) fn provider_numbers(&self, p: Provider) -> ProviderNumbers {
        let l = ProviderLabels {
            provider: p.as_str(),
        };
        ProviderNumbers {
            calls: self.provider_calls.get(&l).map_or(0, |c| c.get()),
            billed_unknown: self.billed_unknown.get(&l).map_or(0, |c| c.get()),
            spent_rub: self.spent.get(&l).map_or(0.0, |c| c.get()),
            saved_rub: self.saved.get(&l).map_or(0.0, |c| c.get()),
            saved_by_free_source_rub: self.saved_by_free.get(&l).map_or(0.0, |c| c.get()),
            balance_rub: self.balance.get(&l).map(|g| g.get()),
            quota_left: self.quota_left.get(&l).map(|g| g.get()),
        }
    }

    /// A query refused by proverka itself (one of [`REFUSALS`]): nothing sent.
    pub(crate) fn refused_locally(&self, p: Provider, reason: &'static str) {
        self.page.refused(p, reason);
    }

    /// A provider's local refusals so far, in the order of [`REFUSALS`].
    pub(crate) fn refused_of(&self, p: Provider) -> [u64; REFUSALS.len()] {
        self.page.refused_of(p)
    }

    /// p50 and p99 of a provider's latest calls.
    pub(crate) fn call_quantiles(&self, p: Provider) -> Option<Quantiles> {
        self.page.quantiles(p)
    }

    /// The latest provider errors, newest first.
    pub(crate) fn recent_errors(&self) -> Vec<RecentError> {
        lock(&self.recent_errors).iter().rev().cloned().collect()
    }

    /// Provider calls made so far (tests).
    pub fn provider_calls(&self, p: Provider) -> u64 {
        self.provider(p)
            .and_then(|l| self.provider_calls.get(&l).map(|c| c.get()))
            .unwrap_or(0)
    }

    /// The OpenMetrics text exposition, with the scrape-time values of `scrape`.
    pub(crate) fn render(&self, scrape: Scrape) -> String {
        let _one_at_a_time = lock(&self.rendering);
        *lock(&self.scrape) = scrape;
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            // Writing to a String cannot fail; keep what was written.
            let _ = writeln!(out, "# EOF");
        }
        out
    }
}

/// The engine's events, as metrics.
impl proverka_engine::Observer for Metrics {
    fn sending(&self, provider: Provider) {
        self.provider_call(provider);
    }

    fn judged(&self, call: &proverka_engine::JudgedCall<'_>) {
        let provider = call.provider;
        self.provider_call_judged(provider, call.verdict, call.answered, call.latency, call.at);
        match call.billed {
            proverka_core::Billed::Yes(_) => self.spent(provider, call.price),
            proverka_core::Billed::Unknown => self.billed_unknown(provider),
            proverka_core::Billed::No => {}
        }
        if let Some(source) = call.source {
            self.source_answer(provider, source);
        }
        if let Some((_, would_cost)) = call.free_answer {
            self.saved_by_free_source(provider, would_cost);
        }
        // Read in the one judgement: the body is not parsed again for them.
        let reported = call.verdict.reported();
        if let Some(balance) = reported.balance {
            self.balance(provider, balance);
        }
        if let Some(left) = reported.quota_left {
            self.quota_left(provider, left);
        }
    }

    fn saved(&self, provider: Provider, price: Money) {
        Metrics::saved(self, provider, price);
    }

    fn budget_refused(&self, tenant: &proverka_engine::Tenant) {
        self.budget_refusal(&tenant.name);
    }

    fn free_queue(&self, provider: Provider, event: proverka_engine::QueueEvent) {
        self.free_queue.record(provider, event);
    }
}
