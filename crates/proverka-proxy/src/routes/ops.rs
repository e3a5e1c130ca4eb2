//! The operator's routes: `/readyz`, `/metrics` (behind the operator keys or on
//! `metrics_listen`), `/ui` and `/v1/status`.

use http::{HeaderValue, StatusCode, header};
use proverka_cache::RemoteStatus;
use serde_json::json;

use super::access::{Denied, operator_only};
use super::{Incoming, Listener, Reply, error, json_reply, reply};
use crate::app::AppState;

/// `/metrics` shows provider balances and client names: on `metrics_listen` when there is
/// one (and only there), otherwise behind the operator keys when keys are configured
/// (`X-Proverka-Key`, or `Authorization: Bearer <key>` as Prometheus sends it).
pub(crate) async fn metrics_route(state: &AppState, req: &Incoming) -> Reply {
    match (req.listener, state.config.metrics_listen.is_some()) {
        (Listener::Metrics, _) => return metrics(state, req).await,
        (Listener::Main, true) => {
            return error(
                StatusCode::NOT_FOUND,
                crate::api::ErrorCode::NotFound,
                "metrics are on metrics_listen",
            );
        }
        (Listener::Main, false) => {}
    }
    if let Err(denied) = operator_only(state, req) {
        return denied.reply();
    }
    metrics(state, req).await
}

/// `/ui`: the status page. Behind the operator keys when keys are configured; a browser is
/// asked for one (HTTP Basic: any user name, the key as the password).
pub(crate) fn status_page(state: &AppState, req: &Incoming) -> Reply {
    if let Err(denied) = operator_only(state, req) {
        let mut r = denied.reply();
        if matches!(denied, Denied::Unauthorized) {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"proverka\", charset=\"UTF-8\""),
            );
        }
        return r;
    }
    let mut r = reply(
        StatusCode::OK,
        "text/html; charset=utf-8",
        crate::status::PAGE,
    );
    // Self-contained: nothing may be loaded from elsewhere; and no other site may frame it
    // (an operator's page clicked through someone else's, CSP and the older header both).
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    r.headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `/v1/status`: the numbers of the status page, as JSON.
pub(crate) async fn status(state: &AppState, req: &Incoming) -> Reply {
    if let Err(denied) = operator_only(state, req) {
        return denied.reply();
    }
    json_reply(StatusCode::OK, &crate::status::status(state).await)
}

/// Ready when paid calls can be taken: the store of record answers (and this replica is
/// registered in it) and Redis, when configured, is not refusing writes or the credentials.
/// Redis down is still ready: this replica serves from memory and the providers meanwhile.
pub(crate) async fn readyz(state: &AppState) -> Reply {
    let readiness = state.engine.readiness().await;
    let (redis, redis_ready) = match readiness.cache {
        RemoteStatus::NotConfigured => ("not_configured", true),
        RemoteStatus::Up => ("up", true),
        // Without Redis the proxy serves from memory and the providers: still ready.
        RemoteStatus::Down => ("down", true),
        // Redis up but refusing writes: new queries get 503, so take this replica out.
        RemoteStatus::Degraded => ("degraded", false),
        // A wrong password is a configuration error, not an outage: it never heals itself.
        RemoteStatus::Unauthorized => ("unauthorized", false),
    };
    let store_ready = readiness.store.is_ok();
    let ready = store_ready && redis_ready;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_reply(
        status,
        &json!({
            "ready": ready,
            "redis": redis,
            "store": if store_ready { "up" } else { "down" },
            "store_backend": state.engine.store().backend(),
        }),
    )
}

/// The exposition, in OpenMetrics for a scraper that asks for it (Prometheus does), else in the
/// classic text format (curl, `promtool check metrics`).
pub(crate) async fn metrics(state: &AppState, req: &Incoming) -> Reply {
    let cache = state.engine.cache();
    let status = cache.remote_status().await;
    let redis_up = match status {
        RemoteStatus::NotConfigured => None,
        RemoteStatus::Up | RemoteStatus::Degraded => Some(true),
        _ => Some(false),
    };
    // Pending maintenance first, so the sizes are today's, not what moka last got round to.
    cache.run_pending_tasks().await;
    let memo = state.engine.memo();
    memo.run_pending_tasks();
    let text = state.metrics.render(crate::metrics::Scrape {
        cache: cache.stats(),
        in_flight: cache.in_flight(),
        redis_up,
        redis_degraded: (status != RemoteStatus::NotConfigured)
            .then_some(status == RemoteStatus::Degraded),
        memo_bytes: memo.weighted_size(),
    });
    let accept = req
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if crate::metrics::wants_openmetrics(accept) {
        reply(StatusCode::OK, crate::metrics::OPENMETRICS, text)
    } else {
        reply(
            StatusCode::OK,
            crate::metrics::CLASSIC,
            crate::metrics::classic_text(&text),
        )
    }
}
