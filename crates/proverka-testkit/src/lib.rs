//! Test support shared by the proverka crates (not published).
//!
//! - [`mock_server`]: a wiremock server on `127.0.0.1:0` whose catch-all explains unmatched
//!   requests instead of answering a bare 404;
//! - [`fixture`], [`fixture_bodies`]: the files under each adapter crate's `fixtures/`;
//! - [`mutations`] and [`mutate`]: random damage to fixtures for "never panics" properties;
//! - [`assert_no_leak`]: an error's whole `Display`/`Debug` chain holds none of the given
//!   strings (tokens, personal data);
//! - [`snapshot_fixtures!`]: one insta snapshot per fixture file;
//! - [`redis`]: real `redis-server` processes (and a 3-node cluster) on loopback ports;
//! - [`postgres`]: real PostgreSQL servers (`initdb` into a temporary folder) on loopback ports;
//! - [`neutral`]: no source of a front end names a provider;
//! - [`individual_inn`]: valid 12-digit INNs for tests that need many distinct queries.

pub mod neutral;
pub mod postgres;
pub mod redis;
pub mod systemd;

use std::error::Error as StdError;
use std::path::PathBuf;

use proptest::prelude::*;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub use insta;
pub use proptest;
pub use proverka_core::{Bytes, RawAnswer};

/// A valid 12-digit individual INN (ИНН физического лица) made of `ten` as its first ten
/// digits (zero-padded) and the two check digits the tax service computes: distinct `ten`,
/// distinct INNs.
pub fn individual_inn(ten: u64) -> String {
    let mut digits: Vec<u32> = format!("{:010}", ten % 10_000_000_000)
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .collect();
    let check = |d: &[u32], weights: &[u32]| {
        d.iter().zip(weights).map(|(a, b)| a * b).sum::<u32>() % 11 % 10
    };
    digits.push(check(&digits, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]));
    digits.push(check(&digits, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]));
    digits
        .iter()
        .filter_map(|d| char::from_digit(*d, 10))
        .collect()
}

/// A provider's fixtures: the `fixtures/` folder of its crate (`crates/proverka-<provider>`).
pub fn fixture_dir(provider: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(format!("proverka-{provider}"))
        .join("fixtures")
}

/// One fixture's bytes as an HTTP 200 JSON answer.
///
/// # Panics
/// When the file does not exist: a test naming a missing fixture is itself wrong.
pub fn fixture_raw(provider: &str, name: &str) -> proverka_core::RawAnswer {
    let path = fixture_dir(provider).join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    proverka_core::RawAnswer::json(bytes)
}

/// One fixture's text.
///
/// # Panics
/// When the file does not exist: a test naming a missing fixture is itself wrong.
pub fn fixture(provider: &str, name: &str) -> String {
    let path = fixture_dir(provider).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every fixture of a provider, sorted by name.
///
/// # Panics
/// When the folder cannot be read.
pub fn fixture_bodies(provider: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixture_dir(provider))
        .expect("fixture folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("fixture"))
        })
        .collect();
    files.sort();
    files
}

/// A mock server with a lowest-priority catch-all that answers 599 and says why.
pub async fn mock_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(599).set_body_string("unmatched request: check the mocks"),
        )
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// A [`mock_server`] that answers requests for `route` with `reply`.
pub async fn serving(route: &str, reply: ResponseTemplate) -> MockServer {
    let server = mock_server().await;
    Mock::given(wiremock::matchers::path(route))
        .respond_with(reply)
        .mount(&server)
        .await;
    server
}

/// A [`mock_server`] that answers requests for `route` with `provider`'s fixture `name` as a
/// JSON body of `status`.
pub async fn serving_fixture(route: &str, status: u16, provider: &str, name: &str) -> MockServer {
    serving(route, json_response(status, fixture(provider, name))).await
}

/// Mounts on `server` the answer `reply` to requests for `route` that carry each of `params`
/// in their query, expected exactly `times` times (wiremock checks when the server drops).
pub async fn expect_calls(
    server: &MockServer,
    route: &str,
    params: &[(&str, &str)],
    reply: ResponseTemplate,
    times: u64,
) {
    let mut mock = Mock::given(wiremock::matchers::path(route));
    for (name, value) in params {
        mock = mock.and(wiremock::matchers::query_param(*name, *value));
    }
    mock.respond_with(reply).expect(times).mount(server).await;
}

/// A provider's client sending to `server`, with `token` for a provider whose credential
/// the client holds (`None` for one that takes none, or the caller's bearer), and the
/// whole-request `timeout`.
///
/// # Panics
/// When the builder refuses the settings.
pub fn client_at<C: proverka_core::Connect>(
    server: &MockServer,
    token: Option<&str>,
    timeout: std::time::Duration,
) -> C {
    let builder = proverka_core::ClientBuilder::<C>::default()
        .base_url(server.uri())
        .timeout(timeout);
    match token {
        Some(token) => builder.token(token),
        None => builder,
    }
    .build()
    .expect("the client's settings")
}

/// A JSON response with the providers' content type.
pub fn json_response(status: u16, body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.into(), "application/json; charset=utf-8")
}

/// Asserts that no string in `secrets` appears in the error's `Display` or `Debug`, nor in any
/// error of its `source()` chain.
///
/// # Panics
/// When one does.
pub fn assert_no_leak(error: &(dyn StdError + 'static), secrets: &[&str]) {
    let mut text = format!("{error} {error:?}");
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

/// Asserts that a client's `error` is the provider's `expected` error (its source the
/// provider), with none of `secrets` in its text ([`assert_no_leak`]).
///
/// # Panics
/// When it is another error, or a secret leaks.
pub fn assert_provider_error<V, P>(
    error: &proverka_core::Error<V, P>,
    expected: &P,
    secrets: &[&str],
) where
    V: StdError + std::fmt::Debug + 'static,
    P: proverka_core::Failure + PartialEq + std::fmt::Debug,
{
    assert_no_leak(error, secrets);
    assert_eq!(error.source_kind(), proverka_core::ErrorSource::Provider);
    match error {
        proverka_core::Error::Provider(p) => assert_eq!(p, expected),
        other => panic!("not the provider's {expected:?}: {other:?}"),
    }
}

/// One random change to a body.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// XOR a byte.
    Flip(usize, u8),
    /// Remove a byte.
    Delete(usize),
    /// Insert a JSON-ish byte.
    Insert(usize, u8),
    /// Cut the body short.
    Truncate(usize),
}

/// A list of 1–8 random mutations.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let one = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (
            any::<usize>(),
            prop::sample::select(b"{}[]\":,0123456789-.tfn\\ ".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ];
    prop::collection::vec(one, 1..8)
}

/// Applies mutations to a body.
pub fn mutate(mut body: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = body.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !body.is_empty() => body[i % len] ^= b,
            Mutation::Delete(i) if !body.is_empty() => {
                body.remove(i % len);
            }
            Mutation::Insert(i, b) => body.insert(i % (body.len() + 1), b),
            Mutation::Truncate(i) => body.truncate(i % (body.len() + 1)),
            _ => {}
        }
    }
    body
}

/// Answers a provider might send on a bad day: arbitrary bytes (up to 512) under a status its
/// pages use or not, or one of its fixtures (`fixtures/<provider>/`) damaged by
/// [`mutations`], as HTTP 200.
///
/// # Panics
/// When the provider has no fixtures.
pub fn hostile_answers(provider: &str) -> impl Strategy<Value = RawAnswer> + use<> {
    let fixtures: Vec<Vec<u8>> = fixture_bodies(provider)
        .into_iter()
        .map(|(_, body)| body)
        .collect();
    assert!(!fixtures.is_empty(), "no fixtures for {provider}");
    let arbitrary = (
        prop::collection::vec(any::<u8>(), 0..512),
        prop::sample::select(vec![
            200u16, 204, 400, 401, 403, 404, 422, 429, 500, 502, 503,
        ]),
    )
        .prop_map(|(body, status)| {
            let mut raw = RawAnswer::json(Bytes::from(body));
            raw.status = status;
            raw
        });
    let damaged = (any::<prop::sample::Index>(), mutations()).prop_map(move |(pick, damage)| {
        let body = fixtures[pick.index(fixtures.len())].clone();
        RawAnswer::json(Bytes::from(mutate(body, &damage)))
    });
    prop_oneof![arbitrary, damaged]
}

/// A query a front end might pass an adapter ([`Adapter::parse`](proverka_core::Adapter::parse)):
/// a path tail and up to six parameters, named as the adapter's typed operations name them
/// (or `type`, `token`, `key`, or anything), with any values, at any time.
pub fn hostile_queries(
    adapter: &dyn proverka_core::Adapter,
) -> impl Strategy<Value = HostileQuery> + use<> {
    let mut names: Vec<String> = adapter
        .operations()
        .iter()
        .flat_map(|op| op.params.iter().map(|p| p.name.to_owned()))
        .chain(["type", "token", "key", ""].map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    let name = prop_oneof![prop::sample::select(names), "\\PC{0,8}"];
    (
        "\\PC{0,40}",
        prop::collection::vec((name, "\\PC{0,40}"), 0..6),
        any::<bool>(),
        any::<u32>(),
    )
        .prop_map(|(tail, pairs, typed, seconds)| HostileQuery {
            tail,
            pairs,
            typed,
            now: std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(seconds) * 2),
        })
}

/// One of [`hostile_queries`], owned.
#[derive(Debug, Clone)]
pub struct HostileQuery {
    /// The path's tail after a prefix route.
    pub tail: String,
    /// The parameters, in order.
    pub pairs: Vec<(String, String)>,
    /// On the typed route or the provider's own.
    pub typed: bool,
    /// When it came.
    pub now: std::time::SystemTime,
}

impl HostileQuery {
    /// Passes it to `adapter`: a query or the provider's refusal, never a panic.
    pub fn parse_with(&self, adapter: &dyn proverka_core::Adapter) {
        let pairs: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let _ = adapter.parse(&proverka_core::QueryInput {
            tail: &self.tail,
            pairs: &pairs,
            typed: self.typed,
            now: self.now,
        });
    }
}

/// Two property tests, `reading_never_panics` and `queries_never_panic`: `read` (a closure
/// taking a [`RawAnswer`]: the crate's parsers, judges and renderers) never panics on
/// [`hostile_answers`] of `provider`, over 4,000 cases, nor does `adapter` reading
/// [`hostile_queries`], over 2,000.
#[macro_export]
macro_rules! reading_never_panics {
    ($provider:literal, $adapter:expr, $read:expr $(,)?) => {
        $crate::proptest::proptest! {
            #![proptest_config($crate::proptest::prelude::ProptestConfig::with_cases(4000))]

            #[test]
            fn reading_never_panics(raw in $crate::hostile_answers($provider)) {
                let read: fn($crate::RawAnswer) = $read;
                read(raw);
            }
        }

        $crate::proptest::proptest! {
            #![proptest_config($crate::proptest::prelude::ProptestConfig::with_cases(2000))]

            #[test]
            fn queries_never_panic(query in $crate::hostile_queries(&$adapter)) {
                query.parse_with(&$adapter);
            }
        }
    };
}

/// Snapshots one JSON value per fixture file of the calling test's crate (its `fixtures/`
/// folder): `snapshot_fixtures!(|name, raw| json!(…))`. Expands at the call site, so the
/// snapshots live beside the calling test. Every fixture is read as an HTTP 200 JSON answer
/// unless the closure changes `raw`. A provider has at least ten fixtures: fewer fail.
#[macro_export]
macro_rules! snapshot_fixtures {
    ($describe:expr) => {{
        let describe = $describe;
        let seen = ::std::cell::Cell::new(0_usize);
        $crate::insta::glob!("../fixtures", "*.{json,html,txt}", |path| {
            seen.set(seen.get() + 1);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let body = std::fs::read(path).unwrap();
            let raw = $crate::RawAnswer::json($crate::Bytes::from(body));
            let value: serde_json::Value = describe(&name, raw);
            $crate::insta::assert_json_snapshot!(value);
        });
        assert!(seen.get() >= 10, "only {} fixtures", seen.get());
    }};
}

/// A path for a store of record of its own (a SQLite file in a fresh temporary folder): every
/// proxy or command-line run a test starts gets one, so tests running at once share no budget
/// or batch by accident.
///
/// # Panics
/// When the temporary folder cannot be made.
pub fn own_store_path() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "proverka-stores-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder for a store");
    dir.join("store.sqlite")
}

/// A top-level TOML line giving a proxy a store of record of its own ([`own_store_path`]).
pub fn own_store() -> String {
    format!(
        "store_path = {:?}\n",
        own_store_path().display().to_string()
    )
}

/// Every row of a provider's code table, explained: the code each error is sent as
/// ([`Failure::code`](proverka_core::Failure::code)) is known to `explain`, with a meaning
/// and the error's own retry. Returns each row with its meaning, for the crate's checks of
/// its words and remedies.
///
/// # Panics
/// When a row is not explained so.
pub fn explained_rows<E, C>(
    table: &proverka_core::CodeTable<E, C>,
    explain: impl Fn(&str) -> Option<proverka_core::CodeMeaning>,
) -> Vec<(&'static C, &'static E, proverka_core::CodeMeaning)>
where
    E: proverka_core::Failure,
    C: std::fmt::Debug,
{
    table
        .rows()
        .iter()
        .map(|(code, error)| {
            let wire = proverka_core::Failure::code(error);
            let meaning = explain(&wire).unwrap_or_else(|| panic!("{code:?} ({wire}) unexplained"));
            assert!(!meaning.meaning.is_empty(), "{code:?}");
            assert_eq!(meaning.retryable, error.retryable(), "{code:?}");
            (code, error, meaning)
        })
        .collect()
}

/// How a status on a day (НПД) changes between two answers of `provider`'s fixtures, named
/// `[a payer's, a non-payer's, one that cannot be read]`: the status gained or lost
/// (`self_employed`) is the one change; the same answer twice is none, and an answer that
/// cannot be read is no answer to compare.
///
/// # Panics
/// When the changes are other than these.
pub fn assert_status_changes(
    query: &dyn proverka_core::Lookup,
    provider: &str,
    [payer, non_payer, unreadable]: [&str; 3],
) {
    use proverka_core::Change;
    let (payer, non_payer) = (
        fixture_raw(provider, payer),
        fixture_raw(provider, non_payer),
    );
    let status = |from: &str, to: &str| {
        vec![Change::new(
            "self_employed",
            Some(from.into()),
            Some(to.into()),
        )]
    };
    assert_eq!(query.changes(&payer, &payer), []);
    assert_eq!(query.changes(&non_payer, &non_payer), []);
    assert_eq!(query.changes(&payer, &non_payer), status("true", "false"));
    assert_eq!(query.changes(&non_payer, &payer), status("false", "true"));
    let unreadable = fixture_raw(provider, unreadable);
    assert_eq!(query.changes(&payer, &unreadable), []);
    assert_eq!(query.changes(&unreadable, &payer), []);
}

/// A fixture's parse as its snapshot shows it: the typed model, or the error's text, where it
/// came from and whether asking again may help.
pub fn parsed_or_error<T, V, P>(parsed: Result<T, proverka_core::Error<V, P>>) -> serde_json::Value
where
    T: serde::Serialize,
    V: std::error::Error + 'static,
    P: proverka_core::Failure,
    proverka_core::Error<V, P>: std::fmt::Display,
{
    match proverka_core::render_model(parsed) {
        Ok(model) => model,
        Err(e) => serde_json::json!({
            "error": e.message,
            "source": format!("{:?}", e.source),
            "retryable": e.retryable,
        }),
    }
}
