//! Migrations: applied once by the harness, a no-op afterwards.

use tidings_store::Store;

pub async fn migrate_again_applies_nothing(store: &dyn Store) {
    let applied = store.migrate().await.unwrap();
    assert!(applied.is_empty(), "already up to date: {applied:?}");
}
