//! The client against a mock of the service: a POST of JSON, no credential, answers and 422s.

use proverka_core::status_day::StatusOnDay as _;
use proverka_fns::{FnsClient, FnsQuery, ProviderError};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn posts_json_and_reads_the_answer_and_the_422_codes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(proverka_fns::PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(
            serde_json::json!({"inn": "540304378234", "requestDate": "2024-02-01"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"status": true, "message": "540304378234 является плательщиком"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(proverka_fns::PATH))
        .and(body_json(
            serde_json::json!({"inn": "500100732259", "requestDate": "2024-02-01"}),
        ))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            serde_json::json!({"code": "taxpayer.status.service.limited.error", "message": "…"}),
        ))
        .mount(&server)
        .await;
    let client = FnsClient::builder().base_url(server.uri()).build().unwrap();
    let status = client
        .check(&FnsQuery::parse("540304378234", Some("2024-02-01")).unwrap())
        .await
        .unwrap();
    assert!(status.self_employed);
    let e = client
        .check(&FnsQuery::parse("500100732259", Some("2024-02-01")).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(e, proverka_fns::Error::Provider(ProviderError::Limited)),
        "{e}"
    );
    assert!(e.retryable());
    assert_eq!(e.charged(), proverka_core::Charged::No);
}

#[test]
fn a_credential_is_refused() {
    assert!(FnsClient::builder().token("secret-token").build().is_err());
}
