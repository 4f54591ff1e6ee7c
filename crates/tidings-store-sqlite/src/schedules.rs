//! Schedules: create, read, list, replace, delete.

use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite};
use tidings_store::{
    Page, Schedule, ScheduleCreateParams, ScheduleId, ScheduleKey, ScheduleListParams,
    ScheduleSpec, ScheduleUpdateParams, StoreError, StoreResult,
};

use crate::SqliteStore;
use crate::error::db_error;
use crate::page;
use crate::rows::{self, ms, to_json};

const MAX_PAGE: u32 = 1_000;

/// The spec's columns, encoded once for an INSERT or an UPDATE.
struct SpecColumns {
    name: String,
    trigger: String,
    params: String,
    policy: String,
    max_instances: i64,
    tags: String,
}

impl SpecColumns {
    fn encode(spec: &ScheduleSpec) -> StoreResult<SpecColumns> {
        Ok(SpecColumns {
            name: spec.name.as_str().to_owned(),
            trigger: to_json(&spec.trigger)?,
            params: to_json(&spec.params)?,
            policy: to_json(&spec.policy)?,
            max_instances: i64::from(spec.policy.fire.max_instances),
            tags: to_json(&spec.tags)?,
        })
    }
}

fn name_taken(name: &str, error: sqlx::Error) -> StoreError {
    match db_error(error) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a schedule named `{name}` already exists"))
        }
        other => other,
    }
}

pub(crate) async fn create(
    store: &SqliteStore,
    params: ScheduleCreateParams,
) -> StoreResult<Schedule> {
    let spec = &params.spec;
    let columns = SpecColumns::encode(spec)?;
    let row = sqlx::query(
        r#"INSERT INTO schedules (name, description, "trigger", kind, params, enabled, policy,
                                  max_instances, origin, source, tags, callback_url, next_run_at,
                                  created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
           RETURNING *"#,
    )
    .bind(&columns.name)
    .bind(&spec.description)
    .bind(&columns.trigger)
    .bind(&spec.kind)
    .bind(&columns.params)
    .bind(spec.enabled)
    .bind(&columns.policy)
    .bind(columns.max_instances)
    .bind(params.origin.as_str())
    .bind(&spec.source)
    .bind(&columns.tags)
    .bind(&spec.callback_url)
    .bind(params.next_run_at.map(ms))
    .bind(ms(params.now))
    .fetch_one(&store.writer)
    .await
    .map_err(|e| name_taken(&columns.name, e))?;
    rows::schedule(&row)
}

pub(crate) async fn get(store: &SqliteStore, key: &ScheduleKey) -> StoreResult<Schedule> {
    let row = match key {
        ScheduleKey::Id(id) => {
            sqlx::query("SELECT * FROM schedules WHERE id = ?1")
                .bind(id.0)
                .fetch_optional(&store.reader)
                .await
        }
        ScheduleKey::Name(name) => {
            sqlx::query("SELECT * FROM schedules WHERE name = ?1")
                .bind(name.as_str())
                .fetch_optional(&store.reader)
                .await
        }
    }
    .map_err(db_error)?;
    match row {
        Some(row) => rows::schedule(&row),
        None => Err(StoreError::not_found("schedule", key)),
    }
}

pub(crate) async fn list(
    store: &SqliteStore,
    params: ScheduleListParams,
) -> StoreResult<Page<Schedule>> {
    let limit = page::limit(params.limit, MAX_PAGE);
    let before = page::cursor(params.cursor.as_deref())?;

    let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM schedules WHERE true");
    if let Some(before) = before {
        query.push(" AND id < ").push_bind(before);
    }
    if let Some(enabled) = params.enabled {
        query.push(" AND enabled = ").push_bind(enabled);
    }
    if let Some(kind) = params.kind {
        query.push(" AND kind = ").push_bind(kind);
    }
    if let Some(source) = params.source {
        query.push(" AND source = ").push_bind(source);
    }
    if let Some(origin) = params.origin {
        query.push(" AND origin = ").push_bind(origin.as_str());
    }
    if let Some(tag) = params.tag {
        query
            .push(" AND EXISTS (SELECT 1 FROM json_each(schedules.tags) AS t WHERE t.value = ")
            .push_bind(tag)
            .push(")");
    }
    if let Some(text) = params.text {
        // SQLite's lower() folds ASCII only; the needle is folded fully here.
        let needle = text.to_lowercase();
        query
            .push(" AND (instr(lower(name), ")
            .push_bind(needle.clone())
            .push(") > 0 OR instr(lower(COALESCE(description, '')), ")
            .push_bind(needle)
            .push(") > 0)");
    }
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);

    let found = query
        .build()
        .fetch_all(&store.reader)
        .await
        .map_err(db_error)?
        .iter()
        .map(rows::schedule)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(page::page(found, limit, |s| s.id.0))
}

pub(crate) async fn update(
    store: &SqliteStore,
    params: ScheduleUpdateParams,
) -> StoreResult<Schedule> {
    let spec = &params.spec;
    let columns = SpecColumns::encode(spec)?;
    let row = sqlx::query(
        r#"UPDATE schedules
           SET name = ?2, description = ?3, "trigger" = ?4, kind = ?5, params = ?6, enabled = ?7,
               policy = ?8, max_instances = ?9, source = ?10, tags = ?11, callback_url = ?12,
               next_run_at = ?13, updated_at = ?14
           WHERE id = ?1
           RETURNING *"#,
    )
    .bind(params.id.0)
    .bind(&columns.name)
    .bind(&spec.description)
    .bind(&columns.trigger)
    .bind(&spec.kind)
    .bind(&columns.params)
    .bind(spec.enabled)
    .bind(&columns.policy)
    .bind(columns.max_instances)
    .bind(&spec.source)
    .bind(&columns.tags)
    .bind(&spec.callback_url)
    .bind(params.next_run_at.map(ms))
    .bind(ms(params.now))
    .fetch_optional(&store.writer)
    .await
    .map_err(|e| name_taken(&columns.name, e))?;
    match row {
        Some(row) => rows::schedule(&row),
        None => Err(StoreError::not_found("schedule", &params.id)),
    }
}

/// Cancels the schedule's queued runs, asks its running ones to stop, and deletes it; the
/// foreign key keeps its runs with `schedule_id` cleared. No webhook is queued for the runs
/// cancelled here (nor for the running ones when they end): the schedule, and with it its
/// `callback_url`, is gone.
pub(crate) async fn delete(store: &SqliteStore, id: ScheduleId, now: Timestamp) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "UPDATE runs SET state = 'cancelled', finished_at = ?2, error = 'schedule deleted'
         WHERE schedule_id = ?1 AND state = 'queued'",
    )
    .bind(id.0)
    .bind(ms(now))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "UPDATE runs SET cancel_requested = 1 WHERE schedule_id = ?1 AND state = 'running'",
    )
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let deleted = sqlx::query("DELETE FROM schedules WHERE id = ?1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::not_found("schedule", &id));
    }
    tx.commit().await.map_err(db_error)
}

pub(crate) async fn next_due_at(store: &SqliteStore) -> StoreResult<Option<Timestamp>> {
    let next: Option<i64> =
        sqlx::query_scalar("SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1")
            .fetch_one(&store.reader)
            .await
            .map_err(db_error)?;
    next.map(rows::timestamp).transpose()
}
