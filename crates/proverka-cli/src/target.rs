//! Where checks go: through the engine straight to the providers ([`Target::Direct`]: the
//! adapters, the cache and Redis's with `--redis`, budgets and the ledger in the store of
//! record), or through a proverka proxy's typed API ([`Target::Proxy`]). Either way the
//! command names no provider: everything it knows of one comes from the registry.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::check::{Check, Planned};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use proverka_core::{CredentialStyle, Money, Provider, Secret};
use proverka_engine::config::{CacheConfig, ProviderConfig, RetryConfig, SourceMode};
use proverka_engine::{Credential, Engine, Outcome, Presence, Request, RowTask, Tenant};
use proverka_store::{SqlStore, Store};

mod via_proxy;

/// A failure that ends the whole run (a wrong client key, an unusable configuration).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Fatal(pub(crate) String);

/// Where a provider with a free source gets its answers (`--<provider>-source`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum SourceChoice {
    /// The paid provider only.
    #[default]
    Paid,
    /// The free source only; the paid provider is never called.
    Free,
    /// The free source while its queue is short (`PROVERKA_PROVIDERS_<PAID>_FREE_MAX_WAIT_SECS`,
    /// default 10) and it is not refusing; the paid provider otherwise.
    FreeThenPaid,
}

impl SourceChoice {
    /// Every value, as the flag takes them.
    pub(crate) const NAMES: [&'static str; 3] = ["paid", "free", "free-then-paid"];

    /// The flag's value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Paid => Self::NAMES[0],
            Self::Free => Self::NAMES[1],
            Self::FreeThenPaid => Self::NAMES[2],
        }
    }

    /// The choice a flag's value names.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        [Self::Paid, Self::Free, Self::FreeThenPaid]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(text.trim()))
    }

    fn mode(self) -> SourceMode {
        match self {
            Self::Paid => SourceMode::Paid,
            Self::Free => SourceMode::Free,
            Self::FreeThenPaid => SourceMode::FreeThenPaid,
        }
    }
}

/// The flag choosing the source of `paid`'s answers (`--<paid>-source`), and its environment
/// variable (`PROVERKA_<PAID>_SOURCE`).
pub(crate) fn source_flag(paid: Provider) -> (String, String) {
    (
        format!("{paid}-source"),
        format!("PROVERKA_{}_SOURCE", paid.as_str().to_uppercase()),
    )
}

/// The environment variable of the caller's bearer for `provider`.
pub(crate) fn bearer_variable(provider: Provider) -> String {
    format!("PROVERKA_{}_BEARER", provider.as_str().to_uppercase())
}

/// The settings the target is built from (flags and environment).
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) proxy: Option<String>,
    pub(crate) key: Option<Secret>,
    pub(crate) redis: Option<String>,
    pub(crate) sandbox: bool,
    pub(crate) per_minute: Option<u32>,
    /// `--bearer`: the caller's bearer for a provider that takes one (else its
    /// `PROVERKA_<PROVIDER>_BEARER`).
    pub(crate) bearer: Option<Secret>,
    /// `--<provider>-source` for each provider with a free source, where given.
    pub(crate) sources: Vec<(Provider, SourceChoice)>,
    /// The store of record's location (a path or a `postgres://` URL).
    pub(crate) store: String,
    /// What the run reads time from ([`crate::environment::clock`]).
    pub(crate) clock: Option<Arc<dyn proverka_core::Clock>>,
}

/// How one check is asked, beyond its query.
#[derive(Debug, Default, Clone)]
pub(crate) struct Asking {
    /// Only a cached answer this young.
    pub(crate) max_age: Option<Duration>,
    /// The provider's own reply in the outcome's `raw` through a proxy too (straight to a
    /// provider it always is).
    pub(crate) provider_answer: bool,
    /// Through a proxy, this client's key instead of the run's (a watch list's own client:
    /// its budget and spend).
    pub(crate) client_key: Option<Secret>,
}

/// A `PROVERKA_…` setting from the environment (or its `_FILE` form).
fn env(name: &str) -> Option<String> {
    crate::environment::var(name)
}

/// Through a proverka proxy (`--proxy URL`): its cache, budgets and ledger apply.
#[derive(Debug)]
pub(crate) struct ViaProxy {
    http: reqwest::Client,
    base: String,
    key: Option<Secret>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

/// Where checks go, and this run's place in the store of record.
#[derive(Debug)]
pub(crate) enum Target {
    /// Through the engine, to the providers.
    Direct {
        engine: Engine,
        tenant: Tenant,
        /// `--bearer`.
        bearer: Option<Secret>,
        /// Kept alive for `--sandbox`.
        _sandbox: Option<proverka_sandbox::SandboxHandle>,
    },
    /// Through a proxy; the store holds this run's batch state only.
    Proxy {
        proxy: ViaProxy,
        presence: Arc<Presence>,
        /// `--bearer`.
        bearer: Option<Secret>,
    },
}

/// The tenant a command-line run pays as: the user, by the name the system gives.
fn tenant() -> Tenant {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "cli".to_owned());
    Tenant::named(format!("cli:{user}"), format!("proverka ({user})"))
}

fn program() -> String {
    format!("proverka {}", env!("CARGO_PKG_VERSION"))
}

impl Target {
    /// Builds the target the flags ask for.
    ///
    /// # Errors
    /// An unusable proxy URL, store, Redis URL, base URL or credential.
    pub(crate) async fn new(settings: Settings) -> Result<Self, Fatal> {
        let clock: Arc<dyn proverka_core::Clock> = settings
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(proverka_core::SystemClock));
        let store: Arc<dyn Store> =
            Arc::new(SqlStore::open(&settings.store).map_err(|e| Fatal(format!("--store: {e}")))?);
        if let Some(base) = settings.proxy {
            if let Some((paid, source)) = settings.sources.first() {
                return Err(Fatal(format!(
                    "--{} {}: with --proxy, the proxy's [providers.{paid}] source decides (its answers still say which source answered)",
                    source_flag(*paid).0,
                    source.name()
                )));
            }
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(900))
                .build()
                .map_err(|e| Fatal(format!("HTTP client: {e}")))?;
            let limiter = settings
                .per_minute
                .and_then(NonZeroU32::new)
                .map(|n| Arc::new(RateLimiter::direct(Quota::per_minute(n))));
            return Ok(Self::Proxy {
                proxy: ViaProxy {
                    http,
                    base: base.trim_end_matches('/').to_owned(),
                    key: settings.key,
                    limiter,
                },
                presence: Presence::start(store, clock, &program()),
                bearer: settings.bearer,
            });
        }
        let mut providers = proverka_engine::config::providers_from_env(env).map_err(Fatal)?;
        let sandbox = if settings.sandbox {
            let s = proverka_sandbox::Sandbox::builder()
                .start("127.0.0.1:0")
                .await
                .map_err(|e| Fatal(format!("sandbox: {e}")))?;
            proverka_engine::config::point_at(
                &mut providers,
                &s.url(),
                proverka_sandbox::credential,
            );
            Some(s)
        } else {
            None
        };
        if let Some(n) = settings.per_minute {
            for adapter in proverka::adapters() {
                providers
                    .entry(adapter.provider().as_str().to_owned())
                    .or_default()
                    .per_minute
                    .get_or_insert(n);
            }
        }
        for (paid, source) in &settings.sources {
            providers
                .entry(paid.as_str().to_owned())
                .or_default()
                .source = Some(source.mode());
        }
        proverka_engine::config::validate_providers(&providers).map_err(Fatal)?;
        fallback_needs_a_credential(&providers)?;
        let cache = cache(settings.redis.as_deref())?;
        let engine = Engine::builder()
            .providers(providers)
            .cache(cache)
            .store(store)
            .clock(clock)
            .program(program())
            .build()
            .map_err(|e| Fatal(e.to_string()))?;
        Ok(Self::Direct {
            engine,
            tenant: tenant(),
            bearer: settings.bearer,
            _sandbox: sandbox,
        })
    }

    /// This run in the store of record (its batches).
    pub(crate) fn presence(&self) -> &Arc<Presence> {
        match self {
            Self::Direct { engine, .. } => engine.presence(),
            Self::Proxy { presence, .. } => presence,
        }
    }

    /// Ends this run in the store: settlements that waited are written, and the run leaves
    /// (a call still open now is settled `unknown`).
    pub(crate) async fn finish(&self) {
        match self {
            Self::Direct { engine, .. } => {
                engine.shutdown(Duration::ZERO).await;
            }
            Self::Proxy { presence, .. } => presence.leave().await,
        }
    }

    /// Whether checks go through a proxy.
    pub(crate) fn via_proxy(&self) -> bool {
        matches!(self, Self::Proxy { .. })
    }

    /// The most one call of `kind` may cost, where known (the page's maximum, or the tariff's
    /// price from `PROVERKA_PROVIDERS_*_PRICE_RUB`).
    pub(crate) fn max_price(&self, check: &Check, planned: Option<&Planned>) -> Option<Money> {
        let provider = check.provider();
        let cost = planned.map(|p| p.lookup.cost());
        let configured = match self {
            Self::Direct { engine, .. } => {
                let m = engine.max_price(
                    provider,
                    cost.unwrap_or(proverka_core::Cost::Paid { typical: None }),
                );
                (m > Money::ZERO).then_some(m)
            }
            Self::Proxy { .. } => env(&proverka_engine::config::provider_variable(
                provider,
                "price_rub",
            ))
            .and_then(|v| Money::parse(&v).ok()),
        };
        check.page_max_price().or(configured)
    }

    /// How long `calls` calls to `check`'s provider take, `concurrency` at a time: the average
    /// of its recent calls in the ledger, each turn of `concurrency` calls taking that long, and
    /// no faster than the provider's pace allows. `None` before the ledger has a call to it.
    pub(crate) async fn estimated_time(
        &self,
        check: &Check,
        calls: u64,
        concurrency: usize,
    ) -> Option<Duration> {
        let provider = check.provider();
        let latency = self
            .presence()
            .store()
            .recent_latency(provider.as_str(), 200)
            .await
            .ok()
            .flatten()?;
        let turns = calls.div_ceil(concurrency.max(1) as u64);
        let by_latency = latency.saturating_mul(u32::try_from(turns).unwrap_or(u32::MAX));
        let by_pace = match self {
            Self::Direct { engine, .. } => engine
                .upstream(provider)
                .pace()
                .map(|p| p.saturating_mul(u32::try_from(calls).unwrap_or(u32::MAX))),
            Self::Proxy { .. } => None,
        };
        Some(by_pace.map_or(by_latency, |p| p.max(by_latency)))
    }

    /// Whether an answer is already cached (free to ask: no provider call).
    pub(crate) async fn is_cached(&self, planned: &Planned) -> bool {
        match self {
            Self::Direct { engine, .. } => engine.is_cached(&*planned.lookup).await,
            Self::Proxy { proxy, .. } => proxy
                .get(
                    planned,
                    None,
                    via_proxy::Ask {
                        only_cached: true,
                        ..via_proxy::Ask::default()
                    },
                )
                .await
                .is_ok_and(|o| o.status == proverka_engine::Status::Ok),
        }
    }

    /// Runs one check, asked as `asking` says; a batch row's outcome is recorded in the store
    /// (straight to a provider, with the call's settlement).
    ///
    /// # Errors
    /// [`Fatal`] when the run cannot go on (a client key the proxy refuses, no credential).
    pub(crate) async fn check(
        &self,
        check: &Check,
        planned: &Planned,
        row: Option<RowTask>,
        request_id: &str,
        asking: &Asking,
    ) -> Result<Outcome, Fatal> {
        let Asking {
            max_age,
            provider_answer,
            client_key,
        } = asking;
        let (max_age, provider_answer) = (*max_age, *provider_answer);
        let bearer = self.bearer(check)?;
        match self {
            Self::Direct { engine, tenant, .. } => {
                needs_a_credential(engine, planned.lookup.provider())?;
                let mut request = Request::new(
                    engine,
                    Arc::clone(&planned.lookup),
                    tenant.clone(),
                    &request_id,
                );
                if let Some(bearer) = bearer {
                    request.credential = Credential::PassThrough(bearer);
                }
                request.options.max_age = max_age;
                let one_off = row.is_none();
                request.row = row;
                let mut outcome = engine.check(request).await;
                // A batch row is summarized by the engine as it is recorded; a one-off answer
                // gets the same columns from its model, as through a proxy.
                if one_off && let Some(result) = &outcome.result {
                    outcome.fields = check.fields(result);
                }
                Ok(outcome)
            }
            Self::Proxy { proxy, .. } => {
                let ask = via_proxy::Ask {
                    request_id: Some(request_id),
                    max_age,
                    with_provider_answer: provider_answer,
                    client_key: client_key.as_ref(),
                    ..via_proxy::Ask::default()
                };
                let outcome = proxy.get(planned, bearer.as_ref(), ask).await?;
                Ok(Outcome {
                    fields: outcome.result.as_ref().map_or_else(Default::default, |r| {
                        if outcome.status == proverka_engine::Status::Ok {
                            check.fields(r)
                        } else {
                            Default::default()
                        }
                    }),
                    ..outcome
                })
            }
        }
    }

    /// The caller's bearer, for a provider that takes one: `--bearer`, else its
    /// `PROVERKA_<PROVIDER>_BEARER`; `None` for a provider that takes none.
    ///
    /// # Errors
    /// [`Fatal`] when the provider needs one and none was given.
    fn bearer(&self, check: &Check) -> Result<Option<Secret>, Fatal> {
        if check.adapter.credential() != CredentialStyle::CallerBearer {
            return Ok(None);
        }
        let given = match self {
            Self::Direct { bearer, .. } | Self::Proxy { bearer, .. } => bearer.clone(),
        };
        let variable = bearer_variable(check.provider());
        given
            .or_else(|| env(&variable).map(Secret::new))
            .map(Some)
            .ok_or_else(|| {
                Fatal(format!(
                    "{} needs the caller's bearer: --bearer or {variable}",
                    check.provider()
                ))
            })
    }

    /// Whether a row sent through the proxy under `request_id` by a run that stopped may be
    /// asked again without paying twice: yes when no call made for it may have been billed, or
    /// its answer is cached (a call in flight is joined, not repeated). Without a proxy, or when
    /// the proxy cannot tell, no. `key`: the client key it was sent with, when not the run's.
    pub(crate) async fn may_ask_again(
        &self,
        planned: &Planned,
        request_id: &str,
        key: Option<&Secret>,
    ) -> bool {
        let Self::Proxy { proxy, .. } = self else {
            return false;
        };
        match proxy.calls(request_id, key).await {
            Ok(calls) => {
                let maybe_billed = calls
                    .iter()
                    .any(|b| matches!(b.as_deref(), Some("charged" | "unknown")));
                !maybe_billed || self.is_cached(planned).await
            }
            Err(e) => {
                warn_unanswered(&e);
                false
            }
        }
    }
}

/// A proxy that could not say what an interrupted row cost: the row stays `billed_unknown`.
fn warn_unanswered(e: &Fatal) {
    eprintln!(
        "proverka: cannot ask the proxy about an interrupted row ({e}); it is kept as billed_unknown"
    );
}

/// A provider whose credential travels as a parameter and is not configured: the run stops
/// before paying for refusals.
fn needs_a_credential(engine: &Engine, provider: Provider) -> Result<(), Fatal> {
    let upstream = engine.upstream(provider);
    let only_free = upstream
        .free()
        .is_some_and(|route| route.mode == SourceMode::Free);
    match upstream.credential_style() {
        CredentialStyle::QueryParam(param)
            if upstream.configured_credential().is_none() && !only_free =>
        {
            Err(Fatal(format!(
                "no {provider} credential: set {} (the provider's `{param}`), or use --sandbox / --proxy",
                proverka_engine::config::provider_variable(
                    provider,
                    if param == "key" { "key" } else { "token" }
                )
            )))
        }
        _ => Ok(()),
    }
}

/// `free-then-paid` falls back to the paid provider: its credential must be there.
fn fallback_needs_a_credential(providers: &BTreeMap<String, ProviderConfig>) -> Result<(), Fatal> {
    for source in proverka::free_sources() {
        let paid = proverka_engine::config::provider_config(providers, source.paid());
        if paid.source == Some(SourceMode::FreeThenPaid) && paid.credential().is_none() {
            return Err(Fatal(format!(
                "--{flag} free-then-paid needs {}'s credential for the fallback: set {}, or use --{flag} free",
                source.source_names().0,
                proverka_engine::config::provider_variable(source.paid(), "key"),
                flag = source_flag(source.paid()).0
            )));
        }
    }
    Ok(())
}

/// The cache of a direct run: memory, and Redis's with `--redis` (encrypted with the proxy's
/// keys, rotation included, so the two share entries).
fn cache(redis: Option<&str>) -> Result<proverka_cache::TieredCache, Fatal> {
    let mut config = CacheConfig {
        memory_mb: 64,
        ..CacheConfig::default()
    };
    if let Some(url) = redis {
        config.redis_url = Some(Secret::new(url));
        let keys = env("PROVERKA_CACHE_ENCRYPTION_KEYS")
            .map(|list| list.split(',').map(|k| Secret::new(k.trim())).collect())
            .unwrap_or_default();
        config.encryption_keys = keys;
        config.encryption_key = env("PROVERKA_CACHE_ENCRYPTION_KEY").map(Secret::new);
        config.allow_plaintext = env("PROVERKA_CACHE_ALLOW_PLAINTEXT").as_deref() == Some("true");
        if config.encryption_key.is_none()
            && config.encryption_keys.is_empty()
            && !config.allow_plaintext
        {
            return Err(Fatal(
                "--redis needs PROVERKA_CACHE_ENCRYPTION_KEY (64 hex digits; the proxy's, to share its entries): answers there hold personal data. Set PROVERKA_CACHE_ALLOW_PLAINTEXT=true to store them unencrypted on purpose".into(),
            ));
        }
        if let Some(prefix) = env("PROVERKA_CACHE_KEY_PREFIX") {
            config.key_prefix = prefix;
        }
    }
    config
        .validate()
        .map_err(|e| Fatal(format!("--redis: {e}")))?;
    config
        .build(&RetryConfig::default())
        .map_err(|e| Fatal(format!("--redis: {e}")))
}
