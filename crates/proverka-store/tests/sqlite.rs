//! The conformance suite on SQLite: a fresh file per case.

mod common;

fn fresh(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("proverka-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.sqlite").display().to_string()
}

common::conformance!(fresh);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let location = fresh("newer");
    let path = location.clone();
    common::a_newer_schema_is_refused(location, async move {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        sqlx::query("INSERT INTO proverka_schema VALUES (99, 'the future', 0)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_folder_that_does_not_exist_is_a_clear_error() {
    let e = proverka_store::SqlStore::open("/nonexistent-proverka/store.sqlite").unwrap_err();
    assert!(
        e.to_string()
            .contains("the folder /nonexistent-proverka does not exist"),
        "{e}"
    );
}
