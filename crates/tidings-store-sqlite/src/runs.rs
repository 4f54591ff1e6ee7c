//! Runs outside the lease cycle: enqueue, read, list, cancel, progress, queue figures.

use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite};
use tidings_core::RunState;
use tidings_store::{
    Attempt, Page, Run, RunCancelParams, RunEnqueueParams, RunEnqueued, RunId, RunListParams,
    StoreError, StoreResult, WebhookDelivery,
};

use crate::SqliteStore;
use crate::error::db_error;
use crate::page;
use crate::rows::{self, duration_ms, ms, to_json};
use crate::webhook;

const MAX_PAGE: u32 = 10_000;

/// Queues a run; with `max_instances`, first checks the schedule's queued and running runs in
/// the same transaction, so two enqueuers cannot both take the last place.
pub(crate) async fn enqueue(
    store: &SqliteStore,
    params: RunEnqueueParams,
) -> StoreResult<RunEnqueued> {
    let mut tx = store.begin_write().await?;
    if let Some(schedule_id) = params.schedule_id {
        if let Some(max_instances) = params.max_instances {
            let active = sqlx::query(
                "SELECT * FROM runs
                 WHERE schedule_id = ?1 AND state IN ('queued', 'running')
                 ORDER BY id",
            )
            .bind(schedule_id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
            if active.len() >= max_instances as usize {
                return Ok(RunEnqueued::AtCapacity(rows::runs(&active)?));
            }
        }
        let counted = sqlx::query("UPDATE schedules SET total = total + 1 WHERE id = ?1")
            .bind(schedule_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if counted.rows_affected() == 0 {
            return Err(StoreError::not_found("schedule", &schedule_id));
        }
    }
    let row = sqlx::query(
        r#"INSERT INTO runs (schedule_id, kind, params, "trigger", state, attempt, retry,
                             timeout_ms, run_after, created_at, parent_run_id)
           VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?6, ?7, ?8, ?9)
           RETURNING *"#,
    )
    .bind(params.schedule_id.map(|id| id.0))
    .bind(&params.kind)
    .bind(to_json(&params.params)?)
    .bind(params.trigger.as_str())
    .bind(to_json(&params.retry)?)
    .bind(duration_ms(params.timeout))
    .bind(ms(params.run_after))
    .bind(ms(params.now))
    .bind(params.parent_run_id.map(|id| id.0))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let run = rows::run(&row)?;
    tx.commit().await.map_err(db_error)?;
    Ok(RunEnqueued::Queued(Box::new(run)))
}

/// Rows per `INSERT` of a batch: 9 parameters each, well under SQLite's 32,766.
const BATCH_CHUNK: usize = 1_000;

/// Ad-hoc runs in one transaction, a multi-row `INSERT` per [`BATCH_CHUNK`].
pub(crate) async fn enqueue_batch(
    store: &SqliteStore,
    runs: &[RunEnqueueParams],
) -> StoreResult<Vec<Run>> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let encoded = runs
        .iter()
        .map(|run| Ok((to_json(&run.params)?, to_json(&run.retry)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    let mut tx = store.begin_write().await?;
    let mut queued = Vec::with_capacity(runs.len());
    for (chunk, encoded) in runs.chunks(BATCH_CHUNK).zip(encoded.chunks(BATCH_CHUNK)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            r#"INSERT INTO runs (kind, params, "trigger", state, attempt, retry, timeout_ms,
                                 run_after, created_at, parent_run_id) "#,
        );
        query.push_values(
            chunk.iter().zip(encoded),
            |mut row, (run, (params, retry))| {
                row.push_bind(run.kind.as_str())
                    .push_bind(params.as_str())
                    .push_bind(run.trigger.as_str())
                    .push_unseparated(", 'queued', 0")
                    .push_bind(retry.as_str())
                    .push_bind(duration_ms(run.timeout))
                    .push_bind(ms(run.run_after))
                    .push_bind(ms(run.now))
                    .push_bind(run.parent_run_id.map(|id| id.0));
            },
        );
        query.push(" RETURNING *");
        let rows = query.build().fetch_all(&mut *tx).await.map_err(db_error)?;
        for row in &rows {
            queued.push(rows::run(row)?);
        }
    }
    tx.commit().await.map_err(db_error)?;
    // Ids are handed out in insertion order, which is the order given.
    queued.sort_by_key(|run| run.id);
    Ok(queued)
}

pub(crate) async fn get(store: &SqliteStore, id: RunId) -> StoreResult<Run> {
    let row = sqlx::query("SELECT * FROM runs WHERE id = ?1")
        .bind(id.0)
        .fetch_optional(&store.reader)
        .await
        .map_err(db_error)?;
    match row {
        Some(row) => rows::run(&row),
        None => Err(StoreError::not_found("run", &id)),
    }
}

pub(crate) async fn list(store: &SqliteStore, params: RunListParams) -> StoreResult<Page<Run>> {
    let limit = page::limit(params.limit, MAX_PAGE);
    let before = page::cursor(params.cursor.as_deref())?;

    let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM runs WHERE true");
    if let Some(before) = before {
        query.push(" AND id < ").push_bind(before);
    }
    if let Some(schedule_id) = params.schedule_id {
        query.push(" AND schedule_id = ").push_bind(schedule_id.0);
    }
    if let Some(kind) = params.kind {
        query.push(" AND kind = ").push_bind(kind);
    }
    if !params.states.is_empty() {
        let states: Vec<&str> = params.states.iter().map(|s| s.as_str()).collect();
        query
            .push(" AND state IN (SELECT value FROM json_each(")
            .push_bind(to_json(&states)?)
            .push("))");
    }
    if let Some(trigger) = params.trigger {
        query
            .push(r#" AND "trigger" = "#)
            .push_bind(trigger.as_str());
    }
    if let Some(parent) = params.parent {
        query.push(" AND parent_run_id = ").push_bind(parent.0);
    }
    if let Some(from) = params.created_from {
        query.push(" AND created_at >= ").push_bind(ms(from));
    }
    if let Some(to) = params.created_to {
        query.push(" AND created_at < ").push_bind(ms(to));
    }
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);

    let rows = query
        .build()
        .fetch_all(&store.reader)
        .await
        .map_err(db_error)?;
    Ok(page::page(rows::runs(&rows)?, limit, |run| run.id.0))
}

pub(crate) async fn attempts(store: &SqliteStore, id: RunId) -> StoreResult<Vec<Attempt>> {
    // One read transaction, so the run cannot vanish between the two questions.
    let mut tx = store.reader.begin().await.map_err(db_error)?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE id = ?1")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    if exists.is_none() {
        return Err(StoreError::not_found("run", &id));
    }
    let rows = sqlx::query("SELECT * FROM run_attempts WHERE run_id = ?1 ORDER BY number")
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    rows.iter().map(rows::attempt).collect()
}

/// A queued run is cancelled at once, and its webhook delivery queued if its schedule has a
/// callback URL; a running one is asked to stop (its worker sees the flag at its next
/// heartbeat, and its completion queues the delivery); a finished one cannot be cancelled.
pub(crate) async fn cancel(store: &SqliteStore, params: RunCancelParams) -> StoreResult<Run> {
    let mut tx = store.begin_write().await?;
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM runs WHERE id = ?1")
        .bind(params.id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    let Some(state) = state else {
        return Err(StoreError::not_found("run", &params.id));
    };
    let row = match rows::run_state(&state)? {
        RunState::Queued => sqlx::query(
            "UPDATE runs SET state = 'cancelled', finished_at = ?2, error = ?3
                 WHERE id = ?1 RETURNING *",
        )
        .bind(params.id.0)
        .bind(ms(params.now))
        .bind(&params.reason),
        RunState::Running => {
            sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = ?1 RETURNING *")
                .bind(params.id.0)
        }
        done => {
            return Err(StoreError::InvalidState(format!(
                "run {} already {done}",
                params.id
            )));
        }
    }
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let run = rows::run(&row)?;
    if let (RunState::Cancelled, Some(schedule_id)) = (run.state, run.schedule_id) {
        let callback_url: Option<String> =
            sqlx::query_scalar("SELECT callback_url FROM schedules WHERE id = ?1")
                .bind(schedule_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .flatten();
        if let Some(url) = callback_url {
            let delivery = WebhookDelivery {
                parent: run.id,
                url,
                at: params.now,
            };
            webhook::queue(&mut tx, &[delivery]).await?;
        }
    }
    tx.commit().await.map_err(db_error)?;
    Ok(run)
}

pub(crate) async fn next_available_at(store: &SqliteStore) -> StoreResult<Option<Timestamp>> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT MIN(run_after) FROM runs WHERE state = 'queued'")
            .fetch_one(&store.reader)
            .await
            .map_err(db_error)?;
    next.map(rows::timestamp).transpose()
}

pub(crate) async fn queue_depth(store: &SqliteStore, now: Timestamp) -> StoreResult<u64> {
    let depth: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE state = 'queued' AND run_after <= ?1")
            .bind(ms(now))
            .fetch_one(&store.reader)
            .await
            .map_err(db_error)?;
    Ok(u64::try_from(depth).unwrap_or_default())
}

pub(crate) async fn progress(
    store: &SqliteStore,
    id: RunId,
    progress: serde_json::Value,
) -> StoreResult<()> {
    let updated = sqlx::query("UPDATE runs SET progress = ?2 WHERE id = ?1")
        .bind(id.0)
        .bind(to_json(&progress)?)
        .execute(&store.writer)
        .await
        .map_err(db_error)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found("run", &id));
    }
    Ok(())
}
