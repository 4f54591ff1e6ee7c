//! Runs outside the claim and completion paths: enqueueing, reading, listing, heartbeats,
//! cancelling, progress, and the workers' timer and queue depth.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use sqlx::{PgPool, Row};
use tidings_core::RunState;
use tidings_store::{
    Attempt, Page, Run, RunCancelParams, RunEnqueueParams, RunEnqueued, RunHeartbeat,
    RunHeartbeatParams, RunId, RunListParams, StoreError, WebhookDelivery,
};

use crate::error::{Error, Result};
use crate::rows::{self, duration_ms, ms, opt_ms};
use crate::webhook;

fn not_found(id: RunId) -> Error {
    Error::Store(StoreError::not_found("run", &id))
}

pub(crate) async fn enqueue(pool: &PgPool, params: &RunEnqueueParams) -> Result<RunEnqueued> {
    let mut tx = pool.begin().await?;
    if let (Some(schedule), Some(max_instances)) = (params.schedule_id, params.max_instances) {
        // Lock the schedule so that a concurrent fire or enqueue counts after us, then count.
        let exists = sqlx::query("SELECT id FROM schedules WHERE id = $1 FOR NO KEY UPDATE")
            .bind(schedule.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(Error::Store(StoreError::not_found("schedule", &schedule)));
        }
        let active = sqlx::query(
            "SELECT * FROM runs
             WHERE schedule_id = $1 AND state IN ('queued', 'running')
             ORDER BY id",
        )
        .bind(schedule.0)
        .fetch_all(&mut *tx)
        .await?;
        if active.len() >= max_instances as usize {
            tx.rollback().await?;
            return Ok(RunEnqueued::AtCapacity(rows::runs(&active)?));
        }
    }
    let row = sqlx::query(
        "INSERT INTO runs (schedule_id, kind, params, trigger, state, attempt, retry, timeout_ms,
                           run_after, created_at, parent_run_id)
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $9)
         RETURNING *",
    )
    .bind(params.schedule_id.map(|s| s.0))
    .bind(&params.kind)
    .bind(&params.params)
    .bind(params.trigger.as_str())
    .bind(sqlx::types::Json(&params.retry))
    .bind(duration_ms(params.timeout))
    .bind(ms(params.run_after))
    .bind(ms(params.now))
    .bind(params.parent_run_id.map(|id| id.0))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match (Error::from(e), params.schedule_id) {
        (e, Some(schedule)) if e.is_foreign_key_violation() => {
            Error::Store(StoreError::not_found("schedule", &schedule))
        }
        (e, _) => e,
    })?;
    if let Some(schedule) = params.schedule_id {
        sqlx::query("UPDATE schedules SET total = total + 1 WHERE id = $1")
            .bind(schedule.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(RunEnqueued::Queued(Box::new(rows::run(&row)?)))
}

/// Ad-hoc runs in one statement, the rows travelling as one array per column; the statement
/// trigger on `runs` then notifies the listeners once for the whole batch.
pub(crate) async fn enqueue_batch(pool: &PgPool, runs: &[RunEnqueueParams]) -> Result<Vec<Run>> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    fn column<T>(runs: &[RunEnqueueParams], value: impl Fn(&RunEnqueueParams) -> T) -> Vec<T> {
        runs.iter().map(value).collect()
    }
    let rows = sqlx::query(
        "INSERT INTO runs (kind, params, trigger, state, attempt, retry, timeout_ms, run_after,
                           created_at, parent_run_id)
         SELECT r.kind, r.params, r.trigger, 'queued', 0, r.retry, r.timeout_ms, r.run_after,
                r.created_at, r.parent_run_id
         FROM UNNEST($1::text[], $2::jsonb[], $3::text[], $4::jsonb[], $5::bigint[],
                     $6::bigint[], $7::bigint[], $8::bigint[])
              WITH ORDINALITY AS r (kind, params, trigger, retry, timeout_ms, run_after,
                                    created_at, parent_run_id, position)
         ORDER BY r.position
         RETURNING *",
    )
    .bind(column(runs, |r| r.kind.clone()))
    .bind(column(runs, |r| r.params.clone()))
    .bind(column(runs, |r| r.trigger.as_str()))
    .bind(column(runs, |r| sqlx::types::Json(r.retry)))
    .bind(column(runs, |r| duration_ms(r.timeout)))
    .bind(column(runs, |r| ms(r.run_after)))
    .bind(column(runs, |r| ms(r.now)))
    .bind(column(runs, |r| r.parent_run_id.map(|id| id.0)))
    .fetch_all(pool)
    .await?;
    // Ids are handed out in insertion order, which is the order given.
    let mut runs = rows::runs(&rows)?;
    runs.sort_by_key(|run| run.id);
    Ok(runs)
}

pub(crate) async fn get(pool: &PgPool, id: RunId) -> Result<Run> {
    let row = sqlx::query("SELECT * FROM runs WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => rows::run(&row),
        None => Err(not_found(id)),
    }
}

pub(crate) async fn list(pool: &PgPool, params: &RunListParams) -> Result<Page<Run>> {
    let limit = rows::page_limit(params.limit, 10_000);
    let before = rows::parse_cursor(params.cursor.as_deref())?;
    let states: Vec<&str> = params.states.iter().map(|s| s.as_str()).collect();
    let found = sqlx::query(
        "SELECT * FROM runs
         WHERE ($1::bigint IS NULL OR schedule_id = $1)
           AND ($2::text IS NULL OR kind = $2)
           AND (cardinality($3::text[]) = 0 OR state = ANY($3))
           AND ($4::text IS NULL OR trigger = $4)
           AND ($5::bigint IS NULL OR created_at >= $5)
           AND ($6::bigint IS NULL OR created_at < $6)
           AND ($7::bigint IS NULL OR id < $7)
           AND ($9::bigint IS NULL OR parent_run_id = $9)
         ORDER BY id DESC
         LIMIT $8",
    )
    .bind(params.schedule_id.map(|s| s.0))
    .bind(&params.kind)
    .bind(&states)
    .bind(params.trigger.map(tidings_core::RunTrigger::as_str))
    .bind(opt_ms(params.created_from))
    .bind(opt_ms(params.created_to))
    .bind(before)
    .bind(limit + 1)
    .bind(params.parent.map(|id| id.0))
    .fetch_all(pool)
    .await?;
    Ok(rows::page(rows::runs(&found)?, limit, |r| r.id.0))
}

pub(crate) async fn attempts(pool: &PgPool, id: RunId) -> Result<Vec<Attempt>> {
    let exists = sqlx::query("SELECT id FROM runs WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    if exists.is_none() {
        return Err(not_found(id));
    }
    let found = sqlx::query("SELECT * FROM run_attempts WHERE run_id = $1 ORDER BY number")
        .bind(id.0)
        .fetch_all(pool)
        .await?;
    found.iter().map(rows::attempt).collect()
}

pub(crate) async fn heartbeat(pool: &PgPool, params: &RunHeartbeatParams) -> Result<RunHeartbeat> {
    let mut asked: Vec<i64> = Vec::with_capacity(params.runs.len());
    let mut seen = HashSet::new();
    for id in &params.runs {
        if seen.insert(id.0) {
            asked.push(id.0);
        }
    }
    if asked.is_empty() {
        return Ok(RunHeartbeat::default());
    }
    let renewed = sqlx::query(
        "UPDATE runs SET lease_expires_at = $3
         WHERE id = ANY($1) AND state = 'running' AND lease_owner = $2
         RETURNING id, cancel_requested",
    )
    .bind(&asked)
    .bind(&params.instance)
    .bind(ms(params.now) + duration_ms(params.lease))
    .fetch_all(pool)
    .await?;
    let mut flags = HashMap::new();
    for row in &renewed {
        flags.insert(
            row.try_get::<i64, _>("id")?,
            row.try_get::<bool, _>("cancel_requested")?,
        );
    }
    let mut beat = RunHeartbeat::default();
    for id in asked {
        match flags.get(&id) {
            Some(&cancel) => {
                beat.renewed.push(RunId(id));
                if cancel {
                    beat.cancel_requested.push(RunId(id));
                }
            }
            None => beat.lost.push(RunId(id)),
        }
    }
    Ok(beat)
}

/// A queued run is cancelled at once, and its webhook delivery queued if its schedule has a
/// callback URL; a running one is flagged for its worker, who completes it `cancelled` (which
/// queues the delivery); a finished one cannot be cancelled. A run cancelled before it ever
/// started does not touch its schedule's statistics (`last_run_at` is when the last run that
/// ended started, and this one never did).
pub(crate) async fn cancel(pool: &PgPool, params: &RunCancelParams) -> Result<Run> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query("SELECT * FROM runs WHERE id = $1 FOR UPDATE")
        .bind(params.id.0)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(not_found(params.id));
    };
    let run = rows::run(&row)?;
    let updated = match run.state {
        RunState::Queued => {
            let row = sqlx::query(
                "UPDATE runs
                 SET state = 'cancelled', finished_at = $2, error = $3,
                     lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = $1
                 RETURNING *",
            )
            .bind(params.id.0)
            .bind(ms(params.now))
            .bind(&params.reason)
            .fetch_one(&mut *tx)
            .await?;
            let cancelled = rows::run(&row)?;
            if let Some(schedule) = cancelled.schedule_id {
                let callback_url: Option<String> =
                    sqlx::query_scalar("SELECT callback_url FROM schedules WHERE id = $1")
                        .bind(schedule.0)
                        .fetch_optional(&mut *tx)
                        .await?
                        .flatten();
                if let Some(url) = callback_url {
                    let delivery = WebhookDelivery {
                        parent: cancelled.id,
                        url,
                        at: params.now,
                    };
                    webhook::queue(&mut tx, &[delivery]).await?;
                }
            }
            cancelled
        }
        RunState::Running => {
            let row =
                sqlx::query("UPDATE runs SET cancel_requested = TRUE WHERE id = $1 RETURNING *")
                    .bind(params.id.0)
                    .fetch_one(&mut *tx)
                    .await?;
            rows::run(&row)?
        }
        state => {
            return Err(Error::Store(StoreError::InvalidState(format!(
                "run {} already {state}",
                params.id
            ))));
        }
    };
    tx.commit().await?;
    Ok(updated)
}

pub(crate) async fn progress(pool: &PgPool, id: RunId, progress: serde_json::Value) -> Result<()> {
    let done = sqlx::query("UPDATE runs SET progress = $2 WHERE id = $1")
        .bind(id.0)
        .bind(progress)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(not_found(id));
    }
    Ok(())
}

pub(crate) async fn next_available_at(pool: &PgPool) -> Result<Option<Timestamp>> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT min(run_after) FROM runs WHERE state = 'queued'")
            .fetch_one(pool)
            .await?;
    next.map(|ms| rows::instant("run_after", ms)).transpose()
}

pub(crate) async fn queue_depth(pool: &PgPool, now: Timestamp) -> Result<u64> {
    let depth: i64 =
        sqlx::query_scalar("SELECT count(*) FROM runs WHERE state = 'queued' AND run_after <= $1")
            .bind(ms(now))
            .fetch_one(pool)
            .await?;
    Ok(u64::try_from(depth).unwrap_or(0))
}
