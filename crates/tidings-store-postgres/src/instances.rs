//! Instances (register, seen, list, remove, prune) and the pruning of old runs.

use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tidings_store::Instance;

use crate::error::{Error, Result};
use crate::rows::{instant, ms};

fn instance(row: &PgRow) -> Result<Instance> {
    let pid: i64 = row.try_get("pid")?;
    Ok(Instance {
        id: row.try_get("id")?,
        host: row.try_get("host")?,
        pid: u32::try_from(pid).map_err(|_| Error::corrupt(format!("pid {pid}")))?,
        version: row.try_get("version")?,
        started_at: instant("started_at", row.try_get("started_at")?)?,
        last_seen_at: instant("last_seen_at", row.try_get("last_seen_at")?)?,
    })
}

pub(crate) async fn register(pool: &PgPool, instance: Instance) -> Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, host, pid, version, started_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6)
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
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn seen(pool: &PgPool, id: &str, now: Timestamp) -> Result<bool> {
    let done =
        sqlx::query("UPDATE instances SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id = $1")
            .bind(id)
            .bind(ms(now))
            .execute(pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<Instance>> {
    let rows = sqlx::query("SELECT * FROM instances ORDER BY started_at, id")
        .fetch_all(pool)
        .await?;
    rows.iter().map(instance).collect()
}

pub(crate) async fn remove(pool: &PgPool, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn prune(pool: &PgPool, seen_before: Timestamp) -> Result<Vec<String>> {
    let ids = sqlx::query_scalar("DELETE FROM instances WHERE last_seen_at < $1 RETURNING id")
        .bind(ms(seen_before))
        .fetch_all(pool)
        .await?;
    Ok(ids)
}

/// Ended runs finished before `finished_before`, oldest first, skipping rows another instance
/// is deleting (`SKIP LOCKED`): several instances pruning at once share the work.
pub(crate) async fn prune_runs(
    pool: &PgPool,
    finished_before: Timestamp,
    limit: u32,
) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM runs WHERE id IN (
             SELECT r.id FROM runs AS r
             WHERE r.created_at < $1
               AND COALESCE(r.finished_at, r.created_at) < $1
               AND r.state IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped', 'missed')
               AND NOT EXISTS (SELECT 1 FROM runs AS d
                               WHERE d.parent_run_id = r.id AND d.state IN ('queued', 'running'))
             ORDER BY r.created_at
             LIMIT $2
             FOR UPDATE OF r SKIP LOCKED
         )",
    )
    .bind(ms(finished_before))
    .bind(i64::from(limit))
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
