//! `FsspClient` against a local mock server: success, each error class, timeouts, garbage,
//! HTTPS enforcement, and the token kept out of every error message.

use std::time::Duration;

use proverka_core::{ConfigError, ErrorSource, Lookup, TransportErrorKind};
use proverka_fssp::{
    Alim, ByInn, Error, ErrorCode, FsspClient, FsspQuery, Id, Ip, Legal, Physical, Region,
    RegionsList, Wanted,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A distinctive token: if it shows up in any message, the test fails.
const TOKEN: &str = "SeCrEt0token1never2in3logs456789";

fn fixture(name: &str) -> String {
    proverka_testkit::fixture("fssp", name)
}

async fn server() -> MockServer {
    proverka_testkit::mock_server().await
}

fn client(server: &MockServer) -> FsspClient {
    proverka_testkit::client_at::<FsspClient>(server, Some(TOKEN), Duration::from_secs(5))
}

fn json(body: String) -> ResponseTemplate {
    proverka_testkit::json_response(200, body)
}

fn assert_no_secret(e: &Error) {
    proverka_testkit::assert_no_leak(e, &[TOKEN, "Иванов"]);
}

fn physical() -> Physical {
    Physical::new("Иванов", "Иван", "31.03.1980", Region::Code(77)).unwrap()
}

#[tokio::test]
async fn physical_found_sends_every_parameter_and_parses() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/api/fssp.php"))
        .and(query_param("type", "physical"))
        .and(query_param("lastname", "Иванов"))
        .and(query_param("firstname", "Иван"))
        .and(query_param("secondname", "Иванович"))
        .and(query_param("birthdate", "31.03.1980"))
        .and(query_param("region", "77"))
        .and(query_param("onlyActual", "1"))
        .and(query_param("token", TOKEN))
        .respond_with(json(fixture("physical_found.json")))
        .expect(1)
        .mount(&server)
        .await;
    let q = physical()
        .with_secondname("Иванович")
        .unwrap()
        .only_actual(true);
    let found = client(&server).physical(&q).await.unwrap();
    assert_eq!(found.records.len(), 1);
    assert_eq!(found.records[0].sum.unwrap().kopecks(), 2_002_812);
    assert_eq!(found.inquiry().unwrap().price.unwrap().kopecks(), 80);
}

#[tokio::test]
async fn every_query_type_is_reachable() {
    let server = server().await;
    for (kind, file) in [
        ("regionsList", "regions_list_records.json"),
        ("physical", "physical_not_found.json"),
        ("legal", "legal_found_no_inquiry.json"),
        ("ip", "ip_inquiry_inside_record.json"),
        ("id", "physical_not_found.json"),
        ("inn", "legal_not_found.json"),
        ("wanted", "wanted_found.json"),
        ("alim", "alim_found.json"),
    ] {
        Mock::given(query_param("type", kind))
            .respond_with(json(fixture(file)))
            // regionsList is asked twice: once directly, once through `query`.
            .expect(if kind == "regionsList" { 2 } else { 1 })
            .mount(&server)
            .await;
    }
    let c = client(&server);
    assert_eq!(c.regions_list().await.unwrap().regions.len(), 3);
    assert!(c.physical(&physical()).await.unwrap().is_not_found());
    let legal = Legal::new("аптека 23", Region::Code(23))
        .unwrap()
        .with_address("Сочи")
        .unwrap();
    assert_eq!(c.legal(&legal).await.unwrap().records.len(), 1);
    let ip = c.ip(&Ip::new("32472/17/23072-ИП").unwrap()).await.unwrap();
    assert_eq!(ip.inquiry().unwrap().price.unwrap().kopecks(), 80);
    assert!(
        c.id(&Id::new("2-1234/2021", Region::Code(77)).unwrap())
            .await
            .unwrap()
            .is_not_found()
    );
    let inn = ByInn::parse("7707083893", Region::All).unwrap();
    assert!(c.inn(&inn).await.unwrap().is_not_found());
    assert_eq!(
        c.wanted(&Wanted::new("Иванов Иван Иванович").unwrap())
            .await
            .unwrap()
            .records
            .len(),
        2
    );
    let alim = Alim::new("Петров", "Пётр", "01.01.1970", Region::All).unwrap();
    assert_eq!(c.alim(&alim).await.unwrap().records.len(), 1);
    let any = FsspQuery::RegionsList(RegionsList);
    assert!(matches!(
        c.query(&any).await.unwrap(),
        proverka_fssp::FsspAnswer::Regions(_)
    ));
}

#[tokio::test]
async fn provider_errors_with_http_200_are_typed() {
    for (file, code, retryable) in [
        (
            "error_503_token_not_registered.json",
            ErrorCode::TokenNotRegistered,
            false,
        ),
        (
            "error_404_time_max_connect.json",
            ErrorCode::TimeMaxConnect,
            true,
        ),
        ("error_456_max_limit.json", ErrorCode::MaxLimit, true),
        (
            "error_498_token_no_money.json",
            ErrorCode::TokenNoMoney,
            false,
        ),
        ("error_1_api_suspended.json", ErrorCode::ApiSuspended, true),
        (
            "error_status_200_error_503.json",
            ErrorCode::TokenNotRegistered,
            false,
        ),
    ] {
        let server = proverka_testkit::serving("/api/fssp.php", json(fixture(file))).await;
        let e = client(&server).physical(&physical()).await.unwrap_err();
        assert_no_secret(&e);
        assert_eq!(e.source_kind(), ErrorSource::Provider, "{file}");
        assert_eq!(e.retryable(), retryable, "{file}");
        assert_eq!(e.charged(), proverka_core::Charged::No, "{file}");
        match e {
            Error::Provider(p) => assert_eq!(p.code, code, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn garbage_is_malformed_never_no_debts() {
    for (status, body, ctype) in [
        (200, fixture("html_captcha_page.html"), "text/html"),
        (200, String::new(), "application/json"),
        (200, fixture("truncated.json"), "application/json"),
        (200, fixture("unknown_shape.json"), "application/json"),
        (502, "<html>Bad Gateway</html>".to_owned(), "text/html"),
    ] {
        let server = proverka_testkit::serving(
            "/api/fssp.php",
            ResponseTemplate::new(status).set_body_raw(body, ctype),
        )
        .await;
        let e = client(&server).physical(&physical()).await.unwrap_err();
        assert_no_secret(&e);
        assert_eq!(e.source_kind(), ErrorSource::Decode, "{e}");
        assert!(e.retryable());
        assert!(matches!(e, Error::Malformed(ref m) if m.status == status));
    }
}

#[tokio::test]
async fn a_slow_provider_is_a_timeout() {
    let server = proverka_testkit::serving(
        "/api/fssp.php",
        json(fixture("physical_found.json")).set_delay(Duration::from_secs(3)),
    )
    .await;
    let c =
        proverka_testkit::client_at::<FsspClient>(&server, Some(TOKEN), Duration::from_millis(300));
    let e = c.physical(&physical()).await.unwrap_err();
    assert_no_secret(&e);
    match &e {
        Error::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.charged(), proverka_core::Charged::Unknown);
    assert!(e.retryable());
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_not_charged() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = FsspClient::builder()
        .token(TOKEN)
        .base_url(format!("http://{addr}"))
        .build()
        .unwrap();
    let e = c.physical(&physical()).await.unwrap_err();
    assert_no_secret(&e);
    assert!(
        matches!(&e, Error::Transport(t) if t.kind() == TransportErrorKind::Connect),
        "{e:?}"
    );
    assert_eq!(e.charged(), proverka_core::Charged::No);
}

#[tokio::test]
async fn redirects_are_refused() {
    let server = proverka_testkit::serving(
        "/api/fssp.php",
        ResponseTemplate::new(301).insert_header("Location", "https://elsewhere.invalid/"),
    )
    .await;
    let e = client(&server).physical(&physical()).await.unwrap_err();
    assert_no_secret(&e);
    assert!(matches!(&e, Error::Transport(t) if t.kind() == TransportErrorKind::Redirect));
}

#[test]
fn https_is_required_and_token_format_checked() {
    let b = || FsspClient::builder().token(TOKEN);
    assert_eq!(
        b().base_url("http://api-cloud.ru").build().unwrap_err(),
        ConfigError::InsecureUrl
    );
    assert!(b().build().is_ok());
    assert!(b().base_url("http://127.0.0.1:1").build().is_ok());
    assert!(matches!(
        FsspClient::builder().token("short").build().unwrap_err(),
        ConfigError::Credential { name: "token", .. }
    ));
    assert!(matches!(
        FsspClient::builder().build().unwrap_err(),
        ConfigError::Credential { name: "token", .. }
    ));
    let e = FsspClient::builder()
        .token("x".repeat(31) + "ü")
        .build()
        .unwrap_err();
    assert!(!e.to_string().contains("xxx"));
}

#[test]
fn what_may_be_logged_holds_no_token_and_no_personal_data() {
    let q = physical();
    let logged = q.upstream_request().redacted();
    assert_eq!(
        logged,
        "/api/fssp.php?type=…&lastname=…&firstname=…&birthdate=…&region=…"
    );
    let client = FsspClient::builder().token(TOKEN).build().unwrap();
    assert!(!format!("{client:?}").contains(TOKEN));
}
