//! Where checks go: straight to the providers through the adapters and the cache
//! ([`Engine::Direct`]), or through a proverka proxy's typed API ([`Engine::Proxy`]).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use proverka_cache::{CacheStatus, FetchOptions, RedisOptions, RedisStore, TieredCache};
use proverka_core::{
    Billed, FreeFirst, FreeSource, Lookup, Money, Provider, RawAnswer, RetryPolicy, Secret,
    TransportError, TransportErrorKind, Verdict,
};
use serde_json::Value;

use crate::check::{CheckKind, Planned, result_fields};
use crate::free::{FreeNpd, FreeOutcome, NpdSource};
use crate::outcome::{Outcome, Status};

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

/// Where checks go.
#[derive(Debug)]
pub(crate) enum Engine {
    /// To the providers.
    Direct(Box<Direct>),
    /// Through a proxy.
    Proxy(ViaProxy),
}

/// A `PROVERKA_…` setting from the environment (or its `_FILE` form).
fn env(name: &str) -> Option<String> {
    crate::environment::var(name)
}

fn limiter(per_minute: Option<u32>) -> Option<Arc<DefaultDirectRateLimiter>> {
    per_minute
        .and_then(NonZeroU32::new)
        .map(|n| Arc::new(RateLimiter::direct(Quota::per_minute(n))))
}

impl Engine {
    /// Builds the engine the flags ask for.
    ///
    /// # Errors
    /// An unusable proxy URL, Redis URL, base URL or credential.
    pub(crate) async fn new(settings: Settings) -> Result<Self, Fatal> {
        if let Some(base) = settings.proxy {
            if let Some(source) = settings.npd_source {
                return Err(Fatal(format!(
                    "--npd-source {}: with --proxy, the proxy's [providers.npd] source decides (its answers still say which source answered)",
                    source.name()
                )));
            }
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(900))
                .build()
                .map_err(|e| Fatal(format!("HTTP client: {e}")))?;
            return Ok(Self::Proxy(ViaProxy {
                http,
                base: base.trim_end_matches('/').to_owned(),
                key: settings.key,
                limiter: limiter(settings.per_minute),
                alfa_bearer: settings.alfa_bearer,
            }));
        }
        let (sandbox, sandbox_url) = if settings.sandbox {
            let s = proverka_sandbox::Sandbox::builder()
                .start("127.0.0.1:0")
                .await
                .map_err(|e| Fatal(format!("sandbox: {e}")))?;
            let url = s.url();
            (Some(s), Some(url))
        } else {
            (None, None)
        };
        let base = |p: &str| {
            sandbox_url
                .clone()
                .or_else(|| env(&format!("PROVERKA_PROVIDERS_{p}_BASE_URL")))
        };
        let credential = |p: &str, name: &str, sandboxed: &str| {
            env(&format!("PROVERKA_PROVIDERS_{p}_{name}"))
                .or_else(|| settings.sandbox.then(|| sandboxed.to_owned()))
        };
        let mut upstreams = Vec::new();
        let config = |e: proverka_core::ConfigError, p: &str| {
            Fatal(format!(
                "{p}: {e} (set PROVERKA_PROVIDERS_{}_… or use --sandbox / --proxy)",
                p.to_uppercase()
            ))
        };
        if let Some(token) = credential("FSSP", "TOKEN", proverka_sandbox::FSSP_TOKEN) {
            let mut b = proverka_fssp::FsspClient::builder().token(token);
            if let Some(url) = base("FSSP") {
                b = b.base_url(url);
            }
            upstreams.push((
                Provider::Fssp,
                Arc::new(Upstream::Fssp(b.build().map_err(|e| config(e, "fssp"))?)),
            ));
        }
        if let Some(token) = credential("COURT", "TOKEN", "sandbox-court-token") {
            let mut b = proverka_court::CourtClient::builder().token(token);
            if let Some(url) = base("COURT") {
                b = b.base_url(url);
            }
            upstreams.push((
                Provider::Court,
                Arc::new(Upstream::Court(b.build().map_err(|e| config(e, "court"))?)),
            ));
        }
        if let Some(key) = credential("NPD", "KEY", "sandbox-npd-key") {
            let mut b = proverka_npd::NpdClient::builder().token(key);
            if let Some(url) = base("NPD") {
                b = b.base_url(url);
            }
            upstreams.push((
                Provider::Npd,
                Arc::new(Upstream::Npd(b.build().map_err(|e| config(e, "npd"))?)),
            ));
        }
        let npd_source = settings.npd_source.unwrap_or_default();
        let free_npd = match npd_source {
            NpdSource::Paid => None,
            mode => {
                if mode == NpdSource::FreeThenPaid
                    && !upstreams.iter().any(|(p, _)| *p == Provider::Npd)
                {
                    return Err(Fatal(
                        "--npd-source free-then-paid needs api-assist's key for the fallback: set PROVERKA_PROVIDERS_NPD_KEY, or use --npd-source free".into(),
                    ));
                }
                let mut b = proverka_fns::FnsClient::builder();
                if let Some(url) = base("FNS") {
                    b = b.base_url(url);
                }
                let per_minute = match env("PROVERKA_PROVIDERS_FNS_PER_MINUTE") {
                    None => 2,
                    Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        Fatal(format!(
                            "PROVERKA_PROVIDERS_FNS_PER_MINUTE: {v:?} is not a whole number above 0"
                        ))
                    })?,
                };
                let max_wait = match env("PROVERKA_PROVIDERS_NPD_FREE_MAX_WAIT_SECS") {
                    None => 10,
                    Some(v) => v.parse::<u64>().map_err(|_| {
                        Fatal(format!(
                            "PROVERKA_PROVIDERS_NPD_FREE_MAX_WAIT_SECS: {v:?} is not a whole number of seconds"
                        ))
                    })?,
                };
                Some(Arc::new(FreeNpd {
                    client: b.build().map_err(|e| config(e, "fns"))?,
                    source: Arc::new(proverka::NpdFromFns) as Arc<dyn FreeSource>,
                    mode,
                    interval: Duration::from_secs(60) / per_minute,
                    max_wait: Duration::from_secs(max_wait),
                }))
            }
        };
        let alfa = match settings.alfa_bearer {
            Some(bearer) => {
                let mut b = proverka_alfa::AlfaClient::builder();
                if let Some(url) = base("ALFA") {
                    b = b.base_url(url);
                }
                Some((b.build().map_err(|e| config(e, "alfa"))?, bearer))
            }
            None => None,
        };
        let prices = [Provider::Court, Provider::Npd]
            .into_iter()
            .filter_map(|p| {
                let from_env = env(&format!(
                    "PROVERKA_PROVIDERS_{}_PRICE_RUB",
                    p.as_str().to_uppercase()
                ))
                .and_then(|v| Money::parse(&v).ok());
                from_env
                    .or_else(|| settings.sandbox.then(|| Money::from_kopecks(100)))
                    .map(|m| (p, m))
            })
            .collect();
        let mut cache = TieredCache::builder()
            .memory_bytes(64 << 20)
            // The flight re-sends only what the provider calls free (FSSP 456, NPD success=0).
            .retry(RetryPolicy::default());
        if let Some(url) = &settings.redis {
            // The same rule and the same key as the proxy's: answers hold personal data, and
            // with the proxy's key the two share entries.
            // The proxy's keys, rotation included: the first encrypts, every one decrypts.
            let keys = env("PROVERKA_CACHE_ENCRYPTION_KEYS")
                .map(|list| ("PROVERKA_CACHE_ENCRYPTION_KEYS", list))
                .or_else(|| {
                    env("PROVERKA_CACHE_ENCRYPTION_KEY")
                        .map(|k| ("PROVERKA_CACHE_ENCRYPTION_KEY", k))
                });
            match keys {
                Some((var, text)) => {
                    let keys = text
                        .split(',')
                        .map(|hex| proverka_cache::EncryptionKey::from_hex(hex.trim()))
                        .collect::<Result<Vec<_>, _>>()
                        .and_then(proverka_cache::Keyring::new)
                        .map_err(|e| Fatal(format!("{var}: {e}")))?;
                    cache = cache.encryption_keys(keys);
                }
                None if env("PROVERKA_CACHE_ALLOW_PLAINTEXT").as_deref() == Some("true") => {}
                None => {
                    return Err(Fatal(
                        "--redis needs PROVERKA_CACHE_ENCRYPTION_KEY (64 hex digits; the proxy's, to share its entries): answers there hold personal data. Set PROVERKA_CACHE_ALLOW_PLAINTEXT=true to store them unencrypted on purpose".into(),
                    ));
                }
            }
            let store = RedisStore::single(url, RedisOptions::default())
                .map_err(|e| Fatal(format!("--redis: {e}")))?;
            cache = cache.remote(Arc::new(store));
        }
        Ok(Self::Direct(Box::new(Direct {
            cache: cache.build(),
            upstreams,
            prices,
            limiter: limiter(settings.per_minute),
            alfa,
            free_npd,
            _sandbox: sandbox,
        })))
    }

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
        let source = match served.status {
            CacheStatus::Hit(_) | CacheStatus::Stale => "cache",
            // An NPD answer that cost nothing came from the free check.
            _ if self.free_npd.is_some()
                && provider == Provider::Npd
                && verdict.billed().is_no()
                && matches!(verdict, Verdict::Answer { .. }) =>
            {
                "fns"
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

impl ViaProxy {
    async fn get(
        &self,
        kind: CheckKind,
        planned: &Planned,
        only_cached: bool,
    ) -> Result<Outcome, Fatal> {
        if !only_cached && let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        let mut req = self
            .http
            .get(format!("{}{}", self.base, kind.v1_path()))
            .query(&planned.pairs);
        if let Some(k) = &self.key {
            req = req.header("X-Proverka-Key", k.expose());
        }
        if only_cached {
            req = req.header("Cache-Control", "only-if-cached");
        }
        let response = match req.send().await {
            Ok(r) => r,
            // The proxy caches whatever the provider answered: asking again is a hit then.
            Err(e) => {
                return Ok(Outcome::failed(
                    Status::RetryLater,
                    "proxy_unreachable",
                    format!("the proxy did not answer: {}", e.without_url()),
                    "unknown",
                    "proxy",
                ));
            }
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_default();
        if status == 401 {
            return Err(Fatal(
                "the proxy refused the client key (401): set --key or PROVERKA_KEY".into(),
            ));
        }
        let billed = body["charge"]["kind"].as_str().unwrap_or("free").to_owned();
        let price = body["charge"]["price"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| (billed == "free").then(|| Money::ZERO.to_string()));
        let source = match (body["cache"].as_str(), body["source"].as_str()) {
            (Some("HIT" | "STALE"), _) => "cache",
            // The proxy's free source answered (`[providers.npd] source`).
            (_, Some("fns")) => "fns",
            _ => "provider",
        };
        let mut outcome = match status {
            200 => Outcome {
                status: Status::Ok,
                fields: result_fields(kind, &body["result"]),
                error_code: None,
                error_message: None,
                billed,
                price_rub: price.clone(),
                source: source.to_owned(),
                result: Some(body["result"].clone()),
            },
            400 => {
                let pb = &body["error"]["provider_body"];
                let code = pb["error"]
                    .as_str()
                    .or_else(|| pb["data"]["error"].as_str())
                    .map_or_else(|| pb["error"].to_string(), str::to_owned);
                Outcome::invalid(code, pb.to_string())
            }
            402 => Outcome::failed(
                Status::RetryLater,
                "budget_exceeded",
                body["message"]
                    .as_str()
                    .unwrap_or("the client's daily budget is spent"),
                "free",
                "proxy",
            ),
            _ => {
                let e = &body["error"];
                let (code, message, retryable) = if e.is_object() {
                    (
                        e["source"].as_str().unwrap_or("provider").to_owned(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                        e["retryable"].as_bool().unwrap_or(false),
                    )
                } else {
                    (
                        e.as_str().unwrap_or("proxy_error").to_owned(),
                        body["message"].as_str().unwrap_or_default().to_owned(),
                        body["retryable"].as_bool().unwrap_or(false),
                    )
                };
                Outcome::failed(
                    Outcome::failure_status(&billed, retryable),
                    code,
                    message,
                    &billed,
                    source,
                )
            }
        };
        if outcome.price_rub.is_none() {
            outcome.price_rub = price;
        }
        Ok(outcome)
    }
}
