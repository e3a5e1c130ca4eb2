//! HTTP routes: drop-in provider paths, the typed `/v1` API, metrics and health.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Bytes;
use proverka_cache::{FetchOptions, RemoteStatus, Served};
use proverka_core::{Lookup, Provider, Secret};
use serde_json::{Value, json};

use crate::app::{self, AppState, Call, CallError, Client, Credential};

mod memo;
mod ops;
mod render;

use memo::Keyed;
pub(crate) use memo::ParseMemo;
use ops::{metrics_route, readyz, spend};
use render::{billed_header, drop_in, typed};

const ALFA_PREFIX: &str = "/api/semp/v1/selfemployed/registries/add-selfemployed/";

/// Drop-in (the provider's bytes) or typed (`/v1`, the adapter's model as JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    DropIn,
    Typed,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    reply(
        status,
        "application/json; charset=utf-8",
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    json_reply(status, &json!({"error": code, "message": message}))
}

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listener {
    /// The main one: providers' routes, `/v1`, health; `/metrics` unless `metrics_listen`.
    Main,
    /// `metrics_listen`: `/metrics`, `/healthz`, `/readyz` only, no client key.
    Metrics,
}

/// A parsed incoming request: what the routes need, owned.
pub(crate) struct Incoming {
    pub(crate) listener: Listener,
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
}

/// Answers one request and logs one line (never a query value or a secret).
pub(crate) async fn handle(state: &Arc<AppState>, req: Incoming) -> Reply {
    let started = Instant::now();
    let (route, response, client) = route(state, &req).await;
    {
        let cache = response
            .headers()
            .get("x-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        if route != "health" {
            state.metrics.request(route, cache);
        }
        tracing::info!(
            route,
            status = response.status().as_u16(),
            cache,
            latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            client = client.as_deref().unwrap_or("-"),
            "request"
        );
    }
    response
}

async fn route(state: &Arc<AppState>, req: &Incoming) -> (&'static str, Reply, Option<Arc<str>>) {
    let path = req.path.as_str();
    // Every route is a GET (the providers' pages say GET); anything else would be served as
    // a GET and paid for.
    if req.method != http::Method::GET {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "only GET is served",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return ("unknown", r, None);
    }
    if req.listener == Listener::Metrics && !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return (
            "unknown",
            error(
                StatusCode::NOT_FOUND,
                "not_found",
                "only /metrics, /healthz and /readyz here",
            ),
            None,
        );
    }
    let proxied = |provider, mode, tail: String| async move {
        proxied(state, req, provider, mode, &tail).await
    };
    match path {
        "/healthz" => ("health", reply(StatusCode::OK, "text/plain", "ok\n"), None),
        "/readyz" => ("health", readyz(state).await, None),
        "/metrics" => ("metrics", metrics_route(state, req).await, None),
        "/v1/openapi.json" => (
            "openapi",
            json_reply(StatusCode::OK, &crate::openapi::document()),
            None,
        ),
        "/v1/spend" => {
            let (r, client) = spend(state, req).await;
            ("v1.spend", r, client)
        }
        "/api/fssp.php" => with_route(
            "fssp",
            proxied(Provider::Fssp, Mode::DropIn, String::new()).await,
        ),
        "/api" | "/api/" => with_route(
            "court",
            proxied(Provider::Court, Mode::DropIn, String::new()).await,
        ),
        "/parser/nalog_npd_api/" => with_route(
            "npd",
            proxied(Provider::Npd, Mode::DropIn, String::new()).await,
        ),
        p if p.starts_with(ALFA_PREFIX) => with_route(
            "alfa",
            proxied(
                Provider::Alfa,
                Mode::DropIn,
                p[ALFA_PREFIX.len()..].to_owned(),
            )
            .await,
        ),
        p if p.starts_with("/v1/fssp/") => with_route(
            "v1.fssp",
            proxied(
                Provider::Fssp,
                Mode::Typed,
                p["/v1/fssp/".len()..].to_owned(),
            )
            .await,
        ),
        "/v1/court" => with_route(
            "v1.court",
            proxied(Provider::Court, Mode::Typed, String::new()).await,
        ),
        "/v1/npd" => with_route(
            "v1.npd",
            proxied(Provider::Npd, Mode::Typed, String::new()).await,
        ),
        p if p.starts_with("/v1/alfa/registries/") => with_route(
            "v1.alfa",
            proxied(
                Provider::Alfa,
                Mode::Typed,
                p["/v1/alfa/registries/".len()..].to_owned(),
            )
            .await,
        ),
        _ => (
            "unknown",
            error(StatusCode::NOT_FOUND, "not_found", "no such route"),
            None,
        ),
    }
}

fn with_route(
    route: &'static str,
    (r, client): (Reply, Option<Arc<str>>),
) -> (&'static str, Reply, Option<Arc<str>>) {
    (route, r, client)
}

/// The parameter that carries a provider credential in a provider-style query.
fn credential_param(provider: Provider) -> Option<&'static str> {
    match provider {
        Provider::Fssp | Provider::Court => Some("token"),
        Provider::Npd => Some("key"),
        Provider::Alfa => None,
    }
}

fn bearer(headers: &HeaderMap) -> Option<Secret> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(Secret::new)
}

/// Why a request is turned away before any work.
#[derive(Debug, Clone, Copy)]
enum Rejection {
    /// No valid client key (401).
    Unauthorized,
    /// No provider credential: the provider's own answer to that.
    MissingCredential(Provider),
}

impl Rejection {
    fn reply(self) -> Reply {
        match self {
            Self::Unauthorized => error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid client key is required (X-Proverka-Key)",
            ),
            Self::MissingCredential(p) => missing_credential(p),
        }
    }
}

/// A validated lookup, and the FSSP query type for the typed API.
pub(crate) type Parsed = (Arc<dyn Lookup>, Option<proverka_fssp::QueryType>);

/// Which client is calling: `X-Proverka-Key`, or the provider's credential parameter where the
/// config holds the provider's own credential (so that parameter is free to carry the key).
fn identify(
    state: &AppState,
    provider: Provider,
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Client, Rejection> {
    if !state.clients_required() {
        return Ok(Client::anonymous());
    }
    let header_key = headers
        .get("x-proverka-key")
        .and_then(|v| v.to_str().ok())
        .map(Secret::new);
    let param_key = match (
        credential_param(provider),
        &state.upstream(provider).credential,
    ) {
        (Some(name), Some(_)) => pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Secret::new(v.as_str())),
        _ => None,
    };
    header_key
        .iter()
        .chain(param_key.iter())
        .find_map(|k| state.client_by_key(k).cloned())
        .ok_or(Rejection::Unauthorized)
}

/// The provider's own answer to a missing credential.
fn missing_credential(provider: Provider) -> Reply {
    let (status, body) = match provider {
        Provider::Fssp => (
            200,
            json!({"error": "502", "message": "MISSING_REQUIRED_TOKEN_PARAMETER"}),
        ),
        Provider::Court => (
            200,
            json!({"data": {"status": 0, "error": "401 Unauthorized"}}),
        ),
        Provider::Npd => (
            403,
            json!({"error": "Invalid access key", "error_code": 40301}),
        ),
        Provider::Alfa => (
            400,
            json!({"error": "invalid_request", "error_description": "Authorization header is not present in request headers"}),
        ),
    };
    json_reply(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &body,
    )
}

fn upstream_credential(
    state: &AppState,
    provider: Provider,
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Credential, Rejection> {
    if provider == Provider::Alfa {
        // The bank's bearer is always the caller's own; entries are partitioned by it, so a
        // cached answer goes only to a bearer the bank accepted for that requestId.
        return bearer(headers)
            .map(Credential::PassThrough)
            .ok_or(Rejection::MissingCredential(provider));
    }
    if let Some(c) = &state.upstream(provider).credential {
        return Ok(Credential::Configured(Arc::clone(c)));
    }
    let name = credential_param(provider).unwrap_or("token");
    pairs
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| Credential::PassThrough(Secret::new(v.as_str())))
        .ok_or(Rejection::MissingCredential(provider))
}

/// A validated lookup, or the provider's own answer to the invalid query (status, body).
fn parse_lookup(
    provider: Provider,
    tail: &str,
    mode: Mode,
    pairs: &[(&str, &str)],
) -> Result<Parsed, (u16, String)> {
    match provider {
        Provider::Fssp => {
            let mut with_type: Vec<(&str, &str)> = Vec::with_capacity(pairs.len() + 1);
            if mode == Mode::Typed {
                with_type.push(("type", tail));
            }
            with_type.extend(
                pairs
                    .iter()
                    .copied()
                    .filter(|(k, _)| mode == Mode::DropIn || *k != "type"),
            );
            let q = proverka_fssp::FsspQuery::from_pairs(&with_type)
                .map_err(|e| (200, e.provider_body()))?;
            let kind = q.query_type();
            Ok((Arc::new(q), Some(kind)))
        }
        Provider::Court => proverka_court::CourtQuery::from_pairs(pairs)
            .map(|q| (Arc::new(q) as Arc<dyn Lookup>, None))
            .map_err(|e| (200, e.provider_body())),
        Provider::Npd => proverka_npd::NpdQuery::from_pairs(pairs)
            .map(|q| (Arc::new(q) as Arc<dyn Lookup>, None))
            .map_err(|e| {
                (
                    proverka_npd::ValidationError::HTTP_STATUS,
                    e.provider_body(),
                )
            }),
        Provider::Alfa => proverka_alfa::RegistryQuery::from_parts(tail, pairs)
            .map(|q| (Arc::new(q) as Arc<dyn Lookup>, None))
            .map_err(|e| {
                (
                    proverka_alfa::ValidationError::HTTP_STATUS,
                    e.provider_body(),
                )
            }),
    }
}

/// `Cache-Control: max-age=N`, `no-cache` and `only-if-cached`. A directive that could cause a
/// paid refetch (`no-cache`, any `max-age`: an answer older than it is fetched anew) is honoured
/// only for clients with `may_refresh`; for the others it is ignored and the answer says so
/// (the second value). `only-if-cached` never pays, so anyone may send it.
fn fetch_options(headers: &HeaderMap, client: &Client) -> (FetchOptions, bool, bool) {
    let mut options = FetchOptions::default();
    let (mut denied, mut only_if_cached) = (false, false);
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        for directive in text.split(',').map(str::trim) {
            let lower = directive.to_ascii_lowercase();
            if lower == "only-if-cached" {
                only_if_cached = true;
            } else if lower == "no-cache" {
                if client.may_refresh {
                    options.force_refresh = true;
                } else {
                    denied = true;
                }
            } else if let Some(n) = lower.strip_prefix("max-age=")
                && let Ok(secs) = n.trim_matches('"').parse::<u64>()
            {
                if client.may_refresh {
                    options.max_age = Some(Duration::from_secs(secs));
                } else {
                    denied = true;
                }
            }
        }
    }
    (options, denied, only_if_cached)
}

async fn proxied(
    state: &Arc<AppState>,
    req: &Incoming,
    provider: Provider,
    mode: Mode,
    tail: &str,
) -> (Reply, Option<Arc<str>>) {
    if req.query.len() > state.config.max_query_bytes {
        return (
            error(
                StatusCode::URI_TOO_LONG,
                "query_too_long",
                "the query string is too long",
            ),
            None,
        );
    }
    // Percent-decoding is skipped when nothing needs the parameters: a memoized query whose
    // provider credential is in the config and with no client keys to check.
    let memo_id = state.memo.id(provider, mode, tail, &req.query);
    let memoized = state.memo.entries.get(&memo_id);
    let needs_pairs = memoized.is_none()
        || state.clients_required()
        || (provider != Provider::Alfa && state.upstream(provider).credential.is_none());
    let owned: Vec<(String, String)> = if needs_pairs {
        form_urlencoded::parse(req.query.as_bytes())
            .into_owned()
            .collect()
    } else {
        Vec::new()
    };
    let client = match identify(state, provider, &owned, &req.headers) {
        Ok(c) => c,
        Err(r) => return (r.reply(), None),
    };
    let name = Some(Arc::clone(&client.name));
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let parsed = match memoized {
        Some(p) => Ok(p),
        None => parse_lookup(provider, tail, mode, &pairs).map(|(lookup, kind)| {
            let keyed: Arc<dyn Lookup> = Arc::new(Keyed {
                key: lookup.cache_key(),
                inner: lookup,
            });
            let implied_date = provider == Provider::Npd
                && !pairs
                    .iter()
                    .any(|(k, v)| *k == "date" && !v.trim().is_empty());
            if !implied_date {
                state
                    .memo
                    .entries
                    .insert(memo_id, (Arc::clone(&keyed), kind));
            }
            (keyed, kind)
        }),
    };
    let (lookup, fssp_type) = match parsed {
        Ok(l) => l,
        Err((status, body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return (
                match mode {
                    Mode::DropIn => reply(status, "application/json; charset=utf-8", body),
                    Mode::Typed => json_reply(
                        StatusCode::BAD_REQUEST,
                        &json!({
                            "provider": provider, "error": {"source": "validation", "provider_body": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)}
                        }),
                    ),
                },
                name,
            );
        }
    };
    let credential = match upstream_credential(state, provider, &owned, &req.headers) {
        Ok(c) => c,
        Err(r) => return (r.reply(), name),
    };
    let (options, refresh_denied, only_if_cached) = fetch_options(&req.headers, &client);
    let call = Call {
        provider,
        lookup,
        credential,
        client,
        options,
        only_if_cached,
    };
    let mut response = match app::execute(state, call).await {
        Ok(served) => match mode {
            Mode::DropIn => drop_in(&served),
            Mode::Typed => typed(provider, fssp_type, &served),
        },
        Err(CallError::Budget(b)) => json_reply(
            StatusCode::PAYMENT_REQUIRED,
            &json!({
                "error": "budget_exceeded",
                "message": "this query would exceed the client's daily budget; nothing was sent",
                "budget_rub": b.budget.to_string(),
                "spent_today_rub": b.spent.to_string(),
                "price_rub": b.price.to_string(),
            }),
        ),
        Err(CallError::Degraded) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "cache_degraded",
            "the shared cache refuses writes (Redis full or read-only): replicas cannot keep this query to one call, so nothing was sent; ask again later",
        ),
        Err(CallError::Busy) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many provider calls in progress (cache.max_flights); nothing was sent, ask again later",
        ),
        // RFC 9111: a request with only-if-cached that the cache cannot answer gets 504.
        Err(CallError::NotCached) => error(
            StatusCode::GATEWAY_TIMEOUT,
            "not_cached",
            "only-if-cached: no cached answer; nothing was sent",
        ),
        Err(CallError::Upstream {
            timeout,
            too_large,
            billed,
        }) => {
            let (status, code) = match (timeout, too_large) {
                (true, _) => (StatusCode::GATEWAY_TIMEOUT, "provider_timeout"),
                (_, true) => (StatusCode::BAD_GATEWAY, "provider_answer_too_large"),
                _ => (StatusCode::BAD_GATEWAY, "provider_unreachable"),
            };
            let message = if billed.is_no() {
                "no answer came back; the call was not billed"
            } else {
                "no answer came back after the request was sent: the provider may have billed it. proverka did not send it again; asking again may pay again"
            };
            let mut r = json_reply(
                status,
                &json!({"error": code, "provider": provider, "retryable": true, "charge": billed, "message": message}),
            );
            billed_header(&mut r, billed);
            r
        }
    };
    if refresh_denied {
        // This client may not make the proxy pay for a refresh: it got what the cache had.
        response
            .headers_mut()
            .insert("x-proverka-refresh", HeaderValue::from_static("denied"));
    }
    (response, name)
}
