//! HTTP routes: drop-in provider paths, the typed `/v1` API, metrics and health.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Bytes;
use proverka_cache::FetchOptions;
use proverka_core::{CredentialStyle, QueryInput, Secret};
use proverka_engine::{Credential, Request, Upstream};
use serde_json::Value;

use crate::api::{ErrorCode, Problem, Refusal, Refused};
use crate::app::{AppState, Client};
use crate::registry::{Matched, RouteId};
use crate::request_id::{REQUEST_ID, RequestId};

mod access;
mod account;
mod money;
mod ops;
mod refusal;
mod render;

use money::{calls, me, spend};
use ops::{metrics_route, readyz, status, status_page};
use refusal::{Rejection, no_answer, provider_reply, refusal_reason};
use render::{billed_header, drop_in, typed, wants_provider_answer};

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// A JSON body: a typed one of [`crate::api`] (written straight to bytes) or a `Value`.
fn json_reply(status: StatusCode, value: &impl serde::Serialize) -> Reply {
    reply(
        status,
        "application/json; charset=utf-8",
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

fn error(status: StatusCode, code: ErrorCode, message: &str) -> Reply {
    json_reply(status, &(Problem::new(code, message)))
}

/// 503 for a call refused before it was sent: free, worth asking again later (the body says
/// so in the same fields as a provider failure: `retryable`, `charge`).
fn unavailable(code: ErrorCode, message: &str) -> Reply {
    let mut r = json_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        &Problem {
            retryable: Some(true),
            charge: Some(proverka_core::Billed::No),
            ..Problem::new(code, message)
        },
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    billed_header(&mut r, proverka_core::Billed::No);
    r
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
    /// The request's id: the client's `X-Request-Id` when it is sane, a new one otherwise.
    pub(crate) request_id: RequestId,
}

/// Answers one request and logs one line (never a query value or a secret).
pub(crate) async fn handle(state: &Arc<AppState>, req: Incoming) -> Reply {
    use tracing::Instrument as _;
    let started = Instant::now();
    // Every line logged while answering (and by the flight this request leads) carries it.
    let span = tracing::info_span!("request", request_id = %req.request_id);
    let (route_id, mut response, client) = route(state, &req).instrument(span).await;
    response
        .headers_mut()
        .insert(REQUEST_ID, req.request_id.header());
    {
        let cache = response
            .headers()
            .get("x-cache")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        let took = started.elapsed();
        if route_id != RouteId::fixed("health") {
            state.metrics.request(route_id, cache, took);
        }
        let route = state.routes.labels()[route_id.0].as_str();
        tracing::info!(
            route,
            status = response.status().as_u16(),
            cache,
            latency_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            client = client.as_deref().unwrap_or("-"),
            request_id = %req.request_id,
            "request"
        );
    }
    response
}

async fn route(state: &Arc<AppState>, req: &Incoming) -> (RouteId, Reply, Option<Arc<str>>) {
    let path = req.path.as_str();
    // Every route is a GET (the providers' pages say GET); anything else would be served as
    // a GET and paid for.
    if req.method != http::Method::GET {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "only GET is served",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return (RouteId::UNKNOWN, r, None);
    }
    if req.listener == Listener::Metrics && !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return (
            RouteId::UNKNOWN,
            error(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "only /metrics, /healthz and /readyz here",
            ),
            None,
        );
    }
    match path {
        "/healthz" => (
            RouteId::fixed("health"),
            reply(StatusCode::OK, "text/plain", "ok\n"),
            None,
        ),
        "/readyz" => (RouteId::fixed("health"), readyz(state).await, None),
        "/metrics" => (
            RouteId::fixed("metrics"),
            metrics_route(state, req).await,
            None,
        ),
        "/v1/openapi.json" => (
            RouteId::fixed("openapi"),
            json_reply(StatusCode::OK, &crate::openapi::document(state)),
            None,
        ),
        "/v1/spend" => {
            let (r, client) = spend(state, req).await;
            (RouteId::fixed("v1.spend"), r, client)
        }
        "/v1/calls" => {
            let (r, client) = calls(state, req).await;
            (RouteId::fixed("v1.calls"), r, client)
        }
        "/v1/me" => {
            let (r, client) = me(state, req).await;
            (RouteId::fixed("v1.me"), r, client)
        }
        "/ui" => (RouteId::fixed("ui"), status_page(state, req), None),
        "/v1/status" => (RouteId::fixed("v1.status"), status(state, req).await, None),
        _ => match state.routes.find(path) {
            Some(matched) if let Some(route) = matched.account => {
                let (r, client) = account::account(state, req, matched, route).await;
                (matched.id, r, client)
            }
            Some(matched) => {
                let (r, client) = proxied(state, req, matched).await;
                (matched.id, r, client)
            }
            None => (
                RouteId::UNKNOWN,
                error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route"),
                None,
            ),
        },
    }
}

/// The parameter that carries a provider credential in a provider-style query.
fn credential_param(upstream: &Upstream) -> Option<&'static str> {
    match upstream.credential_style() {
        CredentialStyle::QueryParam(name) => Some(name),
        CredentialStyle::CallerBearer | CredentialStyle::None => None,
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

/// Which client is calling: `X-Proverka-Key`, or the provider's credential parameter where the
/// config holds the provider's own credential (so that parameter is free to carry the key).
fn identify<'a>(
    state: &'a AppState,
    upstream: &'a Upstream,
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Client, Rejection<'a>> {
    if !state.clients_required() {
        return Ok(Client::anonymous());
    }
    let header_key = headers
        .get("x-proverka-key")
        .and_then(|v| v.to_str().ok())
        .map(Secret::new);
    let param_key = match (credential_param(upstream), upstream.configured_credential()) {
        (Some(name), Some(_)) => pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Secret::new(v.as_str())),
        _ => None,
    };
    if let Some(client) = header_key
        .iter()
        .chain(param_key.iter())
        .find_map(|k| state.client_by_key(k))
    {
        return Ok(client);
    }
    if header_key
        .iter()
        .chain(param_key.iter())
        .any(|k| state.operator_by_key(k).is_some())
    {
        return Err(Rejection::OperatorKey);
    }
    Err(Rejection::Unauthorized)
}

fn upstream_credential<'a>(
    upstream: &'a Upstream,
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Credential, Rejection<'a>> {
    match upstream.credential_style() {
        // Always the caller's own; entries are partitioned by it, so a cached answer goes only
        // to a bearer the provider accepted for that query.
        CredentialStyle::CallerBearer => bearer(headers)
            .map(Credential::PassThrough)
            .ok_or(Rejection::MissingCredential(upstream)),
        CredentialStyle::QueryParam(name) => {
            if let Some(c) = upstream.configured_credential() {
                return Ok(Credential::Configured(Arc::clone(c)));
            }
            pairs
                .iter()
                .find(|(k, v)| k == name && !v.trim().is_empty())
                .map(|(_, v)| Credential::PassThrough(Secret::new(v.as_str())))
                .ok_or(Rejection::MissingCredential(upstream))
        }
        CredentialStyle::None => Ok(Credential::NotNeeded),
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
                if client.tenant.may_refresh {
                    options.force_refresh = true;
                } else {
                    denied = true;
                }
            } else if let Some(n) = lower.strip_prefix("max-age=")
                && let Ok(secs) = n.trim_matches('"').parse::<u64>()
            {
                if client.tenant.may_refresh {
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
    matched: Matched<'_>,
) -> (Reply, Option<Arc<str>>) {
    let upstream = state.upstream_at(matched.provider);
    let provider = upstream.provider();
    let (typed_route, tail) = (matched.typed, matched.tail);
    if req.query.len() > state.config.max_query_bytes {
        return (
            error(
                StatusCode::URI_TOO_LONG,
                ErrorCode::QueryTooLong,
                "the query string is too long",
            ),
            None,
        );
    }
    // Percent-decoding is skipped when nothing needs the parameters: a memoized query whose
    // provider credential is in the config and with no client keys to check.
    let memo = state.engine.memo();
    let memo_id = memo.id(provider, typed_route, tail, &req.query);
    let memoized = memo.get(memo_id);
    let needs_pairs = memoized.is_none()
        || state.clients_required()
        || (credential_param(upstream).is_some() && upstream.configured_credential().is_none());
    let owned: Vec<(String, String)> = if needs_pairs {
        form_urlencoded::parse(req.query.as_bytes())
            .into_owned()
            .collect()
    } else {
        Vec::new()
    };
    let refused = |reason| state.metrics.refused_locally(provider, reason);
    let client = match identify(state, upstream, &owned, &req.headers) {
        Ok(c) => c,
        Err(r) => {
            refused(r.reason());
            return (r.reply(), None);
        }
    };
    let name = Some(Arc::clone(&client.tenant.name));
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let parsed = match memoized {
        Some(lookup) => Ok(lookup),
        None => upstream
            .adapter()
            .parse(&QueryInput {
                tail,
                pairs: &pairs,
                typed: typed_route,
                now: state.engine.presence().clock().now(),
            })
            .map(|parsed| memo.remember(memo_id, parsed)),
    };
    let lookup = match parsed {
        Ok(l) => l,
        Err(refusal) => {
            refused("invalid");
            return (
                if typed_route {
                    json_reply(
                        StatusCode::BAD_REQUEST,
                        &Refused {
                            provider,
                            error: Refusal {
                                source: proverka_core::ErrorSource::Validation,
                                provider_body: serde_json::from_str::<Value>(&refusal.body)
                                    .unwrap_or(Value::Null),
                            },
                        },
                    )
                } else {
                    provider_reply(&refusal)
                },
                name,
            );
        }
    };
    let credential = match upstream_credential(upstream, &owned, &req.headers) {
        Ok(c) => c,
        Err(r) => {
            refused(r.reason());
            return (
                if typed_route {
                    r.typed_reply()
                } else {
                    r.reply()
                },
                name,
            );
        }
    };
    let (options, refresh_denied, only_if_cached) = fetch_options(&req.headers, &client);
    let request = Request {
        lookup: Arc::clone(&lookup),
        credential,
        tenant: client.tenant,
        request_id: &req.request_id,
        options,
        only_if_cached,
        row: None,
    };
    let mut response = match state.engine.execute(request).await {
        Ok(served) => {
            let now = state.engine.presence().clock().now();
            // Which source answered, for a provider with a free source configured.
            let source = upstream
                .free()
                .filter(|_| matches!(served.answer.verdict, proverka_core::Verdict::Answer { .. }))
                .map(|route| route.source.source_of(&served.answer.verdict));
            let mut r = if typed_route {
                let billed = served.answer.verdict.billed();
                let price = state.engine.known_price(provider, billed, lookup.cost());
                let with_answer = wants_provider_answer(&req.headers);
                typed(provider, &*lookup, &served, source, price, now, with_answer)
            } else {
                drop_in(&served, now)
            };
            if let Some(name) = source {
                r.headers_mut()
                    .insert("x-proverka-source", HeaderValue::from_static(name));
            }
            r
        }
        Err(e) => {
            if let Some(reason) = refusal_reason(&e) {
                refused(reason);
            }
            no_answer(provider, e)
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
