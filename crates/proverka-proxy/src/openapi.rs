//! The OpenAPI document of the typed API, served at `/v1/openapi.json`.

use proverka_core::{CredentialStyle, TypedParam};
use serde_json::{Value, json};

use crate::app::AppState;

fn params(params: &[TypedParam]) -> Value {
    Value::Array(
        params
            .iter()
            .map(|p| {
                json!({"name": p.name, "in": if p.in_path { "path" } else { "query" }, "required": p.required, "description": p.description, "schema": {"type": "string"}})
            })
            .collect(),
    )
}

fn operation(summary: &str, mut parameters: Value) -> Value {
    if let Some(list) = parameters.as_array_mut() {
        list.push(json!({"name": "X-Proverka-Include", "in": "header", "required": false,
            "description": "`provider-answer`: the answer also carries the provider's own reply (`provider_answer`)",
            "schema": {"type": "string", "enum": ["provider-answer"]}}));
    }
    json!({
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "The provider's answer as the adapter's model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
                        "headers": {"X-Cache": {"schema": {"type": "string", "enum": ["HIT", "MISS", "COALESCED", "STALE"]}}, "Age": {"schema": {"type": "integer"}}}},
                "400": {"description": "Invalid query (the provider's own error, nothing spent)"},
                "401": {"description": "No valid client key"},
                "402": {"description": "The client's daily budget would be exceeded"},
                "502": {"description": "A provider error or an unreadable answer (in `error`)"},
                "504": {"description": "The provider did not answer in time"}
            }
        }
    })
}

/// The document: every registered provider's typed operations, and the proxy's own.
pub(crate) fn document(state: &AppState) -> Value {
    let mut paths = serde_json::Map::new();
    let mut names = Vec::new();
    for provider in state.providers() {
        let upstream = state.engine.upstream(*provider);
        names.push(provider.as_str());
        for op in upstream.adapter().operations() {
            let mut list = op.params.to_vec();
            if let CredentialStyle::QueryParam(name) = upstream.credential_style() {
                list.push(TypedParam::optional(
                    name,
                    "The provider's credential when the proxy holds none (passed through, cache partitioned by it)",
                ));
            }
            paths.insert(op.path.to_string(), operation(&op.summary, params(&list)));
        }
    }
    paths.insert(
        "/v1/spend".into(),
        json!({"get": {
            "summary": "Spend per client and provider on a Moscow day, from the store of record (a client key sees its own)",
            "parameters": [{"name": "day", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "YYYY-MM-DD, default today (Moscow)"}],
            "responses": {"200": {"description": "{day, total_rub, clients: {name: {provider: {spent_rub, calls, billed_unknown}}}}", "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "invalid day"}, "401": {"description": "client key required"}}
        }}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "proverka-proxy typed API", "version": env!("CARGO_PKG_VERSION"),
                 "description": format!("Typed access to {} through the caching proxy. Send the client key as X-Proverka-Key when clients are configured.", names.join(", "))},
        "paths": paths,
        "components": {"schemas": {"Envelope": {"type": "object", "properties": {
            "provider": {"type": "string", "enum": names},
            "cache": {"type": "string", "enum": ["HIT", "MISS", "COALESCED", "STALE"]},
            "age_secs": {"type": "integer"},
            "charge": {"type": "object", "description": "What the provider billed for this answer: {\"kind\":\"free\"}, {\"kind\":\"charged\",\"price\":\"0.80\"} (price null when not reported) or {\"kind\":\"unknown\"} (may have been billed, could not be read: never cached, never re-sent)", "properties": {"kind": {"type": "string", "enum": ["free", "charged", "unknown"]}, "price": {"type": "string", "nullable": true}}},
            "result": {"type": "object", "description": "The adapter's model"},
            "provider_answer": {"type": "object", "description": "With X-Proverka-Include: provider-answer: the provider's own reply", "properties": {
                "status": {"type": "integer"}, "content_type": {"type": "string", "nullable": true},
                "body_base64": {"type": "string", "format": "byte"}, "sha256": {"type": "string"}}},
            "error": {"type": "object", "properties": {"source": {"type": "string"}, "message": {"type": "string"}, "retryable": {"type": "boolean"}, "charged": {"type": "string"}}}
        }}}}
    })
}
