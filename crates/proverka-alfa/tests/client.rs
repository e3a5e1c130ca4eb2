//! `AlfaClient` against a local mock server.

use std::time::Duration;

use proverka_alfa::{AlfaClient, Environment, Error, ListStatus, ProviderError, RegistryQuery};
use proverka_core::{ErrorSource, Secret};
use proverka_testkit::{assert_no_leak, fixture, json_response, mock_server};
use serde_json::json;
use wiremock::matchers::{header, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BEARER: &str = "alfa-bearer-SeCrEt-5a4b3c2d1e";
const ID: &str = "4e817e78-5876-4608-a873-bcc141454045";

fn client(server: &MockServer) -> AlfaClient {
    proverka_testkit::client_at::<AlfaClient>(server, None, Duration::from_secs(5))
}

fn path_for_id() -> String {
    format!("/api/semp/v1/selfemployed/registries/add-selfemployed/{ID}")
}

fn page(offset: usize, n: usize, total: Option<usize>) -> String {
    let account = json!({"selfemployed": {"personalInformation": {"vatin": "540304378234"}}, "status": "READY"});
    json!({
        "pagination": {"limit": 2, "offset": offset, "totalCount": total},
        "requestId": ID,
        "listStatus": "SUCCESS",
        "selfemployedAccount": vec![account; n],
    })
    .to_string()
}

#[tokio::test]
async fn one_page_with_bearer_and_paging() {
    let server = mock_server().await;
    Mock::given(path(path_for_id()))
        .and(header("Authorization", format!("Bearer {BEARER}").as_str()))
        .and(header("Accept", "application/json"))
        .and(query_param("limit", "1000"))
        .and(query_param("offset", "0"))
        .respond_with(json_response(200, fixture("alfa", "page_sample_new.json")))
        .expect(1)
        .mount(&server)
        .await;
    let q = RegistryQuery::new(ID).unwrap().page(1000, 0);
    let r = client(&server)
        .registry(&Secret::new(BEARER), &q)
        .await
        .unwrap();
    assert_eq!(r.list_status, Some(ListStatus::New));
    assert_eq!(r.selfemployed_account.len(), 1);
}

#[tokio::test]
async fn errors_by_status_are_typed_and_leak_no_bearer() {
    for (status, file, expected, retry) in [
        (
            401,
            Some("error_401_invalid_token.json"),
            "invalid_token",
            false,
        ),
        (
            403,
            Some("error_403_insufficient_scope.json"),
            "insufficient_scope",
            false,
        ),
        (
            500,
            Some("error_500_internal_error.json"),
            "internal_error",
            true,
        ),
        (404, None, "404", false),
    ] {
        let server = mock_server().await;
        let response = match file {
            Some(f) => json_response(status, fixture("alfa", f)),
            None => ResponseTemplate::new(status),
        };
        Mock::given(path(path_for_id()))
            .respond_with(response)
            .mount(&server)
            .await;
        let e = client(&server)
            .registry(&Secret::new(BEARER), &RegistryQuery::new(ID).unwrap())
            .await
            .unwrap_err();
        assert_no_leak(&e, &[BEARER]);
        assert_eq!(e.source_kind(), ErrorSource::Provider);
        assert_eq!(e.retryable(), retry, "{status}");
        match e {
            Error::Provider(p) => assert_eq!(p.error_code(), expected),
            other => panic!("{other:?}"),
        }
    }
    let server = proverka_testkit::serving(&path_for_id(), ResponseTemplate::new(400)).await;
    let e = client(&server)
        .registry(&Secret::new(BEARER), &RegistryQuery::new(ID).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Provider(ProviderError::Bodiless { status: 400 })
    ));
}

#[tokio::test]
async fn fetch_all_walks_pages_by_total_count() {
    let server = mock_server().await;
    for (offset, n) in [(0, 2), (2, 2), (4, 1)] {
        proverka_testkit::expect_calls(
            &server,
            &path_for_id(),
            &[("offset", offset.to_string().as_str())],
            json_response(200, page(offset, n, Some(5))),
            1,
        )
        .await;
    }
    let all = client(&server)
        .fetch_all(&Secret::new(BEARER), ID, 2)
        .await
        .unwrap();
    assert_eq!(all.selfemployed_account.len(), 5);
}

#[tokio::test]
async fn fetch_all_refuses_a_list_shorter_than_its_total() {
    let server = mock_server().await;
    proverka_testkit::expect_calls(
        &server,
        &path_for_id(),
        &[("offset", "0")],
        json_response(200, page(0, 2, Some(1_000_000))),
        1,
    )
    .await;
    proverka_testkit::expect_calls(
        &server,
        &path_for_id(),
        &[("offset", "2")],
        json_response(200, page(2, 0, Some(1_000_000))),
        1,
    )
    .await;
    // Never a silently short list: an empty page before the total is an error.
    let e = client(&server)
        .fetch_all(&Secret::new(BEARER), ID, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            proverka_core::Error::Provider(proverka_alfa::ProviderError::Incomplete {
                expected: 1_000_000,
                received: 2
            })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn fetch_all_is_bounded_when_pages_never_end() {
    // A bank that always returns a full page and claims a total of 6: at most 6/2+1 pages.
    let server =
        proverka_testkit::serving(&path_for_id(), json_response(200, page(0, 2, Some(6)))).await;
    let all = client(&server)
        .fetch_all(&Secret::new(BEARER), ID, 2)
        .await
        .unwrap();
    assert_eq!(all.selfemployed_account.len(), 6);
    // Without any total, a bank that never sends an empty page is cut at 1000 pages, and
    // what it sent is not passed off as the whole list.
    let no_total = mock_server().await;
    proverka_testkit::expect_calls(
        &no_total,
        &path_for_id(),
        &[],
        json_response(200, page(0, 1, None)),
        1000,
    )
    .await;
    let e = client(&no_total)
        .fetch_all(&Secret::new(BEARER), ID, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            proverka_core::Error::Provider(proverka_alfa::ProviderError::Incomplete {
                received: 1000,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn presets_are_https() {
    for env in [Environment::Production, Environment::Sandbox] {
        assert!(env.base_url().starts_with("https://"));
        assert!(
            AlfaClient::builder()
                .base_url(env.base_url())
                .build()
                .is_ok()
        );
    }
}
