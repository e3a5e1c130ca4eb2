//! A throwaway sixth provider, written here and nowhere else: its adapter, its query, its
//! simulator, its command-line check. Registered once (`proverka::register`), it is served by
//! the proxy (drop-in and typed routes, cache, metrics, OpenAPI), by the sandbox and by the
//! command line (a subcommand, a batch check with its own columns), without a line of theirs
//! naming it. This is the "one package" promise of the registry, checked.

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use proverka_core::checks::{
    CheckParam, CheckSpec, ColumnKind, Fields, ParamKind, Refusal, ResultColumn, field_text,
};
use proverka_core::sandbox::{Reply, Request, Simulated, Simulator, param, seed};
use proverka_core::{
    Adapter, Billed, CacheKey, CodeMeaning, Cost, CredentialStyle, ErrorSource, Inn, Lookup,
    PagePrice, PageReply, Parsed, Provider, ProviderReply, ProviderSpec, QueryInput, RawAnswer,
    RenderError, Reported, RoutePath, Routes, TypedOperation, TypedParam, UpstreamRequest, Verdict,
    json_body,
};
use proverka_sandbox::Sandbox;
use proverka_tests::{InProcess, config_for};
use serde_json::{Value, json};

/// The provider: a registry of disqualified persons, say; its name is all proverka knows.
const SIXTH: Provider = Provider::new("sixth");
/// Its own path.
const PATH: &str = "/sixth/check";

/// One query: an INN.
#[derive(Debug, Clone)]
struct SixthQuery {
    inn: Inn,
}

impl Lookup for SixthQuery {
    fn provider(&self) -> Provider {
        SIXTH
    }

    fn query_kind(&self) -> &'static str {
        "check"
    }

    fn cache_key(&self) -> CacheKey {
        CacheKey::builder(SIXTH, "check")
            .exact("inn", self.inn.to_string())
            .build()
    }

    fn cost(&self) -> Cost {
        Cost::Paid { typical: None }
    }

    fn upstream_request(&self) -> UpstreamRequest {
        UpstreamRequest::new(PATH).param("inn", self.inn.to_string())
    }

    fn judge(&self, raw: &RawAnswer, _now: SystemTime) -> Verdict {
        let body: Option<Value> = serde_json::from_slice(json_body(&raw.body)).ok();
        match (raw.status, body) {
            (200, Some(v)) if v["found"].is_boolean() => Verdict::Answer {
                billed: Billed::Yes(None),
                keep_for: Duration::from_secs(3600),
                reported: Reported::default(),
            },
            (401, _) => Verdict::ProviderError {
                code: "401".into(),
                billed: Billed::No,
                retryable: false,
            },
            _ => Verdict::Unreadable {
                billed: Billed::Unknown,
                what: "not the provider's JSON".into(),
            },
        }
    }

    fn render(&self, raw: &RawAnswer) -> Result<Value, RenderError> {
        let body: Value = serde_json::from_slice(json_body(&raw.body)).unwrap_or(Value::Null);
        match body["found"].as_bool() {
            Some(found) => Ok(serde_json::to_value(Disqualification {
                inn: self.inn.to_string(),
                disqualified: found,
            })
            .unwrap_or(Value::Null)),
            None => Err(RenderError {
                source: ErrorSource::Decode,
                message: "no `found` in the answer".into(),
                retryable: false,
                charged: proverka_core::Charged::Unknown,
            }),
        }
    }
}

/// Its model: what the typed route answers (and the OpenAPI document describes).
#[derive(serde::Serialize, schemars::JsonSchema)]
struct Disqualification {
    /// The INN asked about.
    inn: String,
    /// Whether the person is disqualified.
    disqualified: bool,
}

/// The throwaway provider: what it is and how proverka serves it.
const SPEC: ProviderSpec = ProviderSpec {
    provider: SIXTH,
    base_url: "https://sixth.invalid",
    timeout: Duration::from_secs(10),
    credential: CredentialStyle::QueryParam("token"),
    price: PagePrice::Tariff,
    calls_per_minute: None,
    missing_credential: Some(PageReply {
        status: 401,
        body: r#"{"error":"no token"}"#,
    }),
    routes: Routes {
        drop_in: &[RoutePath::Exact(PATH)],
        typed: RoutePath::Exact("/v1/sixth"),
    },
    dictionaries: &[],
    operations: &[TypedOperation::new(
        "/v1/sixth",
        "Whether a person is disqualified (a throwaway provider)",
        &[TypedParam::required("inn", "INN")],
        proverka_core::schema_of::<Disqualification>,
    )],
};

/// Its adapter: what the proxy and the sandbox read of it.
#[derive(Debug)]
struct SixthAdapter;

impl Adapter for SixthAdapter {
    fn spec(&self) -> ProviderSpec {
        SPEC
    }

    fn parse(&self, input: &QueryInput<'_>) -> Result<Parsed, ProviderReply> {
        let inn = input
            .pairs
            .iter()
            .find(|(k, _)| *k == "inn")
            .map(|(_, v)| *v)
            .unwrap_or_default();
        inn.parse::<Inn>()
            .map(|inn| Parsed::stable(SixthQuery { inn }))
            .map_err(|_| ProviderReply::new(400, r#"{"error":"bad inn"}"#))
    }

    fn explain(&self, code: &str) -> Option<CodeMeaning> {
        let _ = code;
        None
    }

    fn simulator(&self) -> Option<Box<dyn Simulator>> {
        Some(Box::new(SixthSimulator))
    }

    fn checks(&self) -> Vec<CheckSpec> {
        vec![CHECK]
    }
}

/// Its check on the command line: `proverka sixth --inn …`, `proverka batch --check sixth`.
const CHECK: CheckSpec = CheckSpec {
    name: "sixth",
    command: &["sixth"],
    about: "Whether a person is disqualified (a throwaway provider)",
    group_about: "",
    fixed: &[],
    params: &[CheckParam::new("inn", "The INN")
        .required()
        .kind(ParamKind::Inn { person_only: false })
        .headers("ИНН", &["инн", "inn"])],
    tail: None,
    splits_fio: false,
    concurrency: 2,
    columns: &[ResultColumn::new(
        "disqualified",
        "дисквалифицирован",
        ColumnKind::Bool,
    )],
    fields: |result| Fields::from([("disqualified".into(), field_text(&result["disqualified"]))]),
    details: None,
    paging: None,
    changes: &[("disqualified", "Дисквалификация")],
    plan: |pairs, _now| {
        let inn = pairs
            .iter()
            .find(|(k, _)| *k == "inn")
            .map(|(_, v)| *v)
            .unwrap_or_default();
        inn.parse::<Inn>()
            .map(|inn| Arc::new(SixthQuery { inn }) as Arc<dyn Lookup>)
            .map_err(|e| Refusal {
                code: "bad inn".into(),
                message: e.to_string(),
                param: Some("inn".into()),
            })
    },
};

/// Its simulator: refuses a missing token, answers from the query's seed, bills each answer.
#[derive(Debug)]
struct SixthSimulator;

impl Simulator for SixthSimulator {
    fn provider(&self) -> Provider {
        SIXTH
    }

    fn answer(&self, request: &Request<'_>) -> Simulated {
        // A call without the token never reaches here: the sandbox answers it from the spec.
        let Some(inn) = param(request.pairs, &["inn"]) else {
            return Simulated::Refused(Reply::json(400, &json!({"error": "bad inn"})));
        };
        Simulated::Answered {
            reply: Reply::json(
                200,
                &json!({"found": seed(request.pairs).is_multiple_of(2)}),
            ),
            billed: true,
            key: inn
                .parse::<Inn>()
                .ok()
                .map(|inn| SixthQuery { inn }.cache_key()),
        }
    }

    fn provider_error(&self, code: &str) -> Reply {
        Reply::json(code.parse().unwrap_or(500), &json!({"error": "no token"}))
    }

    fn credential(&self) -> Option<&'static str> {
        Some("sixth-token")
    }
}

fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        proverka::register(Arc::new(SixthAdapter)).expect("the name is free");
    });
}

/// An INN with a valid checksum.
const INN: &str = "7707083893";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixth_provider_is_served_by_the_sandbox_and_the_proxy_without_touching_them() {
    register();
    assert_eq!(
        proverka::register(Arc::new(SixthAdapter)),
        Err(proverka::AlreadyRegistered(SIXTH)),
        "a name is registered once"
    );
    let sandbox = Sandbox::builder().start("127.0.0.1:0").await.unwrap();

    // The sandbox simulates it on its adapter's path, refusals included.
    let direct = proverka_tests::http()
        .get(format!("{}{PATH}", sandbox.url()))
        .query(&[("inn", INN), ("token", "t")])
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);
    assert!(direct.json::<Value>().await.unwrap()["found"].is_boolean());
    assert_eq!((sandbox.calls(SIXTH), sandbox.billed(SIXTH)), (1, 1));
    sandbox.reset();

    // The proxy serves it from its registry entry and a configuration section of its name.
    let toml = config_for(&sandbox, "")
        + &format!(
            "[providers.sixth]\nbase_url = \"{}\"\ntoken = \"sixth-token\"\nprice_rub = 3.0\n",
            sandbox.url()
        );
    let proxy = InProcess::new(&toml);
    let query = [("inn", INN.to_owned())];
    let first = proxy.get(PATH, &query).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("x-cache"), "MISS");
    let again = proxy.get(PATH, &query).await;
    assert_eq!(again.header("x-cache"), "HIT");
    assert_eq!(
        again.text(),
        first.text(),
        "the provider's bytes, served again"
    );
    let typed = proxy.get("/v1/sixth", &query).await;
    assert_eq!(typed.status, 200, "{}", typed.text());
    assert_eq!(typed.json()["result"]["inn"], INN);
    assert_eq!(
        sandbox.billed(SIXTH),
        1,
        "one paid call for one query, whatever route asked"
    );

    // A query its adapter refuses is answered in its words, free, never sent.
    let refused = proxy.get(PATH, &[("inn", "123".to_owned())]).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "bad inn");
    assert_eq!(sandbox.calls(SIXTH), 1);

    // Metrics and the OpenAPI document list it as they list the others.
    let metrics = proxy.metrics().await;
    assert!(
        metrics.contains("provider=\"sixth\""),
        "no metric names the sixth provider:\n{metrics}"
    );
    let openapi = proxy.get("/v1/openapi.json", &[]).await.json();
    assert!(openapi["paths"]["/v1/sixth"].is_object());
}

/// Another valid INN.
const OTHER_INN: &str = "500100732259";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_provider_s_money_rules_are_the_engine_s() {
    register();
    let sandbox = Sandbox::builder().start("127.0.0.1:0").await.unwrap();
    let toml = config_for(
        &sandbox,
        "[[clients]]\nname = \"crm\"\nkey = \"crm-key-0001\"\ndaily_budget_rub = 5.0\n",
    ) + &format!(
        "[providers.sixth]\nbase_url = \"{}\"\ntoken = \"sixth-token\"\nprice_rub = 3.0\n",
        sandbox.url()
    );
    let proxy = InProcess::new(&toml);
    let as_crm = [("X-Proverka-Key", "crm-key-0001")];
    let ask = |inn: &str| [("inn", inn.to_owned())];

    // Its own error, injected in the sandbox through its simulator: passed on, free, not kept.
    sandbox.inject(
        SIXTH,
        proverka_sandbox::Fault::ProviderError { code: "401".into() },
        Some(1),
    );
    let refused = proxy.get_with(PATH, &ask(INN), &as_crm).await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(refused.json()["error"], "no token");
    assert_eq!(sandbox.billed(SIXTH), 0);

    // The same query again is sent again (an error is never cached), and paid once.
    let paid = proxy.get_with(PATH, &ask(INN), &as_crm).await;
    assert_eq!(paid.status, 200, "{}", paid.text());
    assert_eq!((sandbox.calls(SIXTH), sandbox.billed(SIXTH)), (2, 1));

    // The budget: 3 RUB spent of 5, so another 3 RUB query is refused before it is sent.
    let over = proxy.get_with(PATH, &ask(OTHER_INN), &as_crm).await;
    assert_eq!(over.status, 402, "{}", over.text());
    assert_eq!(sandbox.calls(SIXTH), 2, "nothing sent over the budget");
    // A hit costs nothing, so it is served whatever the budget.
    let hit = proxy.get_with(PATH, &ask(INN), &as_crm).await;
    assert_eq!(hit.header("x-cache"), "HIT");
}

/// The command line, built from the registry, offers its check: a subcommand with its flag, a
/// `batch --check` value, and a batch of it against the built-in sandbox writes its column,
/// asks once for two identical rows and refuses a bad INN before any call.
#[test]
fn a_sixth_provider_is_served_by_the_command_line_without_touching_it() {
    register();
    let cli = proverka_cli::command();
    let sixth = cli.find_subcommand("sixth").expect("`proverka sixth`");
    assert!(sixth.get_arguments().any(|a| a.get_long() == Some("inn")));
    let work = std::env::temp_dir().join(format!("proverka-sixth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let input = work.join("people.csv");
    std::fs::write(&input, format!("Имя;ИНН\nА;{INN}\nБ;{INN}\nВ;7707083894\n")).unwrap();
    let out = work.join("checked.csv");
    let args = |extra: &[&str]| -> Vec<String> {
        ["proverka", "--sandbox", "--lang", "en", "--store"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([work.join("store.sqlite").display().to_string()])
            .chain(extra.iter().map(|s| (*s).to_owned()))
            .collect()
    };
    let code = proverka_cli::run(args(&[
        "batch",
        "--input",
        &input.display().to_string(),
        "--check",
        "sixth",
        "--out",
        &out.display().to_string(),
        "--yes",
    ]));
    let written = std::fs::read_to_string(&out).unwrap();
    let written = written.trim_start_matches('\u{feff}');
    let rows: Vec<Vec<&str>> = written.lines().map(|l| l.split(';').collect()).collect();
    assert_eq!(
        rows[0][..5],
        ["Имя", "ИНН", "status", "disqualified", "error_code"],
        "{written}"
    );
    assert_eq!(
        (rows[1][2], rows[2][2], rows[3][2]),
        ("ok", "ok", "invalid"),
        "{written}"
    );
    assert!(["yes", "no"].contains(&rows[1][3]), "{written}");
    assert_eq!(rows[1][3], rows[2][3], "the same answer: {written}");
    assert!(written.contains("duplicate of row 2"), "{written}");
    assert_eq!(rows[3][4], "bad inn", "{written}");
    // Every row answered or refused before any call: done.
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    // A one-off check of it, and its refusal.
    let one = proverka_cli::run(args(&["sixth", "--inn", INN]));
    assert_eq!(one, std::process::ExitCode::SUCCESS);
    let bad = proverka_cli::run(args(&["sixth", "--inn", "7707083894"]));
    assert_eq!(bad, std::process::ExitCode::from(1));
    std::fs::remove_dir_all(&work).unwrap();
}
