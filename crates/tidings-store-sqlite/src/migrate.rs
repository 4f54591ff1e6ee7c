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

#[cfg(test)]
mod tests {
    use tidings_core::{RunState, RunTrigger};
    use tidings_store::{RunId, Store};

    use super::*;
    use crate::{SqliteOptions, SqliteStore};

    /// 0003 rebuilds `runs` (SQLite cannot widen a CHECK in place): a database with runs and
    /// attempts keeps them all, keeps its id high-water mark, and ends with the same indexes
    /// and foreign keys as before plus the parent column.
    #[tokio::test]
    async fn webhooks_migration_rebuilds_runs_keeping_runs_attempts_and_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), SqliteOptions::default())
            .await
            .unwrap();
        MIGRATOR.run_to(2, &store.writer).await.unwrap();
        sqlx::raw_sql(
            r#"INSERT INTO schedules (id, name, "trigger", kind, params, enabled, policy,
                                      max_instances, origin, created_at, updated_at)
               VALUES (1, 'daily', '{}', 'http', '{}', 1, '{}', 1, 'api', 0, 0);
               INSERT INTO runs (id, schedule_id, kind, params, "trigger", state, attempt,
                                 retry, timeout_ms, run_after, created_at, started_at,
                                 finished_at, summary)
               VALUES (1, 1, 'http', '{"url":"https://a"}', 'schedule', 'succeeded', 2,
                       '{"max_attempts":3,"backoff":1,"max_backoff":3600}', 60000, 1000, 1000,
                       2000, 3000, '{"status":200}'),
                      (2, NULL, 'noop', '{}', 'api', 'queued', 0,
                       '{"max_attempts":3,"backoff":1,"max_backoff":3600}', 60000, 4000, 4000,
                       NULL, NULL, NULL),
                      (3, NULL, 'noop', '{}', 'api', 'queued', 0,
                       '{"max_attempts":3,"backoff":1,"max_backoff":3600}', 60000, 4000, 4000,
                       NULL, NULL, NULL);
               INSERT INTO run_attempts (run_id, number, instance, started_at, finished_at,
                                         outcome, error)
               VALUES (1, 1, 'a', 2000, 2500, 'failed', 'boom'),
                      (1, 2, 'a', 2600, 3000, 'succeeded', NULL);
               DELETE FROM runs WHERE id = 3;"#,
        )
        .execute(&store.writer)
        .await
        .unwrap();
        // Read with plain SQL: the store's row mappers expect the columns of the latest schema.
        let attempts = "SELECT run_id, number, instance, started_at, finished_at, outcome, error
                        FROM run_attempts ORDER BY run_id, number";
        type AttemptRow = (
            i64,
            i64,
            String,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let before: Vec<AttemptRow> = sqlx::query_as(attempts)
            .fetch_all(&store.writer)
            .await
            .unwrap();
        assert_eq!(before.len(), 2);

        let applied = store.migrate().await.unwrap();
        assert_eq!(
            applied
                .iter()
                .map(|m| (m.version, m.description.as_str()))
                .collect::<Vec<_>>(),
            [
                (3, "webhooks"),
                (4, "feedback"),
                (5, "instances"),
                (7, "stats"),
                (8, "sentiment origin")
            ]
        );

        let kept = store.run_get(RunId(1)).await.unwrap();
        assert_eq!(kept.state, RunState::Succeeded);
        assert_eq!(kept.attempt, 2);
        assert_eq!(kept.summary, Some(serde_json::json!({ "status": 200 })));
        assert_eq!(kept.parent_run_id, None);
        assert_eq!(
            store.run_get(RunId(2)).await.unwrap().trigger,
            RunTrigger::Api
        );
        let after: Vec<AttemptRow> = sqlx::query_as(attempts)
            .fetch_all(&store.writer)
            .await
            .unwrap();
        assert_eq!(after, before);
        assert_eq!(store.run_attempts(RunId(1)).await.unwrap().len(), 2);

        // The id of the deleted run 3 is not given again.
        let id: i64 = sqlx::query_scalar(
            r#"INSERT INTO runs (kind, params, "trigger", state, retry, timeout_ms, run_after,
                                 created_at, parent_run_id)
               VALUES ('webhook', '{}', 'webhook', 'queued', '{}', 30000, 0, 0, 1)
               RETURNING id"#,
        )
        .fetch_one(&store.writer)
        .await
        .unwrap();
        assert_eq!(id, 4);

        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema
             WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL ORDER BY name",
        )
        .fetch_all(&store.writer)
        .await
        .unwrap();
        assert_eq!(
            indexes,
            [
                "runs_active",
                "runs_by_created",
                "runs_by_kind",
                "runs_by_parent",
                "runs_by_schedule",
                "runs_by_state",
                "runs_claim",
                "runs_rescue"
            ]
        );
        let parents: Vec<(String, String)> = sqlx::query_as(
            r#"SELECT m.name, f."table" FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f
               WHERE m.type = 'table' AND m.name IN ('runs', 'run_attempts')
               ORDER BY m.name, f."table""#,
        )
        .fetch_all(&store.writer)
        .await
        .unwrap();
        assert_eq!(
            parents,
            [
                ("run_attempts".to_owned(), "runs".to_owned()),
                ("runs".to_owned(), "runs".to_owned()),
                ("runs".to_owned(), "schedules".to_owned()),
            ]
        );
        let violations: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&store.writer)
                .await
                .unwrap();
        assert!(violations.is_empty(), "{violations:?}");
        let temporary: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM temp.sqlite_schema")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(temporary, 0, "the temporary tables are gone");
    }
}
