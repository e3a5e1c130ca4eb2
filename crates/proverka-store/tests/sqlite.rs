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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_the_first_version_is_migrated_and_keeps_its_money_state() {
    let location = fresh("first-version");
    let store = common::open(&location).await;
    let intent = common::intent("a", "crm", 150, Some(300));
    assert!(matches!(
        store.open_intent(&intent).await.unwrap(),
        proverka_store::Opened::Reserved(_)
    ));
    drop(store);
    // Back to what the first version wrote: no savings or watch tables, version 1 only.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{location}"))
        .await
        .unwrap();
    for undo in [
        "DROP TABLE savings",
        "DROP TABLE watch_lists",
        "DROP TABLE watch_subjects",
        "DROP TABLE watch_runs",
        "DROP TABLE watch_answers",
        "DROP TABLE watch_changes",
        "DROP TABLE watch_deliveries",
        "DELETE FROM proverka_schema WHERE version > 1",
    ] {
        sqlx::query(undo).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let again = common::open(&location).await;
    assert_eq!(
        again.committed("crm", common::today()).await.unwrap(),
        proverka_core::Money::from_kopecks(150)
    );
    assert!(
        again
            .savings(common::today(), common::today())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(again.watch_lists().await.unwrap().is_empty());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_is_in_wal_mode_however_many_connections_open_it_at_once() {
    let location = fresh("wal");
    // Eight handles (eight processes' pools) reach a new file at once.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let location = location.clone();
            tokio::spawn(async move { common::open(&location).await.ping().await })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{location}"))
        .await
        .unwrap();
    let mode: (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode.0, "wal");
    pool.close().await;
}
