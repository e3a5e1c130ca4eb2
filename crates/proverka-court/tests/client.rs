//! `CourtClient` against a local mock server.

use std::time::Duration;

use proverka_core::{ErrorSource, Lookup};
use proverka_court::{Address, Coords, CourtClient, CourtQuery, ProviderError};
use proverka_testkit::{
    assert_no_leak, assert_provider_error, fixture, json_response, mock_server, serving_fixture,
};
use wiremock::MockServer;

const TOKEN: &str = "court-token-SeCrEt-77a1f0";

fn client(server: &MockServer) -> CourtClient {
    proverka_testkit::client_at::<CourtClient>(server, Some(TOKEN), Duration::from_secs(5))
}

fn kazan() -> CourtQuery {
    CourtQuery::coords(Coords::new(55.796289, 49.108795).unwrap())
}

#[tokio::test]
async fn finds_courts_by_address_and_sends_token() {
    let server = mock_server().await;
    let found = json_response(200, fixture("court", "found_both_courts.json"));
    let sent = [("address", "Казань, Московская 1"), ("token", TOKEN)];
    proverka_testkit::expect_calls(&server, "/api", &sent, found, 1).await;
    let q = CourtQuery::address(Address::building_only("Казань, Московская 1, кв. 3").unwrap());
    let j = client(&server).find(&q).await.unwrap();
    assert_eq!(j.queries_left, Some(48));
    assert!(j.court_fs.is_some() && j.court_ms.is_some());
}

#[tokio::test]
async fn business_errors_are_typed_and_carry_no_token() {
    for (file, expected, retry) in [
        (
            "error_access_denied.json",
            ProviderError::AccessDenied,
            false,
        ),
        (
            "error_query_limit_null.json",
            ProviderError::QueryLimitZero,
            false,
        ),
        (
            "error_database_error.json",
            ProviderError::DatabaseError("SQLSTATE[08006] connection failure".into()),
            true,
        ),
        (
            "error_unauthorized_401.json",
            ProviderError::Unauthorized,
            false,
        ),
    ] {
        let server = serving_fixture("/api", 200, "court", file).await;
        let e = client(&server).find(&kazan()).await.unwrap_err();
        assert_provider_error(&e, &expected, &[TOKEN]);
        assert_eq!(e.retryable(), retry, "{file}");
    }
}

#[tokio::test]
async fn garbage_and_timeouts_are_typed() {
    let server = serving_fixture("/api", 200, "court", "html_page.html").await;
    let e = client(&server).find(&kazan()).await.unwrap_err();
    assert_eq!(e.source_kind(), ErrorSource::Decode);

    let slow = proverka_testkit::serving(
        "/api",
        json_response(200, fixture("court", "found_both_courts.json"))
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    let c =
        proverka_testkit::client_at::<CourtClient>(&slow, Some(TOKEN), Duration::from_millis(200));
    let e = c.find(&kazan()).await.unwrap_err();
    assert_no_leak(&e, &[TOKEN]);
    assert_eq!(e.source_kind(), ErrorSource::Network);
}

#[tokio::test]
async fn swapped_retry_spends_one_more_query_only_when_nothing_was_found() {
    let server = mock_server().await;
    proverka_testkit::expect_calls(
        &server,
        "/api",
        &[("coords", "49.108795 55.796289")],
        json_response(200, fixture("court", "not_found_both_null.json")),
        1,
    )
    .await;
    proverka_testkit::expect_calls(
        &server,
        "/api",
        &[("coords", "55.796289 49.108795")],
        json_response(200, fixture("court", "page_sample_fs_only.json")),
        1,
    )
    .await;
    let j = client(&server).find_trying_swapped(&kazan()).await.unwrap();
    assert!(j.found());

    // Found on the first try: no second query is spent.
    let found_first = serving_fixture("/api", 200, "court", "page_sample_fs_only.json").await;
    let j = client(&found_first).find_trying_swapped(&kazan()).await;
    assert!(j.unwrap().found());
    let spent = found_first.received_requests().await.unwrap_or_default();
    assert_eq!(spent.len(), 1);
}

#[test]
fn the_default_host_is_punycode_and_https() {
    let c = CourtClient::builder().token(TOKEN).build().unwrap();
    let url = c.settings().base_url();
    assert_eq!(url.scheme(), "https");
    assert_eq!(
        url.host_str(),
        Some("api.xn----7sbarabva2auedgdkhac2adbeqt1tna3e.xn--p1ai")
    );
    assert!(CourtClient::builder().build().is_err(), "token is required");
    assert!(
        CourtClient::builder()
            .token(TOKEN)
            .base_url("http://example.com")
            .build()
            .is_err()
    );
    assert!(!kazan().upstream_request().redacted().contains("55.79"));
}
