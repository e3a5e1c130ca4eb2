//! `NpdClient` against a local mock server.

use std::time::Duration;

use proverka_core::status_day::StatusOnDay as _;
use proverka_core::{ErrorSource, RetryPolicy};
use proverka_npd::{Error, NpdClient, NpdQuery, ProviderError};
use proverka_testkit::{
    assert_provider_error, fixture, json_response, mock_server, serving_fixture,
};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

const KEY: &str = "npd-key-SeCrEt-0f9e8d7c6b";

fn client(server: &MockServer) -> NpdClient {
    proverka_testkit::client_at::<NpdClient>(server, Some(KEY), Duration::from_secs(5))
}

fn query() -> NpdQuery {
    NpdQuery::parse("540304378234", Some("2022-01-01")).unwrap()
}

#[tokio::test]
async fn a_charged_answer_is_typed() {
    let server = mock_server().await;
    let sent = [
        ("inn", "540304378234"),
        ("date", "2022-01-01"),
        ("key", KEY),
    ];
    let reply = json_response(200, fixture("npd", "found_self_employed.json"));
    proverka_testkit::expect_calls(&server, "/parser/nalog_npd_api/", &sent, reply, 1).await;
    assert!(client(&server).check(&query()).await.unwrap().self_employed);
}

#[tokio::test]
async fn success_zero_is_retried_and_never_not_self_employed() {
    let server = mock_server().await;
    Mock::given(path("/parser/nalog_npd_api/"))
        .respond_with(json_response(
            200,
            fixture("npd", "success_zero_retry.json"),
        ))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    proverka_testkit::expect_calls(
        &server,
        "/parser/nalog_npd_api/",
        &[],
        json_response(200, fixture("npd", "found_not_self_employed.json")),
        1,
    )
    .await;
    let c = client(&server);
    let e = c.check(&query()).await.unwrap_err();
    assert!(matches!(
        e,
        Error::Provider(ProviderError::SourceUnavailable)
    ));
    assert!(e.retryable());
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    };
    // One success=0 is left, then the real answer.
    let status = c.check_retrying(&query(), &policy).await.unwrap();
    assert!(!status.self_employed);
}

#[tokio::test]
async fn access_errors_are_typed_not_retried_and_leak_nothing() {
    for (status, file, expected) in [
        (403, "error_40301.json", ProviderError::InvalidAccessKey),
        (403, "error_40304.json", ProviderError::DayLimitExceeded),
        (
            400,
            "error_40000_inn_required.json",
            ProviderError::Validation("Field inn is required".into()),
        ),
    ] {
        let server = mock_server().await;
        proverka_testkit::expect_calls(
            &server,
            "/parser/nalog_npd_api/",
            &[],
            json_response(status, fixture("npd", file)),
            1,
        )
        .await;
        let e = client(&server)
            .check_retrying(&query(), &RetryPolicy::default())
            .await
            .unwrap_err();
        assert_provider_error(&e, &expected, &[KEY, "540304378234"]);
    }
}

#[tokio::test]
async fn garbage_and_5xx_are_malformed() {
    let server = serving_fixture("/parser/nalog_npd_api/", 503, "npd", "html_page.html").await;
    let e = client(&server).check(&query()).await.unwrap_err();
    assert_eq!(e.source_kind(), ErrorSource::Decode);
}

#[test]
fn key_required_and_https_enforced() {
    assert!(NpdClient::builder().build().is_err());
    assert!(NpdClient::builder().token("  ").build().is_err());
    assert!(
        NpdClient::builder()
            .token(KEY)
            .base_url("http://service.api-assist.com")
            .build()
            .is_err()
    );
    assert!(NpdClient::builder().token(KEY).build().is_ok());
}
