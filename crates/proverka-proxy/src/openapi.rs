//! The OpenAPI 3.1 document of the proxy, served at `/v1/openapi.json` and committed as
//! `docs/openapi.json`.
//!
//! Every schema in it is generated from the Rust type that writes the body (`schemars` reads
//! the same serde attributes): the bodies of [`crate::api`] and each provider's model, which
//! its adapter names per operation ([`TypedOperation::result`]). The paths are the registry's:
//! each registered provider's typed operations and drop-in routes, then the proxy's own.
//!
//! Why schemars and a thin layer rather than utoipa's path macros: the proxy has no handler
//! per operation to annotate (one generic route serves every provider the registry holds), so
//! the paths are built from the registry at run time; what must come from the types are the
//! schemas, and schemars writes JSON Schema 2020-12, the dialect of OpenAPI 3.1, as is.

use proverka_core::{CredentialStyle, ParamFormat, RoutePath, TypedOperation, TypedParam};
use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::api::{Calls, Envelope, Me, Problem, Refused, Spend};
use crate::app::AppState;

/// `x-proverka-role` of a route: who may call it when keys are configured.
const CLIENT: &str = "client";
const OPERATOR: &str = "operator";
const CLIENT_OR_OPERATOR: &str = "client or operator";
const ANYONE: &str = "anyone";

fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.into_generator()
}

fn schema_value(schema: Schema) -> Value {
    schema.to_value()
}

fn parameter(p: &TypedParam, required: bool) -> Value {
    json!({
        "name": p.name,
        "in": if p.in_path { "path" } else { "query" },
        "required": required || p.in_path,
        "description": p.description,
        "schema": p.format.schema(),
    })
}

fn header_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/headers/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// The responses every route that may call a provider shares (nothing answered).
fn refusals(problem: &Value) -> Map<String, Value> {
    let billed = json!({"X-Proverka-Billed": header_ref("X-Proverka-Billed"), "X-Request-Id": header_ref("X-Request-Id")});
    let mut out = Map::new();
    let mut add = |status: &str, description: &str, headers: Value| {
        out.insert(
            status.into(),
            json!({"description": description, "content": json_content(problem.clone()), "headers": headers}),
        );
    };
    add(
        "401",
        "No valid client key (`unauthorized`), or no credential for the provider (`missing_credential`); nothing was sent",
        billed.clone(),
    );
    add(
        "402",
        "The client's daily budget would be exceeded (`budget_exceeded`); nothing was sent",
        json!({"X-Request-Id": header_ref("X-Request-Id")}),
    );
    add(
        "403",
        "An operator's key: operators query no provider (`forbidden`)",
        json!({"X-Request-Id": header_ref("X-Request-Id")}),
    );
    add(
        "414",
        "The query string is longer than the proxy reads (`query_too_long`); nothing was sent",
        json!({"X-Request-Id": header_ref("X-Request-Id")}),
    );
    let mut retry = billed.clone();
    retry["Retry-After"] = header_ref("Retry-After");
    add(
        "503",
        "Refused before sending (`busy`, `cache_degraded`, `store_unavailable`, `unavailable`): free, ask again later",
        retry,
    );
    add(
        "504",
        "`only-if-cached` and nothing cached (`not_cached`, nothing sent), or the provider did not answer in time (`provider_timeout`: see `charge`, never re-sent)",
        billed,
    );
    out
}

fn typed_operation(op: &TypedOperation, params: Vec<Value>, result: Value, refs: &Refs) -> Value {
    let answered = json!({"allOf": [refs.envelope, {"properties": {"result": result}, "required": ["result"]}]});
    let failed = json!({"allOf": [refs.envelope, {"required": ["error"]}]});
    let mut responses = refusals(&refs.problem);
    responses.insert(
        "200".into(),
        json!({
            "description": "The provider's answer as the adapter's model (`result`)",
            "content": json_content(answered),
            "headers": {
                "X-Cache": header_ref("X-Cache"), "Age": header_ref("Age"),
                "X-Request-Id": header_ref("X-Request-Id"), "X-Proverka-Source": header_ref("X-Proverka-Source"),
                "X-Proverka-Refresh": header_ref("X-Proverka-Refresh"),
            },
        }),
    );
    responses.insert(
        "400".into(),
        json!({
            "description": "The provider's page refuses the query (`error.source` = `validation`, with the provider's own answer); nothing was sent, nothing spent",
            "content": json_content(json!({"anyOf": [refs.refused, refs.problem]})),
        }),
    );
    responses.insert(
        "502".into(),
        json!({
            "description": "A provider error or an unreadable answer (`error`, with `charged` and `retryable`), or no answer at all (`provider_unreachable`, `provider_answer_too_large`: see `charge`)",
            "content": json_content(json!({"anyOf": [failed, refs.problem]})),
            "headers": {"X-Cache": header_ref("X-Cache"), "X-Proverka-Billed": header_ref("X-Proverka-Billed"), "X-Request-Id": header_ref("X-Request-Id")},
        }),
    );
    json!({"get": {
        "summary": op.summary,
        "x-proverka-role": CLIENT,
        "security": client_security(),
        "parameters": params,
        "responses": responses,
    }})
}

fn client_security() -> Value {
    json!([{"clientKey": []}, {"bearer": []}, {}])
}

fn operator_security() -> Value {
    json!([{"clientKey": []}, {"bearer": []}, {"basic": []}, {}])
}

/// References to the shared bodies' schemas.
struct Refs {
    envelope: Value,
    problem: Value,
    refused: Value,
}

fn drop_in_path(route: RoutePath) -> (String, Option<Value>) {
    match route {
        RoutePath::Exact(path) => (path.to_owned(), None),
        RoutePath::Prefix(prefix) => (
            format!("{prefix}{{tail}}"),
            Some(json!({"name": "tail", "in": "path", "required": true,
                        "description": "The rest of the provider's path, as its page writes it",
                        "schema": {"type": "string"}})),
        ),
    }
}

fn drop_in_operation(summary: String, params: Vec<Value>, refs: &Refs) -> Value {
    let mut responses = refusals(&refs.problem);
    responses.insert(
        "default".into(),
        json!({
            "description": "The provider's own reply, byte for byte (its status, `Content-Type` and body), from the cache or the provider",
            "content": {"*/*": {"schema": {}}},
            "headers": {"X-Cache": header_ref("X-Cache"), "Age": header_ref("Age"),
                        "X-Proverka-Billed": header_ref("X-Proverka-Billed"), "X-Request-Id": header_ref("X-Request-Id")},
        }),
    );
    json!({"get": {
        "summary": summary,
        "x-proverka-role": CLIENT,
        "x-proverka-pass-through": true,
        "security": client_security(),
        "parameters": params,
        "responses": responses,
    }})
}

fn own_operation(
    summary: &str,
    role: &str,
    parameters: Value,
    ok: Value,
    problem: &Value,
    security: Value,
) -> Value {
    json!({"get": {
        "summary": summary,
        "x-proverka-role": role,
        "security": security,
        "parameters": parameters,
        "responses": {
            "200": ok,
            "400": {"description": "An invalid parameter", "content": json_content(problem.clone())},
            "401": {"description": "No valid key (`unauthorized`)", "content": json_content(problem.clone())},
            "403": {"description": "The key's role does not reach this route (`forbidden`)", "content": json_content(problem.clone())},
            "503": {"description": "The store of record does not answer (`store_unavailable`)", "content": json_content(problem.clone()),
                    "headers": {"Retry-After": header_ref("Retry-After")}},
        },
    }})
}

/// The document: every registered provider's typed operations and drop-in routes, and the
/// proxy's own routes.
pub(crate) fn document(state: &AppState) -> Value {
    let mut generator = generator();
    let refs = Refs {
        envelope: schema_value(generator.subschema_for::<Envelope>()),
        problem: schema_value(generator.subschema_for::<Problem>()),
        refused: schema_value(generator.subschema_for::<Refused>()),
    };
    let mut paths = Map::new();
    let mut names = Vec::new();
    for provider in state.providers() {
        let upstream = state.engine.upstream(*provider);
        let adapter = upstream.adapter();
        names.push(provider.as_str());
        let credential = match upstream.credential_style() {
            CredentialStyle::QueryParam(name) => Some(TypedParam::optional(
                name,
                "The provider's credential when the proxy holds none (passed through; the cache is partitioned by it)",
            )),
            CredentialStyle::CallerBearer | CredentialStyle::None => None,
        };
        let mut page_params: Vec<TypedParam> = Vec::new();
        for op in adapter.operations() {
            let mut params: Vec<Value> =
                op.params.iter().map(|p| parameter(p, p.required)).collect();
            params.extend(credential.iter().map(|p| parameter(p, false)));
            params.push(json!({"$ref": "#/components/parameters/X-Proverka-Include"}));
            params.push(json!({"$ref": "#/components/parameters/Cache-Control"}));
            let result = schema_value((op.result)(&mut generator));
            paths.insert(
                op.path.to_string(),
                typed_operation(&op, params, result, &refs),
            );
            for p in op.params.iter().filter(|p| !p.in_path) {
                if !page_params.iter().any(|q| q.name == p.name) {
                    page_params.push(p.clone());
                }
            }
        }
        for route in adapter.routes().drop_in {
            let (path, tail) = drop_in_path(*route);
            let mut params: Vec<Value> = tail.into_iter().collect();
            params.extend(page_params.iter().map(|p| parameter(p, false)));
            params.extend(credential.iter().map(|p| parameter(p, false)));
            params.push(json!({"$ref": "#/components/parameters/Cache-Control"}));
            let summary = format!(
                "{provider}: the provider's own route (drop-in), passed through with the parameters its page names; the typed routes' parameters are listed"
            );
            paths.insert(path, drop_in_operation(summary, params, &refs));
        }
        for account in adapter.account_routes() {
            let params = vec![
                json!({"name": account.operation, "in": "query", "required": true,
                       "schema": {"type": "string", "enum": account.allowed}}),
            ];
            let summary = format!(
                "{provider}: {} (passed through, free; another operation is refused before any call)",
                account.summary
            );
            paths.insert(
                account.path.to_owned(),
                drop_in_operation(summary, params, &refs),
            );
        }
    }
    let problem = &refs.problem;
    let day = |name: &str, what: &str| {
        json!({"name": name, "in": "query", "required": false, "description": what,
               "schema": ParamFormat::IsoDate.schema()})
    };
    paths.insert(
        "/v1/spend".into(),
        own_operation(
            "Spend per client, provider and kind of query over Moscow days, from the store of record (a client key sees its own)",
            CLIENT_OR_OPERATOR,
            json!([
                day("day", "One Moscow day (default today)"),
                day("from", "The first day of a period"),
                day("to", "The last day of a period"),
            ]),
            json!({"description": "The spend", "content": json_content(schema_value(generator.subschema_for::<Spend>()))}),
            problem,
            client_security(),
        ),
    );
    paths.insert(
        "/v1/calls".into(),
        own_operation(
            "The provider calls made under one request id, as the ledger settled them (a client sees its own)",
            CLIENT_OR_OPERATOR,
            json!([{"name": "request_id", "in": "query", "required": true, "schema": {"type": "string"}}]),
            json!({"description": "The calls", "content": json_content(schema_value(generator.subschema_for::<Calls>()))}),
            problem,
            client_security(),
        ),
    );
    paths.insert(
        "/v1/me".into(),
        own_operation(
            "The calling client and its budget today (Moscow), from the store of record",
            CLIENT,
            json!([]),
            json!({"description": "The client", "content": json_content(schema_value(generator.subschema_for::<Me>()))}),
            problem,
            client_security(),
        ),
    );
    paths.insert(
        "/v1/status".into(),
        own_operation(
            "The status page's numbers: providers, cache, store, spend",
            OPERATOR,
            json!([]),
            json!({"description": "The status", "content": json_content(json!({"type": "object"}))}),
            problem,
            operator_security(),
        ),
    );
    let plain = |summary: &str, role: &str, content_type: &str, security: Value| {
        json!({"get": {"summary": summary, "x-proverka-role": role, "security": security,
            "responses": {"200": {"description": "OK", "content": {content_type: {"schema": {"type": "string"}}}}}}})
    };
    paths.insert(
        "/metrics".into(),
        plain(
            "Prometheus metrics (OpenMetrics); on `metrics_listen` when configured",
            OPERATOR,
            "application/openmetrics-text",
            operator_security(),
        ),
    );
    paths.insert(
        "/ui".into(),
        plain(
            "The status page (a browser sends the operator key as the Basic password)",
            OPERATOR,
            "text/html",
            operator_security(),
        ),
    );
    paths.insert(
        "/healthz".into(),
        plain("Liveness", ANYONE, "text/plain", json!([{}])),
    );
    paths.insert(
        "/readyz".into(),
        plain(
            "Readiness: the store and the shared cache answer (503 otherwise)",
            ANYONE,
            "application/json",
            json!([{}]),
        ),
    );
    paths.insert(
        "/v1/openapi.json".into(),
        json!({"get": {"summary": "This document", "x-proverka-role": ANYONE, "security": [{}],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": json_content(json!({"type": "object"}))}}}}),
    );
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "proverka-proxy",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "The caching proxy in front of {}: a paid query is never paid twice. The typed routes (`/v1/...`) answer the adapters' models; the providers' own routes are passed through byte for byte. With client keys configured, send yours as `X-Proverka-Key` (or `Authorization: Bearer`); a proxy without keys (loopback only) needs none. `x-proverka-role` says who may call a route.",
                names.join(", ")
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "clientKey": {"type": "apiKey", "in": "header", "name": "X-Proverka-Key",
                              "description": "A client's or an operator's key"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "The same key as a bearer token (Prometheus sends it so). Not for a provider whose own credential is the caller's bearer: use X-Proverka-Key there"},
                "basic": {"type": "http", "scheme": "basic",
                          "description": "A browser on /ui: any user name, the key as the password"},
            },
            "parameters": {
                "X-Proverka-Include": {"name": "X-Proverka-Include", "in": "header", "required": false,
                    "description": "`provider-answer`: the answer also carries the provider's own reply (`provider_answer`)",
                    "schema": {"type": "string", "enum": ["provider-answer"]}},
                "Cache-Control": {"name": "Cache-Control", "in": "header", "required": false,
                    "description": "`max-age=N`, `no-cache` (honoured only for clients allowed to make the proxy pay for a refresh), `only-if-cached` (never pays), `stale-if-error`",
                    "schema": {"type": "string"}},
            },
            "headers": {
                "X-Cache": {"description": "How the answer was obtained", "schema": {"type": "string", "enum": ["HIT", "MISS", "COALESCED", "STALE"]}},
                "Age": {"description": "The answer's age, seconds", "schema": {"type": "integer", "minimum": 0}},
                "X-Proverka-Billed": {"description": "On anything that is not an answer: whether the failed call cost money (`unknown`: it may have; proverka did not send it again)", "schema": {"type": "string", "enum": ["free", "charged", "unknown"]}},
                "X-Request-Id": {"description": "The request's id (the caller's when it sent a sane one): the ledger's and the logs'", "schema": {"type": "string"}},
                "X-Proverka-Source": {"description": "For a provider with a free source configured: which source answered", "schema": {"type": "string"}},
                "X-Proverka-Refresh": {"description": "`denied`: this client may not make the proxy pay for a refresh; it got what the cache had", "schema": {"type": "string", "enum": ["denied"]}},
                "Retry-After": {"description": "Seconds to wait before asking again", "schema": {"type": "integer"}},
            },
        },
    })
}
