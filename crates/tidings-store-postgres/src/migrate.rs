//! Schema migrations: the numbered files in `migrations/`, embedded at build time, applied by
//! `Store::migrate` into the store's schema.

use std::collections::HashSet;

use sqlx::PgPool;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use tidings_store::{AppliedMigration, StoreError};

use crate::connect::SchemaName;
use crate::error::{Error, Result, classify};

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The embedded migrations, recording what they applied in `_sqlx_migrations` inside the
/// store's schema (or on the search path without one).
pub(crate) struct Migrations {
    migrator: Migrator,
    table: String,
}

/// A lost connection stays "unavailable"; a broken or changed migration is internal.
fn failed(error: MigrateError) -> Error {
    match error {
        MigrateError::Execute(error) => Error::Store(classify(&error)),
        MigrateError::ExecuteMigration(error, version) => Error::Store(StoreError::Internal(
            format!("migration {version} failed: {}", classify(&error)),
        )),
        other => Error::Store(StoreError::Internal(format!("migration failed: {other}"))),
    }
}

impl Migrations {
    pub(crate) fn new(schema: Option<&SchemaName>) -> Migrations {
        let mut migrator = Migrator::with_migrations(MIGRATIONS.iter().cloned().collect());
        // Locking is done by `run`, around the whole read-apply-compare.
        migrator.set_locking(false);
        let table = match schema {
            Some(schema) => format!("{}._sqlx_migrations", schema.quoted()),
            None => "_sqlx_migrations".to_owned(),
        };
        migrator.dangerous_set_table_name(table.clone());
        Migrations { migrator, table }
    }

    /// Applies the pending migrations and returns those applied now.
    ///
    /// sqlx's migrator does not say what it applied, so the run is wrapped: take sqlx's
    /// advisory lock ourselves (one per database, so instances migrating at once queue up),
    /// read what is applied, run, compare. Without the lock around all three, a concurrent
    /// instance could apply a migration between our read and our run, and both would report
    /// it.
    pub(crate) async fn run(&self, pool: &PgPool) -> Result<Vec<AppliedMigration>> {
        let mut conn = pool.acquire().await?;
        conn.lock().await.map_err(failed)?;
        let outcome = self.apply(&mut conn).await;
        // A pooled connection must not go back to the pool still holding the session lock.
        if let Err(error) = conn.unlock().await {
            tracing::warn!(%error, "cannot release the migration lock; closing the connection");
            conn.detach();
        }
        outcome
    }

    async fn apply(&self, conn: &mut sqlx::PgConnection) -> Result<Vec<AppliedMigration>> {
        conn.ensure_migrations_table(&self.table)
            .await
            .map_err(failed)?;
        let before: HashSet<i64> = conn
            .list_applied_migrations(&self.table)
            .await
            .map_err(failed)?
            .into_iter()
            .map(|m| m.version)
            .collect();
        // `run_direct` is what `Migrator::run` calls; `run` takes an `Acquire` whose lifetime
        // cannot be proven general enough inside the `Send` future of an async trait method.
        self.migrator
            .run_direct(None, &mut *conn, false)
            .await
            .map_err(failed)?;
        Ok(self
            .migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !before.contains(&m.version))
            .map(|m| AppliedMigration {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect())
    }
}

/// The embedded migrations, oldest first.
pub(crate) fn embedded() -> Vec<AppliedMigration> {
    MIGRATIONS
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| AppliedMigration {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect()
}
