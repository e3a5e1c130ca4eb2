//! One request to the simulators: the control endpoints (`/__sandbox/…`), then the provider
//! its path names, with the fault injected for this call if any.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use proverka_core::{Provider, RoutePath};
use serde_json::json;

use crate::{Fault, FaultRule, Reply, State, faults, lock, providers};

pub(crate) fn reset(state: &State) {
    lock(&state.faults).clear();
    lock(&state.calls).clear();
    lock(&state.billed).clear();
    lock(&state.calls_by_key).clear();
    lock(&state.account_calls).clear();
    lock(&state.alfa_seen).clear();
    lock(&state.fns_recent).clear();
    *state.lock_fssp_balance() = state.initial_balance;
    state
        .court_left
        .store(state.initial_quota, Ordering::SeqCst);
}

/// Which of a provider's own paths a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place<'a> {
    /// Where its queries go, with the rest of the path after a prefix route.
    Query(&'a str),
    /// One of its account endpoints (the balance).
    Account,
}

/// The provider whose own path `path` is, from the registry: each adapter's upstream paths
/// and account endpoints, so the sandbox does not spell them again.
fn provider_at(path: &str) -> Option<(Provider, Place<'_>)> {
    static PATHS: OnceLock<Vec<(Provider, RoutePath, bool)>> = OnceLock::new();
    let paths = PATHS.get_or_init(|| {
        let mut all = Vec::new();
        for adapter in proverka::adapters() {
            let provider = adapter.provider();
            for account in adapter.account_routes() {
                all.push((provider, RoutePath::Exact(account.path), true));
            }
            for route in adapter.upstream_paths() {
                all.push((provider, route, false));
            }
        }
        all
    });
    paths.iter().find_map(|(provider, route, account)| {
        let tail = route.tail(path)?;
        Some((
            *provider,
            if *account {
                Place::Account
            } else {
                Place::Query(tail)
            },
        ))
    })
}

/// The sandbox's answer to a request: a response, or no response at all.
enum Outcome {
    Respond(Reply),
    /// Close the connection without answering.
    Reset,
}

fn respond(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = http::HeaderValue::from_str(reply.content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    response
}

/// Why a connection was dropped on purpose.
#[derive(Debug)]
pub(crate) struct InjectedReset;

impl std::fmt::Display for InjectedReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected connection reset")
    }
}

impl std::error::Error for InjectedReset {}

pub(crate) async fn handle(
    state: &State,
    peer: std::net::IpAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, InjectedReset> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let bearer = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let method = req.method().clone();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let owned: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    if let Some(control) = path.strip_prefix("/__sandbox/") {
        return Ok(respond(control_endpoint(state, &method, control, &body)));
    }
    let Some((provider, place)) = provider_at(&path) else {
        return Ok(respond(Reply::json(
            404,
            json!({"error": "unknown_endpoint", "error_description": "no such sandbox path"}),
        )));
    };
    let tail = match place {
        Place::Account => {
            *lock(&state.account_calls).entry(provider).or_insert(0) += 1;
            state.counted.notify_waiters();
            return Ok(respond(match provider {
                Provider::Fssp => providers::fssp_account(state, &pairs),
                _ => Reply::json(404, json!({"error": "no account endpoint simulated"})),
            }));
        }
        Place::Query(tail) => tail,
    };
    *lock(&state.calls).entry(provider).or_insert(0) += 1;
    state.counted.notify_waiters();
    let call_number = state.call_number.fetch_add(1, Ordering::Relaxed);
    let applied = {
        let mut faults = lock(&state.faults);
        faults::apply(faults.entry(provider).or_default(), call_number)
    };
    if !applied.delay.is_zero() {
        tokio::time::sleep(applied.delay).await;
    }
    let outcome = match &applied.fault {
        Some(Fault::Timeout) => {
            // Never answer: the client's timeout fires first.
            tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
            Outcome::Reset
        }
        Some(Fault::Reset) => Outcome::Reset,
        Some(f) if providers::fault_reply(provider, f).is_some() => Outcome::Respond(
            providers::fault_reply(provider, f).unwrap_or_else(|| Reply::json(500, json!({}))),
        ),
        other => {
            let answered = match provider {
                Provider::Fssp => providers::fssp(state, &pairs),
                Provider::Court => providers::court(state, &pairs),
                Provider::Npd => providers::npd(state, &pairs),
                Provider::Alfa => providers::alfa(state, tail, bearer.as_deref(), &pairs),
                Provider::Fns => providers::fns(state, peer, &method, &body),
            };
            let reply = match answered {
                Ok((reply, key)) => {
                    if let Some(key) = key {
                        *lock(&state.calls_by_key).entry(key).or_insert(0) += 1;
                    }
                    reply
                }
                Err(reply) => reply,
            };
            Outcome::Respond(match other {
                Some(fault) => providers::after_billing(provider, fault, reply),
                None => reply,
            })
        }
    };
    match outcome {
        Outcome::Respond(reply) => Ok(respond(reply)),
        Outcome::Reset => Err(InjectedReset),
    }
}

fn control_endpoint(state: &State, method: &http::Method, path: &str, body: &[u8]) -> Reply {
    match (method.as_str(), path) {
        ("GET", "calls") => {
            let calls: HashMap<String, u64> = lock(&state.calls)
                .iter()
                .map(|(p, n)| (p.to_string(), *n))
                .collect();
            let billed: HashMap<String, u64> = lock(&state.billed)
                .iter()
                .map(|(p, n)| (p.to_string(), *n))
                .collect();
            let by_key: HashMap<String, u64> = lock(&state.calls_by_key)
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect();
            Reply::json(
                200,
                json!({"calls": calls, "billed": billed, "by_query": by_key, "fssp_balance": state.lock_fssp_balance().to_string()}),
            )
        }
        ("POST", "reset") => {
            reset(state);
            Reply::json(200, json!({"ok": true}))
        }
        ("DELETE", "faults") => {
            lock(&state.faults).clear();
            Reply::json(200, json!({"ok": true}))
        }
        ("POST", p) if p.starts_with("faults/") => {
            let provider = match &p["faults/".len()..] {
                "fssp" => Provider::Fssp,
                "court" => Provider::Court,
                "npd" => Provider::Npd,
                "alfa" => Provider::Alfa,
                "fns" => Provider::Fns,
                _ => return Reply::json(404, json!({"error": "unknown provider"})),
            };
            match serde_json::from_slice::<FaultRule>(body) {
                Ok(rule) => {
                    lock(&state.faults).entry(provider).or_default().push(rule);
                    Reply::json(200, json!({"ok": true}))
                }
                Err(e) => Reply::json(400, json!({"error": e.to_string()})),
            }
        }
        _ => Reply::json(404, json!({"error": "unknown control endpoint"})),
    }
}
