//! Request ids: every answer carries `X-Request-Id` (the client's when sane, a new one
//! otherwise), every log line about the request carries it, and the ledger line of a provider
//! call names the request that led it. In process through the proxy's service.

use proverka_proxy::{Config, Proxy};
use proverka_sandbox::Sandbox;

async fn ask(proxy: &Proxy, inn: &str, id: Option<&[u8]>) -> (u16, String) {
    let mut request =
        http::Request::get(format!("/parser/nalog_npd_api/?inn={inn}&date=2024-02-01"));
    if let Some(id) = id {
        request = request.header("X-Request-Id", http::HeaderValue::from_bytes(id).unwrap());
    }
    let response = proxy
        .handle(request.body(Default::default()).unwrap())
        .await;
    let id = response
        .headers()
        .get("x-request-id")
        .expect("every answer has an X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned();
    (response.status().as_u16(), id)
}

fn is_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_log_line_and_ledger_line_carries_the_request_id() {
    let logs = proverka_tests::CapturedLogs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .init();
    let sandbox = Sandbox::builder().start("127.0.0.1:0").await.unwrap();
    let ledger =
        std::env::temp_dir().join(format!("proverka-request-id-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&ledger);
    let toml = format!(
        "{}ledger_path = \"{}\"\n[providers.npd]\nbase_url = \"{}\"\nkey = \"npd-key\"\n",
        proverka_testkit::own_store(),
        ledger.display(),
        sandbox.url()
    );
    let proxy = Proxy::new(Config::from_toml(&toml, &[]).unwrap()).unwrap();

    // The client's sane id is kept, on the answer, the log lines and the ledger line.
    let (status, id) = ask(&proxy, proverka_npd::sandbox::PAYER, Some(b"crm-7f3a:42")).await;
    assert_eq!((status, id.as_str()), (200, "crm-7f3a:42"));
    let ledger_lines: Vec<serde_json::Value> = std::fs::read_to_string(&ledger)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ledger_lines.len(), 1);
    assert_eq!(ledger_lines[0]["request_id"], "crm-7f3a:42");
    let text = logs.text();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mentioning = |message: &str| {
        lines
            .iter()
            .filter(|l| l["fields"]["message"] == message)
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
    };
    let request_lines = mentioning("request");
    assert_eq!(request_lines.len(), 1, "{text}");
    assert!(request_lines[0].contains("crm-7f3a:42"), "{text}");
    // The ledger's line is logged by the flight (its own task), under the request's span.
    let call_lines = mentioning("provider call");
    assert_eq!(call_lines.len(), 1, "{text}");
    assert!(call_lines[0].contains("crm-7f3a:42"), "{text}");

    // Without one, or with one that is not sane, a new one: never echoed, never logged.
    let (_, a) = ask(&proxy, proverka_npd::sandbox::PAYER, None).await;
    let (_, b) = ask(&proxy, proverka_npd::sandbox::PAYER, None).await;
    assert!(is_generated(&a) && is_generated(&b) && a != b, "{a} {b}");
    let long = "a".repeat(129);
    for bad in [
        b"two words".as_slice(),
        b"",
        long.as_bytes(),
        b"quote\"d",
        "кириллица".as_bytes(),
    ] {
        let (status, id) = ask(&proxy, proverka_npd::sandbox::PAYER, Some(bad)).await;
        assert_eq!(status, 200);
        assert!(is_generated(&id), "{bad:?} gave {id}");
    }
    let text = logs.text();
    assert!(
        !text.contains("two words") && !text.contains(&long),
        "{text}"
    );
    // Errors carry it too (a refusal before any call).
    let response = proxy
        .handle(
            http::Request::get("/parser/nalog_npd_api/?inn=12")
                .header("X-Request-Id", "bad-inn-1")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert_eq!(response.headers()["x-request-id"], "bad-inn-1");
}
