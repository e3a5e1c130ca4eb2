//! A provider's account endpoints (its balance, as the adapter declares them): the caller
//! identified as on the provider's query routes, the call forwarded with the proxy's
//! credential, the answer returned as it came, never cached, billed or budgeted.

use std::sync::Arc;

use http::{HeaderValue, StatusCode, header};
use proverka_core::AccountRoute;
use proverka_engine::AccountRequest;

use super::render::billed_header;
use super::{Incoming, Reply, error, identify, no_answer, reply, upstream_credential};
use crate::app::AppState;
use crate::registry::Matched;

/// Serves one account read at `route`'s path.
pub(super) async fn account(
    state: &Arc<AppState>,
    req: &Incoming,
    matched: Matched<'_>,
    route: AccountRoute,
) -> (Reply, Option<Arc<str>>) {
    let upstream = state.upstream_at(matched.provider);
    if req.query.len() > state.config.max_query_bytes {
        return (
            error(
                StatusCode::URI_TOO_LONG,
                crate::api::ErrorCode::QueryTooLong,
                "the query string is too long",
            ),
            None,
        );
    }
    let owned: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect();
    let client = match identify(state, upstream, &owned, &req.headers) {
        Ok(c) => c,
        Err(r) => return (r.reply(), None),
    };
    let name = Some(Arc::clone(&client.tenant.name));
    let credential = match upstream_credential(upstream, &owned, &req.headers) {
        Ok(c) => c,
        Err(r) => return (r.reply(), name),
    };
    let operation = owned
        .iter()
        .find(|(k, _)| k == route.operation)
        .map_or("", |(_, v)| v.as_str());
    let request = AccountRequest {
        provider: upstream.provider(),
        route,
        operation,
        credential,
        tenant: client.tenant,
        request_id: &req.request_id,
    };
    let mut r = match state.engine.account(request).await {
        Ok(raw) => reply(
            StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY),
            raw.content_type.as_deref().unwrap_or("application/json"),
            raw.body,
        ),
        Err(e) => no_answer(upstream.provider(), e),
    };
    // An account read is never stored by anyone on the way, and never costs anything.
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-cache", HeaderValue::from_static("BYPASS"));
    billed_header(&mut r, proverka_core::Billed::No);
    (r, name)
}
