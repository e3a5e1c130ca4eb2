//! The operator's routes: `/readyz`, `/metrics` (behind the client keys or on
//! `metrics_listen`) and `/v1/spend`.

use super::*;

/// `GET /v1/spend?day=YYYY-MM-DD` (or `from=…&to=…`, inclusive): what each client spent with
/// each provider on Moscow days (today when absent), from the store of record (every
/// replica's calls, across restarts): per client and provider (`clients`), and per client,
/// provider and query kind (`rows`, what an invoice is reconciled with). With client keys
/// configured a key is needed, and a client sees only its own spend.
pub(crate) async fn spend(state: &AppState, req: &Incoming) -> (Reply, Option<Arc<str>>) {
    let Ok(client) = keyed_client(state, req) else {
        return (Rejection::Unauthorized.reply(), None);
    };
    let name = client.as_ref().map(|c| Arc::clone(&c.tenant.name));
    let param = |name: &str| {
        form_urlencoded::parse(req.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let today = proverka_core::Date::moscow_date_at(state.engine.presence().clock().now());
    let day = |text: Option<String>| match text.as_deref().map(proverka_core::Date::parse_iso) {
        None => Ok(None),
        Some(Ok(d)) => Ok(Some(d)),
        Some(Err(_)) => Err(()),
    };
    let (Ok(one), Ok(from), Ok(to)) = (day(param("day")), day(param("from")), day(param("to")))
    else {
        return (
            error(
                StatusCode::BAD_REQUEST,
                "invalid_day",
                "day, from and to must be YYYY-MM-DD (Moscow days)",
            ),
            name,
        );
    };
    let (from, to) = match (one, from, to) {
        (Some(d), _, _) => (d, d),
        (None, from, to) => (from.or(to).unwrap_or(today), to.or(from).unwrap_or(today)),
    };
    let query = proverka_store::SpendQuery {
        from,
        to,
        tenant: client.map(|c| c.tenant.id.to_string()),
    };
    let rows = match state.engine.spend(&query).await {
        Ok(rows) => rows,
        Err(_) => {
            return (
                unavailable(
                    "store_unavailable",
                    "the store of record does not answer; ask again later",
                ),
                name,
            );
        }
    };
    // A client renamed since shows under its name now: its id is what the spend belongs to.
    let rows: Vec<proverka_store::SpendRow> = rows
        .into_iter()
        .map(|mut r| {
            if let Some(name) = state.name_of_tenant(&r.tenant) {
                r.tenant_name = name.to_string();
            }
            r
        })
        .collect();
    let mut clients: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Value>> =
        std::collections::BTreeMap::new();
    let mut total = proverka_core::Money::ZERO;
    let mut per: std::collections::BTreeMap<(String, String), (proverka_core::Money, i64, i64)> =
        std::collections::BTreeMap::new();
    let mut kinds: std::collections::BTreeMap<
        (String, String, String, String),
        proverka_store::SpendRow,
    > = std::collections::BTreeMap::new();
    for r in &rows {
        let k = kinds
            .entry((
                r.tenant_name.clone(),
                r.tenant.clone(),
                r.provider.clone(),
                r.kind.clone(),
            ))
            .or_insert_with(|| proverka_store::SpendRow {
                calls: 0,
                charged_calls: 0,
                unknown_calls: 0,
                open_calls: 0,
                charged: proverka_core::Money::ZERO,
                unknown: proverka_core::Money::ZERO,
                ..r.clone()
            });
        k.calls += r.calls;
        k.charged_calls += r.charged_calls;
        k.unknown_calls += r.unknown_calls + r.open_calls;
        k.charged = k.charged.saturating_add(r.charged);
        k.unknown = k.unknown.saturating_add(r.unknown);
        total = total.saturating_add(r.charged);
        let cell = per
            .entry((r.tenant_name.clone(), r.provider.clone()))
            .or_default();
        cell.0 = cell.0.saturating_add(r.charged);
        cell.1 += r.calls;
        cell.2 += r.unknown_calls + r.open_calls;
    }
    for ((client, provider), (spent, calls, unknown)) in per {
        clients.entry(client).or_default().insert(
            provider,
            json!({"spent_rub": spent, "calls": calls, "billed_unknown": unknown}),
        );
    }
    let rows: Vec<Value> = kinds
        .into_values()
        .map(|r| {
            json!({
                "client": r.tenant_name, "client_id": r.tenant, "provider": r.provider,
                "kind": r.kind, "calls": r.calls, "charged_calls": r.charged_calls,
                "unknown_calls": r.unknown_calls, "spent_rub": r.charged, "unknown_rub": r.unknown,
            })
        })
        .collect();
    let mut body = json!({
        "from": from.to_iso(), "to": to.to_iso(), "total_rub": total,
        "clients": clients, "rows": rows,
    });
    if from == to {
        body["day"] = from.to_iso().into();
    }
    (json_reply(StatusCode::OK, &body), name)
}

/// The client a request's `X-Proverka-Key` names, when client keys are configured: `Ok(None)`
/// without them, `Err` for a missing or wrong key (the caller answers 401).
fn keyed_client(state: &AppState, req: &Incoming) -> Result<Option<crate::app::Client>, ()> {
    if !state.clients_required() {
        return Ok(None);
    }
    req.headers
        .get("x-proverka-key")
        .and_then(|v| v.to_str().ok())
        .map(Secret::new)
        .and_then(|k| state.client_by_key(&k))
        .map(Some)
        .ok_or(())
}

/// `GET /v1/calls?request_id=…`: the provider calls made under one request id, as the ledger
/// settled them (`charged`, `free`, `unknown`, or `null` while in flight), a client's own only.
/// What a command-line run that stopped asks before sending a row again: a call that may have
/// been billed is not sent twice.
pub(crate) async fn calls(state: &AppState, req: &Incoming) -> (Reply, Option<Arc<str>>) {
    let Ok(client) = keyed_client(state, req) else {
        return (Rejection::Unauthorized.reply(), None);
    };
    let name = client.as_ref().map(|c| Arc::clone(&c.tenant.name));
    let Some(request_id) = form_urlencoded::parse(req.query.as_bytes())
        .find(|(k, _)| k == "request_id")
        .map(|(_, v)| v.into_owned())
    else {
        return (
            error(
                StatusCode::BAD_REQUEST,
                "missing_request_id",
                "request_id is required",
            ),
            name,
        );
    };
    let tenant = client.as_ref().map(|c| c.tenant.id.to_string());
    match state
        .engine
        .store()
        .calls_of_request(&request_id, tenant.as_deref())
        .await
    {
        Ok(billed) => (
            json_reply(
                StatusCode::OK,
                &json!({"request_id": request_id, "calls": billed.iter().map(|b| json!({"billed": b})).collect::<Vec<_>>()}),
            ),
            name,
        ),
        Err(_) => (
            unavailable(
                "store_unavailable",
                "the store of record does not answer; ask again later",
            ),
            name,
        ),
    }
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
