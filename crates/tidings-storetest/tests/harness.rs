//! The harness itself: every TestStore is a new, empty, migrated database of its own; `reopen`
//! reaches the same data; `close` removes the database.

use tidings_store::{ScheduleKey, ScheduleListParams, Store, StoreKind};
use tidings_store_postgres::{PostgresOptions, PostgresStore};
use tidings_storetest::fixtures::{create, name, spec, t0};
use tidings_storetest::{DATABASE_URL_VAR, DEFAULT_DATABASE_URL, TestBackend, TestStore};

async fn schedules_in(store: &dyn Store) -> usize {
    let page = store
        .schedule_list(ScheduleListParams::default())
        .await
        .unwrap_or_else(|e| panic!("schedule_list: {e}"));
    page.items.len()
}

async fn stores_are_separate_and_reopen_sees_the_same_data(backend: TestBackend, kind: StoreKind) {
    let first = TestStore::open(backend).await;
    let second = TestStore::open(backend).await;
    assert_eq!(first.store.kind(), kind);
    create(&*first.store, spec("only-in-first"), Some(t0())).await;
    assert_eq!(schedules_in(&*first.store).await, 1);
    assert_eq!(schedules_in(&*second.store).await, 0, "a database per test");

    let again = first.reopen().await;
    let seen = again
        .schedule_get(&ScheduleKey::Name(name("only-in-first")))
        .await
        .unwrap_or_else(|e| panic!("schedule_get through the reopened store: {e}"));
    assert_eq!(seen.next_run_at, Some(t0()));
    drop(again);
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn sqlite_stores_are_separate_and_reopen_sees_the_same_data() {
    stores_are_separate_and_reopen_sees_the_same_data(TestBackend::Sqlite, StoreKind::Sqlite).await;
}

#[tokio::test]
async fn postgres_stores_are_separate_and_reopen_sees_the_same_data() {
    stores_are_separate_and_reopen_sees_the_same_data(TestBackend::Postgres, StoreKind::Postgres)
        .await;
}

#[tokio::test]
async fn sqlite_close_deletes_the_file() {
    let test = TestStore::open(TestBackend::Sqlite).await;
    let path = test
        .sqlite_path()
        .unwrap_or_else(|| panic!("no SQLite path"));
    assert!(path.exists());
    test.close().await;
    assert!(!path.exists(), "{} is left behind", path.display());
}

#[tokio::test]
async fn postgres_close_drops_the_schema() {
    let test = TestStore::open(TestBackend::Postgres).await;
    let schema = test
        .postgres_schema()
        .unwrap_or_else(|| panic!("no schema"))
        .to_owned();
    assert!(schema.starts_with("tidings_test_"), "{schema}");
    create(&*test.store, spec("doomed"), None).await;
    test.close().await;

    // Connecting to the name again makes a new, empty schema: every migration applies anew.
    let url = std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let store = PostgresStore::connect(
        &url,
        PostgresOptions {
            max_connections: 1,
            schema: Some(schema.clone()),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"));
    let applied = store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    assert!(!applied.is_empty(), "schema {schema} was not dropped");
    assert_eq!(schedules_in(&store).await, 0);
    store
        .drop_schema()
        .await
        .unwrap_or_else(|e| panic!("drop_schema: {e}"));
}
