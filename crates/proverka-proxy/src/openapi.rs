//! The OpenAPI document of the typed API, served at `/v1/openapi.json`.

use serde_json::{Value, json};

fn params(names: &[(&str, bool, &str)]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|(name, required, description)| {
                json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}})
            })
            .collect(),
    )
}

fn operation(summary: &str, parameters: Value) -> Value {
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

/// The document.
pub(crate) fn document() -> Value {
    let token = (
        "token",
        false,
        "Provider token when the proxy holds none (passed through, cache partitioned by it)",
    );
    let mut paths = serde_json::Map::new();
    for kind in [
        "regionsList",
        "physical",
        "legal",
        "ip",
        "id",
        "inn",
        "wanted",
        "alim",
    ] {
        paths.insert(
            format!("/v1/fssp/{kind}"),
            operation(
                &format!("FSSP `{kind}` (api-cloud.ru)"),
                params(&[
                    ("lastname", false, "Фамилия (physical, alim)"),
                    ("firstname", false, "Имя (physical, alim)"),
                    ("secondname", false, "Отчество"),
                    ("birthdate", false, "dd.mm.yyyy"),
                    ("region", false, "Region number or -1"),
                    ("nameLegal", false, "Legal entity name (legal)"),
                    ("address", false, "Legal entity address (legal)"),
                    ("number", false, "Proceeding (ip) or document (id) number"),
                    ("typeid", false, "Document type (id)"),
                    ("inn", false, "INN (inn)"),
                    ("fio", false, "Full name (wanted)"),
                    ("onlyActual", false, "1: open proceedings only"),
                    token,
                ]),
            ),
        );
    }
    paths.insert(
        "/v1/court".into(),
        operation(
            "Court jurisdiction by address or coordinates",
            params(&[
                ("address", false, "Address to the building"),
                ("coords", false, "\"lon lat\""),
                token,
            ]),
        ),
    );
    paths.insert(
        "/v1/npd".into(),
        operation(
            "Self-employed (НПД) status of an INN on a date",
            params(&[
                ("inn", true, "12-digit INN"),
                ("date", false, "YYYY-MM-DD, default today (Moscow)"),
                ("key", false, "Provider key when the proxy holds none"),
            ]),
        ),
    );
    let mut alfa = operation(
        "Alfa-Bank self-employed registry status (Authorization: Bearer required)",
        params(&[
            ("limit", false, "1–1000"),
            ("offset", false, "records to skip"),
        ]),
    );
    if let Some(p) = alfa["get"]["parameters"].as_array_mut() {
        p.push(json!({"name": "requestId", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}));
    }
    paths.insert("/v1/alfa/registries/{requestId}".into(), alfa);
    paths.insert(
        "/v1/spend".into(),
        json!({"get": {
            "summary": "Spend per client and provider on a Moscow day (shared by replicas through Redis)",
            "parameters": [{"name": "day", "in": "query", "required": false, "schema": {"type": "string", "format": "date"}, "description": "YYYY-MM-DD, default today (Moscow)"}],
            "responses": {"200": {"description": "{day, total_rub, clients: {name: {provider: {spent_rub, calls, billed_unknown}}}}", "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"description": "invalid day"}, "401": {"description": "client key required"}}
        }}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "proverka-proxy typed API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Typed access to FSSP, court jurisdiction, NPD and Alfa-Bank through the caching proxy. Send the client key as X-Proverka-Key when clients are configured."},
        "paths": paths,
        "components": {"schemas": {"Envelope": {"type": "object", "properties": {
            "provider": {"type": "string", "enum": ["fssp", "court", "npd", "alfa"]},
            "cache": {"type": "string", "enum": ["HIT", "MISS", "COALESCED", "STALE"]},
            "age_secs": {"type": "integer"},
            "charge": {"type": "object", "description": "What the provider billed for this answer: {\"kind\":\"free\"}, {\"kind\":\"charged\",\"price\":\"0.80\"} (price null when not reported) or {\"kind\":\"unknown\"} (may have been billed, could not be read: never cached, never re-sent)", "properties": {"kind": {"type": "string", "enum": ["free", "charged", "unknown"]}, "price": {"type": "string", "nullable": true}}},
            "result": {"type": "object", "description": "The adapter's model"},
            "error": {"type": "object", "properties": {"source": {"type": "string"}, "message": {"type": "string"}, "retryable": {"type": "boolean"}, "charged": {"type": "string"}}}
        }}}}
    })
}
