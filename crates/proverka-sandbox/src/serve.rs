//! One request to the simulators: the control endpoints (`/__sandbox/…`), then the provider
//! its path names, with the fault injected for this call if any.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use proverka_core::sandbox::{
    Fault, FaultRule, Reply, Request as SimRequest, Simulated, Simulator, lock,
    refusal_without_credential,
};
use proverka_core::{Adapter, Provider, ProviderSpec, RoutePath};
use serde_json::{Value, json};

use crate::{State, faults};

pub(crate) fn reset(state: &State) {
    lock(&state.faults).clear();
    lock(&state.calls).clear();
    lock(&state.billed).clear();
    lock(&state.calls_by_key).clear();
    lock(&state.account_calls).clear();
    for simulator in &state.simulators {
        simulator.reset();
    }
}

/// Which of a provider's own paths a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place<'a> {
    /// Where its queries go, with the rest of the path after a prefix route.
    Query(&'a str),
    /// One of its account endpoints (the balance).
    Account,
}

/// One of the paths the sandbox serves: a provider's own, from its adapter.
#[derive(Debug)]
pub(crate) struct Route {
    provider: Provider,
    spec: ProviderSpec,
    path: RoutePath,
    account: bool,
}

/// The paths of `adapters`: each one's account endpoints and the paths its queries go to, so
/// the sandbox does not spell them again.
pub(crate) fn routes(adapters: &[Arc<dyn Adapter>]) -> Vec<Route> {
    let mut all = Vec::new();
    for adapter in adapters {
        let provider = adapter.provider();
        let spec = adapter.spec();
        for account in adapter.account_routes() {
            all.push(Route {
                provider,
                spec,
                path: RoutePath::Exact(account.path),
                account: true,
            });
        }
        for path in adapter.upstream_paths() {
            all.push(Route {
                provider,
                spec,
                path,
                account: false,
            });
        }
    }
    all
}

/// The provider whose own path `path` is.
fn provider_at<'r, 'a>(routes: &'r [Route], path: &'a str) -> Option<(&'r Route, Place<'a>)> {
    routes.iter().find_map(|route| {
        let tail = route.path.tail(path)?;
        Some((
            route,
            if route.account {
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
    let Some((route, place)) = provider_at(&state.routes, &path) else {
        return Ok(respond(Reply::json(
            404,
            &json!({"error": "unknown_endpoint", "error_description": "no such sandbox path"}),
        )));
    };
    let provider = route.provider;
    let Some(simulator) = state.simulator(provider) else {
        return Ok(respond(Reply::json(
            404,
            &json!({"error": "unknown_endpoint", "error_description": "nothing simulates this provider"}),
        )));
    };
    let (now, at) = state.now();
    let request = |tail| SimRequest {
        method: method.as_str(),
        tail,
        pairs: &pairs,
        bearer: bearer.as_deref(),
        body: &body,
        peer,
        now,
        at,
    };
    let tail = match place {
        Place::Account => {
            *lock(&state.account_calls).entry(provider).or_insert(0) += 1;
            state.counted.notify_waiters();
            return Ok(respond(simulator.account(&request("")).unwrap_or_else(
                || Reply::json(404, &json!({"error": "no account endpoint simulated"})),
            )));
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
        fault => match fault.as_ref().and_then(|f| fault_reply(simulator, f)) {
            Some(reply) => Outcome::Respond(reply),
            None => {
                let request = request(tail);
                let simulated = refusal_without_credential(&route.spec, &request)
                    .map_or_else(|| simulator.answer(&request), Simulated::Refused);
                let reply = match simulated {
                    Simulated::Answered { reply, billed, key } => {
                        if billed {
                            state.bill(provider);
                        }
                        if let Some(key) = key {
                            *lock(&state.calls_by_key).entry(key).or_insert(0) += 1;
                        }
                        reply
                    }
                    Simulated::Refused(reply) => reply,
                };
                Outcome::Respond(match fault {
                    Some(fault) => after_billing(simulator, fault, reply),
                    None => reply,
                })
            }
        },
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
            let simulators: HashMap<String, Value> = state
                .simulators
                .iter()
                .map(|s| (s.provider().to_string(), s.state()))
                .filter(|(_, v)| !v.is_null())
                .collect();
            Reply::json(
                200,
                &json!({"calls": calls, "billed": billed, "by_query": by_key, "simulators": simulators}),
            )
        }
        ("POST", "reset") => {
            reset(state);
            Reply::json(200, &json!({"ok": true}))
        }
        ("DELETE", "faults") => {
            lock(&state.faults).clear();
            Reply::json(200, &json!({"ok": true}))
        }
        ("POST", p) if p.starts_with("faults/") => {
            let name = &p["faults/".len()..];
            let Some(provider) = state
                .simulators
                .iter()
                .map(|s| s.provider())
                .find(|provider| provider.as_str() == name)
            else {
                return Reply::json(404, &json!({"error": "unknown provider"}));
            };
            match serde_json::from_slice::<FaultRule>(body) {
                Ok(rule) => {
                    lock(&state.faults).entry(provider).or_default().push(rule);
                    Reply::json(200, &json!({"ok": true}))
                }
                Err(e) => Reply::json(400, &json!({"error": e.to_string()})),
            }
        }
        _ => Reply::json(404, &json!({"error": "unknown control endpoint"})),
    }
}

/// The reply to a fault instead of the provider's answer (nothing billed): the simulator's
/// own for a fault only it suffers, else what any provider's server does.
fn fault_reply(simulator: &dyn Simulator, fault: &Fault) -> Option<Reply> {
    if let Some(reply) = simulator.fault_reply(fault) {
        return Some(reply);
    }
    Some(match fault {
        Fault::Html => Reply::new(
            200,
            "text/html; charset=utf-8",
            "<html><body><form><img src=\"captcha.png\"><input name=\"captcha\"></form></body></html>",
        ),
        Fault::Http5xx { status } => Reply::new(
            *status,
            "text/html",
            "<html><body>Bad Gateway</body></html>",
        ),
        Fault::ProviderError { code } => simulator.provider_error(code),
        _ => return None,
    })
}

/// Spoils an answer the provider already produced and billed: what any transport does to it
/// (truncation, a byte-order mark, padding), then what only this provider does.
fn after_billing(simulator: &dyn Simulator, fault: &Fault, reply: Reply) -> Reply {
    match fault {
        Fault::Truncated | Fault::TruncatedAfterBilling => {
            let half = reply.body.len() / 2;
            Reply {
                body: reply.body.slice(..half),
                ..reply
            }
        }
        Fault::Bom => {
            let mut body = b"\xEF\xBB\xBF".to_vec();
            body.extend_from_slice(&reply.body);
            body.extend_from_slice(b"\r\n");
            Reply {
                body: body.into(),
                ..reply
            }
        }
        Fault::Oversized { bytes } => {
            let mut body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                map.insert("padding".into(), Value::String("x".repeat(*bytes)));
            }
            Reply::json(reply.status, &body)
        }
        _ => simulator.spoil(fault, reply),
    }
}
