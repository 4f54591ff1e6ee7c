//! Instances (register, seen, list, remove, prune) and the pruning of old runs. A SQLite file
//! serves one `tidings serve` at a time, so there is one live instance at most; the table lets
//! `/api/status` and `tidings instances list` say the same thing on both backends.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tidings_store::{Instance, StoreResult};

use crate::SqliteStore;
use crate::error::{corrupt, db_error};
use crate::rows::{ms, timestamp};

fn instance(row: &SqliteRow) -> StoreResult<Instance> {
    let pid: i64 = row.try_get("pid").map_err(db_error)?;
    Ok(Instance {
        id: row.try_get("id").map_err(db_error)?,
        host: row.try_get("host").map_err(db_error)?,
        pid: u32::try_from(pid).map_err(|_| corrupt("a pid", pid))?,
        version: row.try_get("version").map_err(db_error)?,
        started_at: timestamp(row.try_get("started_at").map_err(db_error)?)?,
        last_seen_at: timestamp(row.try_get("last_seen_at").map_err(db_error)?)?,
    })
}

pub(crate) async fn register(store: &SqliteStore, instance: Instance) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO instances (id, host, pid, version, started_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE
         SET host = excluded.host, pid = excluded.pid, version = excluded.version,
             started_at = excluded.started_at, last_seen_at = excluded.last_seen_at",
    )
    .bind(&instance.id)
    .bind(&instance.host)
    .bind(i64::from(instance.pid))
    .bind(&instance.version)
    .bind(ms(instance.started_at))
    .bind(ms(instance.last_seen_at))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)
}

pub(crate) async fn seen(store: &SqliteStore, id: &str, now: Timestamp) -> StoreResult<bool> {
    let mut tx = store.begin_write().await?;
    let done =
        sqlx::query("UPDATE instances SET last_seen_at = MAX(last_seen_at, ?2) WHERE id = ?1")
            .bind(id)
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn list(store: &SqliteStore) -> StoreResult<Vec<Instance>> {
    let rows = sqlx::query("SELECT * FROM instances ORDER BY started_at, id")
        .fetch_all(&store.reader)
        .await
        .map_err(db_error)?;
    rows.iter().map(instance).collect()
}

pub(crate) async fn remove(store: &SqliteStore, id: &str) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM instances WHERE id = ?1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)
}

pub(crate) async fn prune(store: &SqliteStore, seen_before: Timestamp) -> StoreResult<Vec<String>> {
    let mut tx = store.begin_write().await?;
    let ids = sqlx::query_scalar("DELETE FROM instances WHERE last_seen_at < ?1 RETURNING id")
        .bind(ms(seen_before))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(ids)
}

pub(crate) async fn prune_runs(
    store: &SqliteStore,
    finished_before: Timestamp,
    limit: u32,
) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let done = sqlx::query(
        "DELETE FROM runs WHERE id IN (
             SELECT r.id FROM runs AS r
             WHERE r.created_at < ?1
               AND COALESCE(r.finished_at, r.created_at) < ?1
               AND r.state IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped', 'missed')
               AND NOT EXISTS (SELECT 1 FROM runs AS d
                               WHERE d.parent_run_id = r.id AND d.state IN ('queued', 'running'))
             ORDER BY r.created_at
             LIMIT ?2
         )",
    )
    .bind(ms(finished_before))
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(done.rows_affected())
}
