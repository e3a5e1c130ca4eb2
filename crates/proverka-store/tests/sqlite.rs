//! The conformance suite on SQLite: a fresh file per case.

mod common;

fn fresh(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("proverka-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.sqlite").display().to_string()
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            common::$name(fresh(stringify!($name))).await;
        }
    )*};
}

cases!(
    reservations_never_pass_the_limit_across_handles,
    settling_moves_the_reservation_to_the_price,
    what_cannot_fit_is_refused_and_free_calls_always_recorded,
    days_and_tenants_are_separate,
    a_dead_process_s_intents_are_billed_unknown_at_their_reservation,
    batches_are_held_by_one_live_process,
    batch_rows_follow_their_intents,
    spend_is_reported_per_tenant_provider_and_kind,
    money_state_survives_reopening,
);

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
