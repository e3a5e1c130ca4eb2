//! What a served answer becomes: the provider's bytes (drop-in) or the typed model (`/v1`),
//! with `X-Cache`, `Age` and `X-Proverka-Billed`.

use std::time::SystemTime;

use crate::api::{Envelope, ProviderAnswer};
use http::{HeaderValue, StatusCode, header};
use proverka_cache::Served;
use proverka_core::Lookup;

use super::{Reply, json_reply, reply};

/// `X-Proverka-Billed: free | charged | unknown` on anything that is not an answer (a provider
/// error, an unreadable body, no answer at all): whether the failed call cost money. `unknown`
/// means the provider may have billed it; proverka neither re-sent nor cached it, so asking
/// again is the caller's decision and may pay again.
pub(crate) fn billed_header(r: &mut Reply, billed: proverka_core::Billed) {
    r.headers_mut().insert(
        "x-proverka-billed",
        HeaderValue::from_static(billed.as_str()),
    );
}

/// `X-Cache`, `Age` (at `now`) and, for anything but an answer, `X-Proverka-Billed`.
pub(crate) fn cache_headers(r: &mut Reply, served: &Served, now: SystemTime) {
    if !matches!(served.answer.verdict, proverka_core::Verdict::Answer { .. }) {
        billed_header(r, served.answer.verdict.billed());
    }
    let h = r.headers_mut();
    h.insert(
        "x-cache",
        HeaderValue::from_static(served.status.as_header()),
    );
    if let Ok(v) = HeaderValue::from_str(&served.age(now).as_secs().to_string()) {
        h.insert(header::AGE, v);
    }
}

/// The provider's answer byte for byte.
pub(crate) fn drop_in(served: &Served, now: SystemTime) -> Reply {
    let raw = &served.answer.raw;
    let mut r = reply(
        StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY),
        raw.content_type.as_deref().unwrap_or("application/json"),
        raw.body.clone(),
    );
    cache_headers(&mut r, served, now);
    r
}

/// The adapter's model as JSON, with cache status and cost (and, for a provider with a free
/// source, which source answered): the query renders its own model.
pub(crate) fn typed(
    provider: proverka_core::Provider,
    lookup: &dyn Lookup,
    served: &Served,
    source: Option<&'static str>,
    price: Option<proverka_core::Money>,
    now: SystemTime,
    with_provider_answer: bool,
) -> Reply {
    let parsed = lookup.render(&served.answer.raw);
    // The price the provider reported, else the one the proxy knows (`price_rub`); null when
    // neither is known: never 0.00 for a paid answer.
    let charge = match served.answer.verdict.billed() {
        proverka_core::Billed::Yes(None) => proverka_core::Billed::Yes(price),
        other => other,
    };
    let status = if parsed.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    let (result, error) = match parsed {
        Ok(result) => (Some(result), None),
        Err(e) => (None, Some(e)),
    };
    let body = Envelope {
        provider,
        cache: served.status.into(),
        age_secs: served.age(now).as_secs(),
        charge,
        source,
        provider_answer: with_provider_answer.then(|| provider_answer(&served.answer.raw)),
        result,
        error,
    };
    let mut r = json_reply(status, &body);
    cache_headers(&mut r, served, now);
    r
}

/// `X-Proverka-Include: provider-answer` on a typed request: the answer also carries the
/// provider's own reply (its status, content type and bytes in base64, with their SHA-256),
/// for a caller that keeps evidence or compares answers the way the provider's adapter does
/// (`proverka watch` through a proxy).
pub(crate) fn wants_provider_answer(headers: &http::HeaderMap) -> bool {
    headers
        .get_all("x-proverka-include")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case("provider-answer"))
}

fn provider_answer(raw: &proverka_core::RawAnswer) -> ProviderAnswer {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest: String = sha2::Sha256::digest(&raw.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ProviderAnswer {
        status: raw.status,
        content_type: raw.content_type.clone(),
        body_base64: base64::engine::general_purpose::STANDARD.encode(&raw.body),
        sha256: digest,
    }
}
