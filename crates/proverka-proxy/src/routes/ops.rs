//! The operator's routes: `/readyz`, `/metrics` (behind the client keys or on
//! `metrics_listen`) and `/v1/spend`.

use super::*;

/// `GET /v1/spend?day=YYYY-MM-DD`: what each client spent with each provider on a Moscow day
/// (today when absent), shared across replicas through Redis. Needs a client key when client
/// keys are configured.
pub(crate) async fn spend(state: &AppState, req: &Incoming) -> (Reply, Option<Arc<str>>) {
    let client = if state.clients_required() {
        let key = req
            .headers
            .get("x-proverka-key")
            .and_then(|v| v.to_str().ok())
            .map(Secret::new);
        match key.and_then(|k| state.client_by_key(&k)) {
            Some(c) => Some(c.name),
            None => return (Rejection::Unauthorized.reply(), None),
        }
    } else {
        None
    };
    let day = form_urlencoded::parse(req.query.as_bytes())
        .find(|(k, _)| k == "day")
        .map(|(_, v)| v.into_owned());
    let day = match day.as_deref().map(proverka_core::Date::parse_iso) {
        None => proverka_core::Date::today_moscow(),
        Some(Ok(d)) => d,
        Some(Err(_)) => {
            return (
                error(
                    StatusCode::BAD_REQUEST,
                    "invalid_day",
                    "day must be YYYY-MM-DD (a Moscow day)",
                ),
                client,
            );
        }
    };
    let spend = state
        .ledger
        .spend(&state.cache, &state.client_names(), state.providers(), day)
        .await;
    let total = spend
        .values()
        .flat_map(|p| p.values())
        .fold(proverka_core::Money::ZERO, |t, s| {
            t.saturating_add(s.spent_rub)
        });
    (
        json_reply(
            StatusCode::OK,
            &json!({"day": day.to_iso(), "total_rub": total, "clients": spend}),
        ),
        client,
    )
}

/// `/metrics` shows provider balances and client names: on `metrics_listen` when there is
/// one (and only there), otherwise behind the client keys when they are configured
/// (`X-Proverka-Key`, or `Authorization: Bearer <key>` as Prometheus sends it).
pub(crate) async fn metrics_route(state: &AppState, req: &Incoming) -> Reply {
    match (req.listener, state.config.metrics_listen.is_some()) {
        (Listener::Metrics, _) => return metrics(state, req).await,
        (Listener::Main, true) => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "metrics are on metrics_listen",
            );
        }
        (Listener::Main, false) => {}
    }
    if !operator_allowed(state, req) {
        return Rejection::Unauthorized.reply();
    }
    metrics(state, req).await
}

/// The key an operator's request carries: `X-Proverka-Key`, `Authorization: Bearer <key>`,
/// or a browser's `Authorization: Basic` with the key as the password (any user name).
fn operator_key(headers: &HeaderMap) -> Option<Secret> {
    use base64::Engine as _;
    headers
        .get("x-proverka-key")
        .and_then(|v| v.to_str().ok())
        .map(Secret::new)
        .or_else(|| bearer(headers))
        .or_else(|| {
            let encoded = headers
                .get(header::AUTHORIZATION)?
                .to_str()
                .ok()?
                .strip_prefix("Basic ")?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (_, password) = text.split_once(':')?;
            Some(Secret::new(password))
        })
}

/// Whether an operator's request may see the proxy's state: always without client keys,
/// else with a client's key.
fn operator_allowed(state: &AppState, req: &Incoming) -> bool {
    !state.clients_required()
        || operator_key(&req.headers).is_some_and(|k| state.client_by_key(&k).is_some())
}

/// `/ui`: the status page. Behind the client keys when they are configured; a browser is asked
/// for one (HTTP Basic: any user name, the key as the password).
pub(crate) fn status_page(state: &AppState, req: &Incoming) -> Reply {
    if !operator_allowed(state, req) {
        let mut r = Rejection::Unauthorized.reply();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"proverka\", charset=\"UTF-8\""),
        );
        return r;
    }
    let mut r = reply(
        StatusCode::OK,
        "text/html; charset=utf-8",
        crate::status::PAGE,
    );
    // Self-contained: nothing may be loaded from elsewhere.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `/v1/status`: the numbers of the status page, as JSON.
pub(crate) async fn status(state: &AppState, req: &Incoming) -> Reply {
    if !operator_allowed(state, req) {
        return Rejection::Unauthorized.reply();
    }
    json_reply(StatusCode::OK, &crate::status::status(state).await)
}

pub(crate) async fn readyz(state: &AppState) -> Reply {
    let (redis, ready) = match state.cache.remote_status().await {
        RemoteStatus::NotConfigured => ("not_configured", true),
        RemoteStatus::Up => ("up", true),
        // Without Redis the proxy serves from memory and the providers: still ready.
        RemoteStatus::Down => ("down", true),
        // Redis up but refusing writes: new queries get 503, so take this replica out.
        RemoteStatus::Degraded => ("degraded", false),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_reply(status, &json!({"ready": ready, "redis": redis}))
}

/// The exposition, in OpenMetrics for a scraper that asks for it (Prometheus does), else in the
/// classic text format (curl, `promtool check metrics`).
pub(crate) async fn metrics(state: &AppState, req: &Incoming) -> Reply {
    let status = state.cache.remote_status().await;
    let redis_up = match status {
        RemoteStatus::NotConfigured => None,
        RemoteStatus::Up | RemoteStatus::Degraded => Some(true),
        RemoteStatus::Down => Some(false),
    };
    // Pending maintenance first, so the sizes are today's, not what moka last got round to.
    state.cache.run_pending_tasks().await;
    state.memo.entries.run_pending_tasks();
    let text = state.metrics.render(crate::metrics::Scrape {
        cache: state.cache.stats(),
        in_flight: state.cache.in_flight(),
        redis_up,
        redis_degraded: (status != RemoteStatus::NotConfigured)
            .then_some(status == RemoteStatus::Degraded),
        memo_bytes: state.memo.entries.weighted_size(),
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
