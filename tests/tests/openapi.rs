//! The typed API's OpenAPI document: the copy committed in `docs/openapi.json` is what the
//! proxy serves at `/v1/openapi.json` (a stale copy fails here; `PROVERKA_UPDATE_DOCS=1`
//! writes it anew, to review and commit), and an independent validator, PyPI's
//! `openapi-spec-validator` (installed into `target/python` by `scripts/ensure-deps.sh`; a
//! missing one fails, it never skips), accepts it. Every answer the simulators can make the
//! proxy give on a typed route (found, not found, each documented error, each fault that
//! reaches the caller, each refusal) validates against its operation's schema, strictly
//! (`tests/openapi_answers.py`, with PyPI's `jsonschema`).

use std::collections::BTreeSet;
use std::process::Command;

use proverka_core::Provider;
use proverka_core::sandbox::Fault;
use proverka_testkit::individual_inn;
use proverka_tests::{InProcess, Reply, config_for, repository, start_sandbox};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_document_is_the_served_one_and_a_validator_accepts_it() {
    let sandbox = start_sandbox().await;
    let proxy = InProcess::new(&config_for(&sandbox, ""));
    let served = proxy.get("/v1/openapi.json", &[]).await.json();
    let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
    let committed = repository().join("docs/openapi.json");
    if std::env::var_os("PROVERKA_UPDATE_DOCS").is_some() {
        std::fs::write(&committed, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/openapi.json is not what the proxy serves: run PROVERKA_UPDATE_DOCS=1 cargo test -p proverka-tests --test openapi, review, commit"
    );
    let validator = repository().join("target/python/bin/openapi-spec-validator");
    let out = Command::new(&validator)
        .arg(&committed)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `bash scripts/ensure-deps.sh` (it installs the validator)",
                validator.display()
            )
        });
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses docs/openapi.json:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One call: the document's path (a template), the path asked, the query.
type Call = (String, String, Vec<(&'static str, String)>);

/// The answers gathered, as `tests/openapi_answers.py` reads them.
#[derive(Default)]
struct Samples(Vec<Value>);

impl Samples {
    async fn ask(
        &mut self,
        proxy: &InProcess,
        label: &str,
        (template, path, query): &Call,
        headers: &[(&str, &str)],
    ) -> Reply {
        let reply = proxy.get_with(path, query, headers).await;
        self.0.push(json!({
            "label": label, "path": template, "status": reply.status, "body": reply.json(),
        }));
        reply
    }

    fn statuses(&self) -> BTreeSet<u64> {
        self.0.iter().filter_map(|s| s["status"].as_u64()).collect()
    }
}

const ALFA_BEARER: &str = "Bearer sandbox-alfa-bearer";

/// A valid query of the typed operation at `template` that no earlier call asked (`n` makes
/// it new), with its path; `None` for an operation this test does not know, which fails it:
/// a new provider's operations get their queries here.
fn fresh(template: &str, n: u64) -> Option<Call> {
    let inn = || individual_inn(7_700_000_000 + n);
    let birthdate = format!("{:02}.01.{}", 1 + n % 28, 1950 + n / 28);
    let query: Vec<(&'static str, String)> = match template {
        "/v1/npd" | "/v1/fns" => vec![("inn", inn())],
        "/v1/fssp/regionsList" => vec![],
        "/v1/fssp/physical" | "/v1/fssp/alim" => vec![
            ("lastname", "Тестов".into()),
            ("firstname", "Иван".into()),
            ("birthdate", birthdate),
            ("region", "77".into()),
        ],
        "/v1/fssp/legal" => vec![
            ("nameLegal", format!("Ромашка {n}")),
            ("region", "77".into()),
        ],
        "/v1/fssp/ip" => vec![("number", format!("{n}/24/77001-ИП"))],
        "/v1/fssp/id" => vec![("number", format!("ФС {n}")), ("region", "77".into())],
        "/v1/fssp/inn" => vec![("inn", inn()), ("region", "77".into())],
        "/v1/fssp/wanted" => vec![("fio", format!("Тестов Иван {n}"))],
        "/v1/court" => vec![("address", format!("Казань, Тестовая {n}"))],
        "/v1/alfa/registries/{requestId}" => {
            let path = format!("/v1/alfa/registries/{}", proverka_alfa::sandbox::REQUEST_ID);
            return Some((template.into(), path, vec![("offset", n.to_string())]));
        }
        _ => return None,
    };
    Some((template.into(), template.into(), query))
}

/// The adapter of the provider a typed operation's path belongs to.
fn adapter_of(template: &str) -> std::sync::Arc<dyn proverka_core::Adapter> {
    let name = template
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap();
    proverka::adapters()
        .into_iter()
        .find(|a| a.provider().as_str() == name)
        .unwrap_or_else(|| panic!("{template}: no provider {name}"))
}

fn headers_for(template: &str) -> Vec<(&'static str, &'static str)> {
    if template.starts_with("/v1/alfa/") {
        vec![("Authorization", ALFA_BEARER)]
    } else {
        Vec::new()
    }
}

/// The faults a caller can meet: each ends in an answer, an unreadable one, or none.
fn faults() -> Vec<Fault> {
    vec![
        Fault::Html,
        Fault::Http5xx { status: 503 },
        Fault::Reset,
        Fault::Truncated,
        Fault::TruncatedAfterBilling,
        Fault::Bom,
        Fault::MessageOnly,
        Fault::SuccessZero,
        Fault::SuccessOneWithoutFound,
        Fault::Oversized { bytes: 9 << 20 },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_a_typed_route_gives_matches_its_operations_schema() {
    // The free tax service check answers as many calls as this test makes.
    let sandbox = proverka_sandbox::Sandbox::builder()
        .simulator(proverka_alfa::sandbox::AlfaSimulator::new(
            std::time::Duration::from_millis(200),
        ))
        .simulator(proverka_fns::sandbox::FnsSimulator::new(100_000))
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let config = |extra: &str| {
        format!(
            "{}[providers.fns]\nbase_url = \"{}\"\nper_minute = 100000\n",
            config_for(&sandbox, extra),
            sandbox.url()
        )
    };
    let proxy = InProcess::new(&config(""));
    let document = proxy.get("/v1/openapi.json", &[]).await.json();
    let mut samples = Samples::default();
    let mut n = 0u64;
    let mut next = |template: &str| {
        n += 1;
        fresh(template, n).unwrap_or_else(|| panic!("{template}: no query for it in this test"))
    };
    let operations: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| {
            p.starts_with("/v1/")
                && !matches!(
                    p.as_str(),
                    "/v1/spend" | "/v1/calls" | "/v1/me" | "/v1/status" | "/v1/openapi.json"
                )
        })
        .cloned()
        .collect();
    assert!(operations.len() >= 12, "{operations:?}");
    for template in &operations {
        let adapter = adapter_of(template);
        let provider = adapter.provider();
        let headers = headers_for(template);
        samples
            .ask(&proxy, "an answer", &next(template), &headers)
            .await;
        let mut with_answer = headers.clone();
        with_answer.push(("X-Proverka-Include", "provider-answer"));
        samples
            .ask(
                &proxy,
                "with the provider's answer",
                &next(template),
                &with_answer,
            )
            .await;
        // No parameters at all: refused as the page refuses it (or, for a query that takes
        // none, answered).
        let (_, path, _) = next(template);
        samples
            .ask(
                &proxy,
                "no parameters",
                &(template.clone(), path, vec![]),
                &headers,
            )
            .await;
        let codes = adapter.documented_codes();
        assert!(!codes.is_empty(), "{provider}: no documented codes");
        for code in codes {
            sandbox.inject(
                provider,
                Fault::ProviderError { code: code.clone() },
                Some(1),
            );
            samples
                .ask(&proxy, &format!("error {code}"), &next(template), &headers)
                .await;
            sandbox.clear_faults();
        }
        for fault in faults() {
            sandbox.inject(provider, fault.clone(), Some(1));
            samples
                .ask(&proxy, &format!("{fault:?}"), &next(template), &headers)
                .await;
            sandbox.clear_faults();
        }
        let mut cached_only = headers.clone();
        cached_only.push(("Cache-Control", "only-if-cached"));
        samples
            .ask(&proxy, "only-if-cached", &next(template), &cached_only)
            .await;
    }
    // The sandbox's known subjects: found and not found.
    let npd = |inn: &str| {
        (
            "/v1/npd".to_owned(),
            "/v1/npd".to_owned(),
            vec![("inn", inn.to_owned())],
        )
    };
    for inn in [
        proverka_npd::sandbox::PAYER,
        proverka_npd::sandbox::NON_PAYER,
    ] {
        samples.ask(&proxy, "known subject", &npd(inn), &[]).await;
    }
    let (last, first, born) = proverka_fssp::sandbox::DEBTOR;
    let debtor = (
        "/v1/fssp/physical".to_owned(),
        "/v1/fssp/physical".to_owned(),
        vec![
            ("lastname", last.to_owned()),
            ("firstname", first.to_owned()),
            ("birthdate", born.to_owned()),
            ("region", "77".to_owned()),
        ],
    );
    samples.ask(&proxy, "known debtor", &debtor, &[]).await;
    for address in [
        proverka_court::sandbox::ADDRESS_FOUND,
        proverka_court::sandbox::ADDRESS_NOT_FOUND,
    ] {
        let court = (
            "/v1/court".to_owned(),
            "/v1/court".to_owned(),
            vec![("address", address.to_owned())],
        );
        samples.ask(&proxy, "known address", &court, &[]).await;
    }
    let mut too_long = next("/v1/npd");
    too_long.2.push(("padding", "x".repeat(20_000)));
    samples.ask(&proxy, "too long", &too_long, &[]).await;
    let no_bearer = next("/v1/alfa/registries/{requestId}");
    samples.ask(&proxy, "no bearer", &no_bearer, &[]).await;
    // The proxy's own routes.
    let own =
        |path: &str, query: Vec<(&'static str, String)>| (path.to_owned(), path.to_owned(), query);
    for (label, route) in [
        ("spend today", own("/v1/spend", vec![])),
        (
            "spend of a bad day",
            own("/v1/spend", vec![("day", "7 May".into())]),
        ),
        (
            "calls",
            own("/v1/calls", vec![("request_id", "r-1".into())]),
        ),
        ("calls without an id", own("/v1/calls", vec![])),
        ("me", own("/v1/me", vec![])),
        ("status", own("/v1/status", vec![])),
    ] {
        samples.ask(&proxy, label, &route, &[]).await;
    }
    // Keys, roles, a budget and a provider that does not answer in time.
    let keyed = InProcess::new(&config(
        "[[clients]]\nname = \"crm\"\nkey = \"crm-key-0123456789\"\ndaily_budget_rub = 1.0\n\
         [[operators]]\nname = \"ops\"\nkey = \"ops-key-0123456789\"\n",
    ));
    let crm = [("X-Proverka-Key", "crm-key-0123456789")];
    let ops = [("X-Proverka-Key", "ops-key-0123456789")];
    samples.ask(&keyed, "no key", &next("/v1/npd"), &[]).await;
    samples
        .ask(&keyed, "an operator's key", &next("/v1/npd"), &ops)
        .await;
    samples
        .ask(&keyed, "over the budget", &next("/v1/npd"), &crm)
        .await;
    samples
        .ask(&keyed, "me", &own("/v1/me", vec![]), &crm)
        .await;
    samples
        .ask(
            &keyed,
            "a client on status",
            &own("/v1/status", vec![]),
            &crm,
        )
        .await;
    samples
        .ask(
            &keyed,
            "an operator's spend",
            &own("/v1/spend", vec![]),
            &ops,
        )
        .await;
    sandbox.inject(Provider::Npd, Fault::Timeout, Some(1));
    let slow = InProcess::new(&config("").replace(
        "key = \"npd-key\"\n",
        "key = \"npd-key\"\ntimeout_secs = 1\n",
    ));
    samples.ask(&slow, "timeout", &next("/v1/npd"), &[]).await;
    sandbox.clear_faults();

    // Every status a caller can meet was met (a test that met only answers proves little).
    let seen = samples.statuses();
    for status in [200, 400, 401, 402, 403, 414, 502, 504] {
        assert!(seen.contains(&status), "no {status} among {seen:?}");
    }
    // Against the document this proxy serves (the other test keeps the committed copy equal).
    let file = std::env::temp_dir().join(format!(
        "proverka-openapi-answers-{}.json",
        std::process::id()
    ));
    let served = file.with_extension("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&samples.0).unwrap()).unwrap();
    std::fs::write(&served, serde_json::to_vec(&document).unwrap()).unwrap();
    let python = repository().join("target/python/bin/python");
    let out = Command::new(&python)
        .arg(repository().join("tests/openapi_answers.py"))
        .arg(&served)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run `bash scripts/ensure-deps.sh` (it installs jsonschema)",
                python.display()
            )
        });
    let _ = (std::fs::remove_file(&file), std::fs::remove_file(&served));
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "answers that do not match docs/openapi.json:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
