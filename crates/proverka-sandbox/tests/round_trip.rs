//! Each adapter's client against the sandbox: every query type, every injected fault, a typed
//! result or the right typed error, never a panic.

use std::time::Duration;

use proverka_core::{ErrorSource, Provider, RetryPolicy, Secret};
use proverka_sandbox::{Fault, Sandbox, SandboxHandle};

fn fssp_balance(s: &SandboxHandle) -> proverka_core::Money {
    s.simulator::<proverka_fssp::sandbox::FsspSimulator>()
        .expect("the sandbox simulates FSSP")
        .balance()
}

/// How long an Alfa registry stays in each state here: far longer than a test runs, so only
/// [`SandboxHandle::advance`] moves it.
const STEP: Duration = Duration::from_secs(3600);

async fn sandbox() -> SandboxHandle {
    Sandbox::builder()
        .simulator(proverka_alfa::sandbox::AlfaSimulator::new(STEP))
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

fn fssp(s: &SandboxHandle) -> proverka_fssp::FsspClient {
    proverka_fssp::FsspClient::builder()
        .token(proverka_fssp::sandbox::TOKEN)
        .base_url(s.url())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn court(s: &SandboxHandle) -> proverka_court::CourtClient {
    proverka_court::CourtClient::builder()
        .token("sandbox")
        .base_url(s.url())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn npd(s: &SandboxHandle) -> proverka_npd::NpdClient {
    proverka_npd::NpdClient::builder()
        .token("sandbox")
        .base_url(s.url())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn alfa(s: &SandboxHandle) -> proverka_alfa::AlfaClient {
    proverka_alfa::AlfaClient::builder()
        .base_url(s.url())
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_fssp_query_type_round_trips_and_pays() {
    use proverka_fssp::*;
    let s = sandbox().await;
    let c = fssp(&s);
    let (last, first, birth) = proverka_fssp::sandbox::DEBTOR;
    let debtor = Physical::new(last, first, birth, Region::Code(77)).unwrap();
    let found = c.physical(&debtor).await.unwrap();
    assert!(!found.records.is_empty());
    let price = found.inquiry().unwrap().price.unwrap();
    assert_eq!(fssp_balance(&s).kopecks(), 100_000 - price.kopecks());
    let (last, first, birth) = proverka_fssp::sandbox::CLEAN;
    assert!(
        c.physical(&Physical::new(last, first, birth, Region::All).unwrap())
            .await
            .unwrap()
            .is_not_found()
    );
    assert!(!c.regions_list().await.unwrap().regions.is_empty());
    c.legal(&Legal::new("аптека 23", Region::Code(23)).unwrap())
        .await
        .unwrap();
    c.ip(&Ip::new("32472/17/23072-ИП").unwrap()).await.unwrap();
    c.id(&Id::new("2-1234/2021", Region::Code(77)).unwrap())
        .await
        .unwrap();
    c.inn(&ByInn::parse("7707083893", Region::All).unwrap())
        .await
        .unwrap();
    c.wanted(&Wanted::new("Иванов Иван Иванович").unwrap())
        .await
        .unwrap();
    c.alim(&Alim::new(last, first, birth, Region::All).unwrap())
        .await
        .unwrap();
    // Same query, same answer.
    assert_eq!(c.physical(&debtor).await.unwrap().records, found.records);
    assert_eq!(s.calls_for(&debtor), 2);
    assert_eq!(s.calls(Provider::Fssp), 10);
}

#[tokio::test]
async fn fssp_faults_become_typed_errors() {
    let s = sandbox().await;
    let c = fssp(&s);
    let q =
        proverka_fssp::Physical::new("Иванов", "Иван", "31.03.1980", proverka_fssp::Region::All)
            .unwrap();
    let cases: Vec<(Fault, ErrorSource)> = vec![
        (
            Fault::ProviderError { code: "456".into() },
            ErrorSource::Provider,
        ),
        (
            Fault::ProviderError { code: "1".into() },
            ErrorSource::Provider,
        ),
        (Fault::Html, ErrorSource::Decode),
        (Fault::Truncated, ErrorSource::Decode),
        (Fault::Http5xx { status: 502 }, ErrorSource::Decode),
        (Fault::Reset, ErrorSource::Network),
        (Fault::Timeout, ErrorSource::Network),
    ];
    for (fault, source) in cases {
        s.inject(Provider::Fssp, fault.clone(), Some(1));
        let e = c.physical(&q).await.unwrap_err();
        assert_eq!(e.source_kind(), source, "{fault:?}: {e}");
        assert!(e.retryable(), "{fault:?}");
    }
    // The faults that cost money: billed by the simulator, read by the adapter as they are.
    for (fault, charged) in [
        (
            Fault::TruncatedAfterBilling,
            proverka_core::Charged::Unknown,
        ),
        (Fault::MessageOnly, proverka_core::Charged::Unknown),
    ] {
        let billed = s.billed(Provider::Fssp);
        s.inject(Provider::Fssp, fault.clone(), Some(1));
        let e = c.physical(&q).await.unwrap_err();
        assert_eq!(
            (e.source_kind(), e.charged()),
            (ErrorSource::Decode, charged),
            "{fault:?}"
        );
        assert_eq!(s.billed(Provider::Fssp), billed + 1, "{fault:?}");
    }
    s.inject(Provider::Fssp, Fault::Bom, Some(1));
    assert!(
        !c.physical(&q).await.unwrap().records.is_empty(),
        "a BOM hides nothing"
    );
    // A latency holds the answer back: past the client's timeout it is the client's timeout
    // (sent, so possibly billed), not an answer; the fault spent, the next call is answered.
    s.inject(
        Provider::Fssp,
        Fault::latency(Duration::from_secs(3600)),
        Some(1),
    );
    let impatient = proverka_fssp::FsspClient::builder()
        .token(proverka_fssp::sandbox::TOKEN)
        .base_url(s.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = impatient.physical(&q).await.unwrap_err();
    assert_eq!(
        (e.source_kind(), e.charged()),
        (ErrorSource::Network, proverka_core::Charged::Unknown),
        "{e}"
    );
    assert!(!impatient.physical(&q).await.unwrap().records.is_empty());
    // Validation is the adapter's: the sandbox answers exactly what the provider would.
    let raw = raw_get(&format!("{}/api/fssp.php?type=physical&lastname=Ив@нов&firstname=И&birthdate=01.01.1990&region=1&token={}", s.url(), proverka_fssp::sandbox::TOKEN)).await;
    assert_eq!(
        raw,
        r#"{"error":"888","message":"lastname: forbidden symbols present"}"#
    );
}

/// A plain HTTP/1.1 GET over a socket: the body exactly as the sandbox sent it.
async fn raw_get(url: &str) -> String {
    let url = url.strip_prefix("http://").unwrap();
    let (host, path) = url.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let path_encoded: String = path
        .chars()
        .map(|ch| {
            if ch.is_ascii() && ch != ' ' {
                ch.to_string()
            } else {
                ch.to_string()
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect();
    let request =
        format!("GET /{path_encoded} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn court_round_trips_quota_swaps_and_faults() {
    use proverka_court::*;
    let s = sandbox().await;
    let c = court(&s);
    let found = c
        .find(&CourtQuery::address(
            Address::new(proverka_court::sandbox::ADDRESS_FOUND).unwrap(),
        ))
        .await
        .unwrap();
    assert!(found.court_fs.is_some() && found.court_ms.is_some());
    assert_eq!(found.queries_left, Some(999));
    let none = c
        .find(&CourtQuery::address(
            Address::new(proverka_court::sandbox::ADDRESS_NOT_FOUND).unwrap(),
        ))
        .await
        .unwrap();
    assert!(!none.found());
    // Latitude first finds nothing; the swapped retry finds the courts.
    let point = CourtQuery::coords(Coords::new(55.796289, 49.108795).unwrap())
        .swapped()
        .unwrap();
    assert!(!c.find(&point).await.unwrap().found());
    assert!(c.find_trying_swapped(&point).await.unwrap().found());
    for (fault, source) in [
        (
            Fault::ProviderError {
                code: "Query limit is null (0)".into(),
            },
            ErrorSource::Provider,
        ),
        (Fault::Html, ErrorSource::Decode),
        (Fault::Reset, ErrorSource::Network),
    ] {
        s.inject(Provider::Court, fault, Some(1));
        assert_eq!(c.find(&point).await.unwrap_err().source_kind(), source);
    }
    let limited = Sandbox::builder()
        .simulator(proverka_court::sandbox::CourtSimulator::new(1))
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let c = court(&limited);
    let q = CourtQuery::address(Address::new("Москва, Тверская 1").unwrap());
    assert_eq!(c.find(&q).await.unwrap().queries_left, Some(0));
    assert!(matches!(
        c.find(&q).await.unwrap_err(),
        Error::Provider(ProviderError::QueryLimitZero)
    ));
}

#[tokio::test]
async fn npd_round_trips_success_zero_and_errors() {
    use proverka_npd::*;
    let s = sandbox().await;
    let c = npd(&s);
    assert!(
        c.check(&NpdQuery::parse(proverka_npd::sandbox::PAYER, None).unwrap())
            .await
            .unwrap()
            .self_employed
    );
    let non = NpdQuery::parse(proverka_npd::sandbox::NON_PAYER, Some("2024-01-01")).unwrap();
    assert!(!c.check(&non).await.unwrap().self_employed);
    s.inject(Provider::Npd, Fault::SuccessZero, Some(2));
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    };
    assert!(!c.check_retrying(&non, &policy).await.unwrap().self_employed);
    assert_eq!(
        s.calls_for(&non),
        2,
        "the two success=0 answers were not counted as answers"
    );
    // `success = 1` without `found`: billed by the simulator, an error for the adapter.
    let billed = s.billed(Provider::Npd);
    s.inject(Provider::Npd, Fault::SuccessOneWithoutFound, Some(1));
    let e = c.check(&non).await.unwrap_err();
    assert_eq!(e.charged(), proverka_core::Charged::Yes, "{e}");
    assert_eq!(s.billed(Provider::Npd), billed + 1);
    for (fault, expected) in [
        (
            Fault::ProviderError {
                code: "40304".into(),
            },
            "40304",
        ),
        (
            Fault::ProviderError {
                code: "40301".into(),
            },
            "40301",
        ),
    ] {
        s.inject(Provider::Npd, fault, Some(1));
        match c.check(&non).await.unwrap_err() {
            Error::Provider(p) => assert_eq!(p.code().unwrap().to_string(), expected),
            other => panic!("{other:?}"),
        }
    }
    for fault in [
        Fault::Html,
        Fault::Truncated,
        Fault::Http5xx { status: 503 },
        Fault::Reset,
    ] {
        s.inject(Provider::Npd, fault.clone(), Some(1));
        assert!(c.check(&non).await.unwrap_err().retryable(), "{fault:?}");
    }
}

#[tokio::test]
async fn alfa_registries_advance_and_page() {
    use proverka_alfa::*;
    let s = sandbox().await;
    let c = alfa(&s);
    let bearer = Secret::new("sandbox-bearer");
    let q = RegistryQuery::new(proverka_alfa::sandbox::REQUEST_ID).unwrap();
    assert_eq!(
        c.registry(&bearer, &q).await.unwrap().list_status,
        Some(ListStatus::New)
    );
    s.advance(STEP);
    assert_eq!(
        c.registry(&bearer, &q).await.unwrap().list_status,
        Some(ListStatus::InProgress)
    );
    s.advance(STEP);
    let all = c
        .fetch_all(&bearer, proverka_alfa::sandbox::REQUEST_ID, 2)
        .await
        .unwrap();
    assert_eq!(all.list_status, Some(ListStatus::Success));
    let total = all.pagination.unwrap().total_count.unwrap();
    assert_eq!(all.selfemployed_account.len() as i64, total);
    let e = c
        .registry(&Secret::new(proverka_alfa::sandbox::INVALID_BEARER), &q)
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Provider(ProviderError::InvalidToken { .. })
    ));
    for (fault, source) in [
        (
            Fault::ProviderError {
                code: "internal_error".into(),
            },
            ErrorSource::Provider,
        ),
        (Fault::Html, ErrorSource::Decode),
        (Fault::Timeout, ErrorSource::Network),
    ] {
        s.inject(Provider::Alfa, fault, Some(1));
        assert_eq!(
            c.registry(&bearer, &q).await.unwrap_err().source_kind(),
            source
        );
    }
    assert!(s.calls_for(&q) >= 2);
}

/// A raw HTTP/1.1 request over a socket: (status, body).
async fn raw(s: &SandboxHandle, method: &str, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (
        status,
        response
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn control_endpoints_inject_faults_count_calls_and_reset() {
    let s = sandbox().await;
    let c = fssp(&s);
    let q =
        proverka_fssp::Physical::new("Иванов", "Иван", "31.03.1980", proverka_fssp::Region::All)
            .unwrap();
    let (status, _) = raw(
        &s,
        "POST",
        "/__sandbox/faults/fssp",
        r#"{"fault":{"kind":"provider_error","code":"456"},"times":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    match c.physical(&q).await.unwrap_err() {
        proverka_fssp::Error::Provider(p) => assert_eq!(p.code, proverka_fssp::ErrorCode::MaxLimit),
        other => panic!("{other:?}"),
    }
    assert!(
        c.physical(&q).await.is_ok(),
        "the fault applied to one call only"
    );
    let (_, calls) = raw(&s, "GET", "/__sandbox/calls", "").await;
    let calls: serde_json::Value = serde_json::from_str(&calls).unwrap();
    assert_eq!(calls["calls"]["fssp"], 2);
    assert_eq!(
        calls["by_query"].as_object().unwrap().len(),
        1,
        "one canonical query, counted"
    );
    assert_eq!(
        raw(&s, "POST", "/__sandbox/faults/fssp", "{not json")
            .await
            .0,
        400
    );
    assert_eq!(
        raw(&s, "POST", "/__sandbox/faults/nowhere", "{}").await.0,
        404
    );
    let (_, _) = raw(
        &s,
        "POST",
        "/__sandbox/faults/fssp",
        r#"{"fault":{"kind":"html"}}"#,
    )
    .await;
    assert_eq!(raw(&s, "DELETE", "/__sandbox/faults", "").await.0, 200);
    assert!(c.physical(&q).await.is_ok(), "faults cleared");
    assert_eq!(raw(&s, "POST", "/__sandbox/reset", "").await.0, 200);
    assert_eq!(s.calls(Provider::Fssp), 0);
    assert_eq!(fssp_balance(&s).kopecks(), 100_000);
}

/// The sandbox follows the pages, not the adapters (`shared/seeds/`).
#[tokio::test]
async fn the_simulators_behave_like_the_pages() {
    let s = Sandbox::builder()
        .simulator(proverka_fssp::sandbox::FsspSimulator::new(
            proverka_core::Money::from_kopecks(100),
            proverka_core::Money::from_kopecks(2_000_000),
        ))
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();
    let token = proverka_fssp::sandbox::TOKEN;
    let url = s.url();
    // Court: "не находит c "55.794340 49.099524", но найдет c "49.099524 55.794340"", and a
    // point east of 90°E is found in either order.
    let court = |coords: &str| {
        let url = format!("{url}/api?token=t&coords={}", coords.replace(' ', "%20"));
        async move { json(raw_get(&url).await) }
    };
    assert!(court("49.099524 55.794340").await["request"]["court_fs"].is_object());
    assert!(court("55.794340 49.099524").await["request"]["court_fs"].is_null());
    assert!(court("131.885 43.115").await["request"]["court_fs"].is_object());
    assert!(court("43.115 131.885").await["request"]["court_fs"].is_object());
    assert_eq!(
        court("55.7;49.1").await["data"]["error"],
        "Non-correct recording of coordinates"
    );
    // FSSP: the wanted sample's "balance": -706.62 with "credit": 20000: below zero down to the
    // credit line. The balance here starts at 1.00.
    let physical = |birth: &str| {
        let url = format!(
            "{url}/api/fssp.php?type=physical&lastname=Иванов&firstname=Иван&birthdate={birth}&region=77&token={token}"
        );
        async move { json(raw_get(&url).await) }
    };
    assert_eq!(physical("01.01.1980").await["inquiry"]["balance"], 0.2);
    let below = physical("02.01.1980").await;
    assert_eq!(below["inquiry"]["balance"], -0.6, "{below}");
    assert_eq!(below["inquiry"]["credit"], "20000.00");
    // ip found at the page's price: "price": 0.8 in the ip sample.
    let ip = json(
        raw_get(&format!(
            "{url}/api/fssp.php?type=ip&number=32472/17/23072-ИП&token={token}"
        ))
        .await,
    );
    let found = ip["records"].as_array().is_some_and(|a| !a.is_empty());
    assert_eq!(
        ip["inquiry"]["price"],
        if found { 0.8 } else { 1.4 },
        "{ip}"
    );
    // What the page allows is answered even where an adapter refuses by its own rule: `id`
    // with region -1, `onlyActual=yes` (the provider ignores it).
    let id = json(
        raw_get(&format!(
            "{url}/api/fssp.php?type=id&number=ФС%20039022227&region=-1&token={token}"
        ))
        .await,
    );
    assert!(id.get("error").is_none(), "{id}");
    let only = json(
        raw_get(&format!(
            "{url}/api/fssp.php?type=inn&inn=7707083893&region=77&onlyActual=yes&token={token}"
        ))
        .await,
    );
    assert!(only.get("error").is_none(), "{only}");
    // And what the page refuses, it refuses with its own codes.
    let e = json(
        raw_get(&format!(
            "{url}/api/fssp.php?type=id&number=1@2&region=77&token={token}"
        ))
        .await,
    );
    assert_eq!(e["error"], "888");
    let e = json(
        raw_get(&format!(
            "{url}/parser/nalog_npd_api/?key=k&inn=540304378234&date=01.02.2024"
        ))
        .await,
    );
    assert_eq!(e["error"], "Field date is invalid");
}
