//! Building the engine from the flags and the environment: the adapters' clients and their
//! credentials, the cache (and Redis's, encrypted), the free NPD source, the proxy's client.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use proverka_cache::{RedisOptions, RedisStore, TieredCache};
use proverka_core::{HttpClient, HttpSettings, Money, Provider, RetryPolicy};

use super::{Direct, Engine, Fatal, Settings, Upstream, ViaProxy, env};
use crate::free::{FreeNpd, NpdSource};

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
                // The registry's free source for NPD, and its provider's defaults.
                let source = proverka::free_sources()
                    .into_iter()
                    .find(|s| s.paid() == Provider::Npd)
                    .ok_or_else(|| Fatal("this build has no free NPD source".into()))?;
                let free = source.free();
                let spec = proverka::adapters()
                    .into_iter()
                    .find(|a| a.provider() == free)
                    .map(|a| a.spec())
                    .ok_or_else(|| Fatal(format!("this build has no adapter for {free}")))?;
                let free_env = free.as_str().to_uppercase();
                let url = base(&free_env).unwrap_or_else(|| spec.base_url.to_owned());
                let http = HttpSettings::new(&url, spec.timeout)
                    .and_then(|settings| HttpClient::new(free, settings))
                    .map_err(|e| config(e, free.as_str()))?;
                let per_minute_var = format!("PROVERKA_PROVIDERS_{free_env}_PER_MINUTE");
                let per_minute = match env(&per_minute_var) {
                    None => spec.calls_per_minute.unwrap_or(1).max(1),
                    Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        Fatal(format!(
                            "{per_minute_var}: {v:?} is not a whole number above 0"
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
                    http,
                    source,
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
}
