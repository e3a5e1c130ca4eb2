//! The conformance suite on a real PostgreSQL server (started by the tests on a loopback
//! port): a fresh database per case.

mod common;

use std::sync::OnceLock;

use proverka_testkit::postgres::PostgresServer;

fn server() -> &'static PostgresServer {
    static SERVER: OnceLock<PostgresServer> = OnceLock::new();
    SERVER.get_or_init(PostgresServer::start)
}

fn fresh(name: &str) -> String {
    server().create_database(name)
}

common::conformance!(fresh);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let location = fresh("newer");
    let url = location.clone();
    common::a_newer_schema_is_refused(location, async move {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO proverka_schema VALUES (99, 'the future', 0)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_is_unavailable_and_its_return_is_noticed() {
    let mut own = PostgresServer::start();
    let url = own.create_database("money");
    let store = proverka_store::SqlStore::open(&url).unwrap();
    use proverka_store::Store as _;
    store.ping().await.unwrap();
    own.stop();
    let down = store.ping().await.unwrap_err();
    assert!(down.is_unavailable(), "{down}");
    assert!(!down.to_string().contains("password"), "{down}");
    own.restart();
    store.ping().await.expect("the pool reconnects by itself");
}
