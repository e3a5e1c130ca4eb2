//! Where checks go: straight to the providers through the adapters and the cache
//! ([`Engine::Direct`]), or through a proverka proxy's typed API ([`Engine::Proxy`]).

use std::sync::Arc;

use governor::DefaultDirectRateLimiter;
use proverka_cache::{CacheStatus, FetchOptions, TieredCache};
use proverka_core::{
    Billed, FreeFirst, Lookup, Money, Provider, RawAnswer, Secret, TransportError,
    TransportErrorKind, Verdict,
};
use serde_json::Value;

use crate::check::{CheckKind, Planned, result_fields};
use crate::free::{FreeNpd, FreeOutcome, NpdSource};
use crate::outcome::{Outcome, Status};

mod setup;
mod via_proxy;

/// A failure that ends the whole run (a wrong client key, an unusable configuration).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Fatal(pub(crate) String);

/// The settings the engines are built from (flags and environment).
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) proxy: Option<String>,
    pub(crate) key: Option<Secret>,
    pub(crate) redis: Option<String>,
    pub(crate) sandbox: bool,
    pub(crate) per_minute: Option<u32>,
    pub(crate) alfa_bearer: Option<Secret>,
    /// `--npd-source`; `None` when not given.
    pub(crate) npd_source: Option<NpdSource>,
}

/// One provider's client, as the adapters build it.
#[derive(Debug)]
enum Upstream {
    Fssp(proverka_fssp::FsspClient),
    Court(proverka_court::CourtClient),
    Npd(proverka_npd::NpdClient),
}

impl Upstream {
    async fn fetch(&self, lookup: &dyn Lookup) -> Result<RawAnswer, TransportError> {
        match self {
            Self::Fssp(c) => c.fetch_raw(lookup).await,
            Self::Court(c) => c.fetch_raw(lookup).await,
            Self::Npd(c) => c.fetch_raw(lookup).await,
        }
    }
}

/// Straight to the providers: the adapters' clients, the in-process cache (and Redis's with
/// `--redis`), free retries by the cache's flight, a rate limit per provider.
#[derive(Debug)]
pub(crate) struct Direct {
    cache: TieredCache,
    upstreams: Vec<(Provider, Arc<Upstream>)>,
    prices: Vec<(Provider, Money)>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    alfa: Option<(proverka_alfa::AlfaClient, Secret)>,
    /// `--npd-source free` or `free-then-paid`: the tax service's free check.
    free_npd: Option<Arc<FreeNpd>>,
    /// Kept alive for `--sandbox`.
    _sandbox: Option<proverka_sandbox::SandboxHandle>,
}

/// Through a proverka proxy (`--proxy URL`): its cache, budgets and ledger apply.
#[derive(Debug)]
pub(crate) struct ViaProxy {
    http: reqwest::Client,
    base: String,
    key: Option<Secret>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    alfa_bearer: Option<Secret>,
}

/// A `PROVERKA_…` setting from the environment (or its `_FILE` form).
fn env(name: &str) -> Option<String> {
    crate::environment::var(name)
}

/// Where checks go.
#[derive(Debug)]
pub(crate) enum Engine {
    /// To the providers.
    Direct(Box<Direct>),
    /// Through a proxy.
    Proxy(ViaProxy),
}

impl Engine {
    /// The most one call of `kind` may cost, where known (the page's maximum, or the tariff's
    /// price from `PROVERKA_PROVIDERS_*_PRICE_RUB`).
    pub(crate) fn max_price(&self, kind: CheckKind) -> Option<Money> {
        let configured = match self {
            Self::Direct(d) => d
                .prices
                .iter()
                .find(|(p, _)| *p == kind.provider())
                .map(|(_, m)| *m),
            Self::Proxy(_) => env(&format!(
                "PROVERKA_PROVIDERS_{}_PRICE_RUB",
                kind.provider().as_str().to_uppercase()
            ))
            .and_then(|v| Money::parse(&v).ok()),
        };
        kind.page_max_price().or(configured)
    }

    /// Whether an answer is already cached (free to ask: no provider call).
    pub(crate) async fn is_cached(&self, kind: CheckKind, planned: &Planned) -> bool {
        match self {
            Self::Direct(d) => d.cache.cached(&*planned.lookup, None).await.is_some(),
            Self::Proxy(p) => p
                .get(kind, planned, true)
                .await
                .is_ok_and(|o| o.status == Status::Ok),
        }
    }

    /// Runs one check.
    ///
    /// # Errors
    /// [`Fatal`] when the run cannot go on (a client key the proxy refuses, no credential).
    pub(crate) async fn check(&self, kind: CheckKind, planned: &Planned) -> Result<Outcome, Fatal> {
        match self {
            Self::Direct(d) => d.check(kind, planned).await,
            Self::Proxy(p) => p.get(kind, planned, false).await,
        }
    }

    /// One Alfa-Bank registry, every page.
    ///
    /// # Errors
    /// No bearer, or the registry could not be read.
    pub(crate) async fn alfa(&self, request_id: &str) -> Result<Value, Fatal> {
        match self {
            Self::Direct(d) => {
                let Some((client, bearer)) = &d.alfa else {
                    return Err(Fatal(
                        "alfa needs the bank's bearer: --bearer or PROVERKA_ALFA_BEARER".into(),
                    ));
                };
                let registry = client
                    .fetch_all(bearer, request_id, proverka_alfa::EXAMPLE_PAGE_SIZE)
                    .await
                    .map_err(|e| Fatal(format!("alfa: {e}")))?;
                serde_json::to_value(registry).map_err(|e| Fatal(e.to_string()))
            }
            Self::Proxy(p) => {
                let Some(bearer) = &p.alfa_bearer else {
                    return Err(Fatal(
                        "alfa needs the bank's bearer: --bearer or PROVERKA_ALFA_BEARER".into(),
                    ));
                };
                let mut req = p
                    .http
                    .get(format!("{}/v1/alfa/registries/{request_id}", p.base))
                    .bearer_auth(bearer.expose());
                if let Some(k) = &p.key {
                    req = req.header("X-Proverka-Key", k.expose());
                }
                let r = req
                    .send()
                    .await
                    .map_err(|e| Fatal(format!("proxy: {}", e.without_url())))?;
                r.json()
                    .await
                    .map_err(|e| Fatal(format!("proxy: {}", e.without_url())))
            }
        }
    }
}

/// The typed model of an answer, as JSON.
fn render(kind: CheckKind, raw: &RawAnswer) -> Result<Value, String> {
    let json = |v: Result<Value, serde_json::Error>| v.map_err(|e| e.to_string());
    match kind.provider() {
        Provider::Npd => proverka_npd::parse(raw)
            .map_err(|e| e.to_string())
            .and_then(|v| json(serde_json::to_value(v))),
        Provider::Court => proverka_court::parse(raw)
            .map_err(|e| e.to_string())
            .and_then(|v| json(serde_json::to_value(v))),
        _ => {
            let t = proverka_fssp::QueryType::parse(kind.fssp_type().unwrap_or_default())
                .unwrap_or(proverka_fssp::QueryType::Physical);
            proverka_fssp::FsspAnswer::from_raw(t, raw)
                .map_err(|e| e.to_string())
                .and_then(|v| json(serde_json::to_value(v)))
        }
    }
}

fn price_text(billed: Billed, configured: Option<Money>) -> Option<String> {
    match billed {
        Billed::No => Some(Money::ZERO.to_string()),
        Billed::Yes(Some(m)) => Some(m.to_string()),
        Billed::Yes(None) | Billed::Unknown => configured.map(|m| m.to_string()),
    }
}

impl Direct {
    async fn check(&self, kind: CheckKind, planned: &Planned) -> Result<Outcome, Fatal> {
        let provider = kind.provider();
        let upstream = self
            .upstreams
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, u)| Arc::clone(u));
        // NPD with `--npd-source`: the free check first (its answer fills the same entry).
        let free = self.free_npd.clone().filter(|_| provider == Provider::Npd);
        if upstream.is_none() && free.is_none() {
            return Err(Fatal(format!(
                "no {provider} credential: set PROVERKA_PROVIDERS_{}_{} (or use --sandbox / --proxy)",
                provider.as_str().to_uppercase(),
                if provider == Provider::Npd {
                    "KEY"
                } else {
                    "TOKEN"
                }
            )));
        }
        let configured = self
            .prices
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, m)| *m);
        let first = free.as_ref().map(|f| {
            Arc::new(FreeFirst::new(
                Arc::clone(&planned.lookup),
                Arc::clone(&f.source),
            ))
        });
        let lookup: Arc<dyn Lookup> = match &first {
            Some(f) => Arc::clone(f) as Arc<dyn Lookup>,
            None => Arc::clone(&planned.lookup),
        };
        let (cache, limiter) = (self.cache.clone(), self.limiter.clone());
        let fetch = {
            let lookup = Arc::clone(&lookup);
            move || {
                let (upstream, lookup, limiter, cache) = (
                    upstream.clone(),
                    Arc::clone(&lookup),
                    limiter.clone(),
                    cache.clone(),
                );
                let (free, first) = (free.clone(), first.clone());
                async move {
                    if let (Some(free), Some(first)) = (&free, &first) {
                        match free.ask(first, &cache).await {
                            FreeOutcome::Answered(answer) => return Ok(answer),
                            FreeOutcome::Failed(e) => return Err(e),
                            FreeOutcome::AskPaid => {}
                        }
                    }
                    let Some(upstream) = upstream else {
                        // Only `--npd-source free` runs without the paid client, and it
                        // never asks for it.
                        return Err(TransportError::new(
                            TransportErrorKind::SourceFailed,
                            Provider::Npd,
                            "(no paid client)",
                            false,
                            None,
                        ));
                    };
                    if let Some(l) = limiter {
                        l.until_ready().await;
                    }
                    upstream.fetch(&*lookup).await
                }
            }
        };
        let served = self
            .cache
            .get_or_fetch(Arc::clone(&lookup), FetchOptions::default(), fetch)
            .await;
        let served = match served {
            Ok(s) => s,
            Err(e) => {
                let billed = e.billed();
                return Ok(Outcome::failed(
                    Outcome::failure_status(billed.as_str(), true),
                    "transport",
                    e.to_string(),
                    billed.as_str(),
                    "provider",
                ));
            }
        };
        let verdict = &served.answer.verdict;
        let free = self.free_npd.as_ref().map(|f| f.name());
        let source = match (served.status, free) {
            (CacheStatus::Hit(_) | CacheStatus::Stale, _) => "cache",
            // An NPD answer that cost nothing came from the free check.
            (_, Some(free))
                if provider == Provider::Npd
                    && verdict.billed().is_no()
                    && matches!(verdict, Verdict::Answer { .. }) =>
            {
                free
            }
            _ => "provider",
        };
        let billed = verdict.billed();
        let rendered = render(kind, &served.answer.raw);
        let mut outcome = match (verdict, rendered) {
            (Verdict::Answer { .. }, Ok(result)) => Outcome {
                status: Status::Ok,
                fields: result_fields(kind, &result),
                error_code: None,
                error_message: None,
                billed: billed.as_str().to_owned(),
                price_rub: None,
                source: source.to_owned(),
                result: Some(result),
            },
            (v, rendered) => Outcome::failed(
                Outcome::failure_status(billed.as_str(), v.retryable()),
                v.code(),
                rendered.err().unwrap_or_default(),
                billed.as_str(),
                source,
            ),
        };
        outcome.price_rub = price_text(billed, configured);
        Ok(outcome)
    }
}
