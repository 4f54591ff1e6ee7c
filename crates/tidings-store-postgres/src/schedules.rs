//! Schedules: create, read, list, replace, delete, and the scheduler's timer.

use sqlx::PgPool;
use sqlx::types::Json;
use tidings_store::{
    Page, Schedule, ScheduleCreateParams, ScheduleId, ScheduleKey, ScheduleListParams,
    ScheduleName, ScheduleUpdateParams, StoreError,
};

use crate::error::{Error, Result};
use crate::rows::{self, ms, opt_ms};

fn name_taken(name: &ScheduleName) -> Error {
    Error::Store(StoreError::Conflict(format!(
        "a schedule named `{name}` already exists"
    )))
}

fn not_found(id: ScheduleId) -> Error {
    Error::Store(StoreError::not_found("schedule", &id))
}

pub(crate) async fn create(pool: &PgPool, params: ScheduleCreateParams) -> Result<Schedule> {
    let spec = &params.spec;
    let row = sqlx::query(
        "INSERT INTO schedules (name, description, trigger, kind, params, enabled, policy,
             max_instances, origin, source, tags, callback_url, next_run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
         RETURNING *",
    )
    .bind(spec.name.as_str())
    .bind(&spec.description)
    .bind(Json(&spec.trigger))
    .bind(&spec.kind)
    .bind(&spec.params)
    .bind(spec.enabled)
    .bind(Json(&spec.policy))
    .bind(max_instances(spec.policy.fire.max_instances))
    .bind(params.origin.as_str())
    .bind(&spec.source)
    .bind(Json(&spec.tags))
    .bind(&spec.callback_url)
    .bind(opt_ms(params.next_run_at))
    .bind(ms(params.now))
    .fetch_one(pool)
    .await
    .map_err(Error::from)
    .map_err(|e| {
        if e.is_unique_violation() {
            name_taken(&spec.name)
        } else {
            e
        }
    })?;
    rows::schedule(&row)
}

fn max_instances(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(crate) async fn get(pool: &PgPool, key: &ScheduleKey) -> Result<Schedule> {
    let row = match key {
        ScheduleKey::Id(id) => {
            sqlx::query("SELECT * FROM schedules WHERE id = $1")
                .bind(id.0)
                .fetch_optional(pool)
                .await?
        }
        ScheduleKey::Name(name) => {
            sqlx::query("SELECT * FROM schedules WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(pool)
                .await?
        }
    };
    match row {
        Some(row) => rows::schedule(&row),
        None => Err(Error::Store(StoreError::not_found("schedule", key))),
    }
}

pub(crate) async fn list(pool: &PgPool, params: ScheduleListParams) -> Result<Page<Schedule>> {
    let limit = rows::page_limit(params.limit, 1000);
    let before = rows::parse_cursor(params.cursor.as_deref())?;
    // Every filter is optional: `$n IS NULL OR …` keeps the statement static.
    let found = sqlx::query(
        "SELECT * FROM schedules
         WHERE ($1::boolean IS NULL OR enabled = $1)
           AND ($2::text IS NULL OR kind = $2)
           AND ($3::text IS NULL OR source = $3)
           AND ($4::text IS NULL OR tags @> jsonb_build_array($4::text))
           AND ($5::text IS NULL
                OR strpos(lower(name), lower($5)) > 0
                OR strpos(lower(coalesce(description, '')), lower($5)) > 0)
           AND ($6::text IS NULL OR origin = $6)
           AND ($7::bigint IS NULL OR id < $7)
         ORDER BY id DESC
         LIMIT $8",
    )
    .bind(params.enabled)
    .bind(&params.kind)
    .bind(&params.source)
    .bind(&params.tag)
    .bind(&params.text)
    .bind(params.origin.map(tidings_store::ScheduleOrigin::as_str))
    .bind(before)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let items = found
        .iter()
        .map(rows::schedule)
        .collect::<Result<Vec<_>>>()?;
    Ok(rows::page(items, limit, |s| s.id.0))
}

pub(crate) async fn update(pool: &PgPool, params: ScheduleUpdateParams) -> Result<Schedule> {
    let spec = &params.spec;
    let row = sqlx::query(
        "UPDATE schedules
         SET name = $2, description = $3, trigger = $4, kind = $5, params = $6, enabled = $7,
             policy = $8, max_instances = $9, source = $10, tags = $11, callback_url = $12,
             next_run_at = $13, updated_at = $14
         WHERE id = $1
         RETURNING *",
    )
    .bind(params.id.0)
    .bind(spec.name.as_str())
    .bind(&spec.description)
    .bind(Json(&spec.trigger))
    .bind(&spec.kind)
    .bind(&spec.params)
    .bind(spec.enabled)
    .bind(Json(&spec.policy))
    .bind(max_instances(spec.policy.fire.max_instances))
    .bind(&spec.source)
    .bind(Json(&spec.tags))
    .bind(&spec.callback_url)
    .bind(opt_ms(params.next_run_at))
    .bind(ms(params.now))
    .fetch_optional(pool)
    .await
    .map_err(Error::from)
    .map_err(|e| {
        if e.is_unique_violation() {
            name_taken(&spec.name)
        } else {
            e
        }
    })?;
    match row {
        Some(row) => rows::schedule(&row),
        None => Err(not_found(params.id)),
    }
}

/// Cancels the schedule's queued runs, flags its running ones, then deletes it (its runs keep,
/// with `schedule_id` cleared by the foreign key). No webhook is queued for the runs cancelled
/// here (nor for the running ones when they end): the schedule, and with it its `callback_url`,
/// is gone.
///
/// Lock order: claimers hold queued run rows and then wait for the schedule row, so taking the
/// schedule row first and then its runs could deadlock with them. The runs are locked first
/// (the two UPDATEs), then the schedule row. A fire that committed while we waited for the
/// schedule row may have queued new runs, so the run updates are repeated under the schedule
/// lock; the rare lock cycle left in that window is broken by PostgreSQL and the whole
/// transaction retried by the caller.
pub(crate) async fn delete(pool: &PgPool, id: ScheduleId, now: jiff::Timestamp) -> Result<()> {
    let mut tx = pool.begin().await?;
    settle_runs(&mut tx, id, now).await?;
    let locked = sqlx::query("SELECT id FROM schedules WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Err(not_found(id));
    }
    settle_runs(&mut tx, id, now).await?;
    sqlx::query("DELETE FROM schedules WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn settle_runs(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    id: ScheduleId,
    now: jiff::Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE runs SET state = 'cancelled', finished_at = $2, error = 'schedule deleted'
         WHERE schedule_id = $1 AND state = 'queued'",
    )
    .bind(id.0)
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE runs SET cancel_requested = TRUE
         WHERE schedule_id = $1 AND state = 'running' AND NOT cancel_requested",
    )
    .bind(id.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn next_due_at(pool: &PgPool) -> Result<Option<jiff::Timestamp>> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT min(next_run_at) FROM schedules WHERE enabled")
            .fetch_one(pool)
            .await?;
    next.map(|ms| rows::instant("next_run_at", ms)).transpose()
}
