//! The numbered migrations in `migrations/`, embedded in the binary.

use std::collections::HashSet;

use sqlx::SqlitePool;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use tidings_store::{AppliedMigration, StoreError, StoreResult};

use crate::error::db_error;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies the pending migrations on the writer connection and returns them.
pub(crate) async fn run(writer: &SqlitePool) -> StoreResult<Vec<AppliedMigration>> {
    let mut conn = writer.acquire().await.map_err(db_error)?;
    conn.ensure_migrations_table(&MIGRATOR.table_name)
        .await
        .map_err(failed)?;
    let before: HashSet<i64> = conn
        .list_applied_migrations(&MIGRATOR.table_name)
        .await
        .map_err(failed)?
        .into_iter()
        .map(|m| m.version)
        .collect();
    drop(conn); // the pool has one connection, and `run` takes it
    MIGRATOR.run(writer).await.map_err(failed)?;
    let applied: Vec<AppliedMigration> = embedded()
        .into_iter()
        .filter(|m| !before.contains(&m.version))
        .collect();
    // The caller reports what was applied (`serve` logs it, `tidings migrate` prints it).
    for migration in &applied {
        tracing::debug!(
            version = migration.version,
            description = %migration.description,
            "applied migration"
        );
    }
    Ok(applied)
}

fn failed(error: MigrateError) -> StoreError {
    match error {
        MigrateError::Execute(error) => db_error(error),
        error => StoreError::Internal(format!("migration failed: {error}")),
    }
}

/// The embedded migrations, oldest first.
pub(crate) fn embedded() -> Vec<AppliedMigration> {
    MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| AppliedMigration {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect()
}
