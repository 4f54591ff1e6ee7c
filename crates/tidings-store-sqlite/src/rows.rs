//! Rows to domain types and back: instants and durations as epoch milliseconds, JSON as text.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tidings_core::{Occurrences, RetryPolicy, RunState, RunTrigger, Trigger};
use tidings_store::{
    Attempt, Feedback, FeedbackId, FeedbackRecord, RawJson, Run, RunId, Schedule, ScheduleId,
    ScheduleName, ScheduleOrigin, SchedulePolicy, ScheduleStats, SentimentOrigin, SourceFile,
    SourceState, StoreError, StoreResult,
};

use crate::error::{corrupt, db_error};

pub(crate) fn ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn duration_ms(duration: SignedDuration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(if duration.is_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// `at + duration`, in milliseconds, saturating.
pub(crate) fn ms_after(at: Timestamp, duration: SignedDuration) -> i64 {
    ms(at).saturating_add(duration_ms(duration))
}

pub(crate) fn timestamp(ms: i64) -> StoreResult<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| corrupt("an instant", e))
}

pub(crate) fn to_json(value: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Internal(format!("cannot encode JSON: {e}")))
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(db_error)
}

fn instant(row: &SqliteRow, column: &str) -> StoreResult<Timestamp> {
    timestamp(get(row, column)?)
}

fn optional_instant(row: &SqliteRow, column: &str) -> StoreResult<Option<Timestamp>> {
    get::<Option<i64>>(row, column)?.map(timestamp).transpose()
}

fn sentiment_origin(text: Option<String>) -> StoreResult<Option<SentimentOrigin>> {
    text.map(|text| {
        SentimentOrigin::parse(&text)
            .ok_or_else(|| corrupt("sentiment_origin", format!("{text:?} is not an origin")))
    })
    .transpose()
}

fn json<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| corrupt(column, e))
}

fn optional_json<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<Option<T>> {
    get::<Option<String>>(row, column)?
        .map(|text| serde_json::from_str(&text).map_err(|e| corrupt(column, e)))
        .transpose()
}

fn count(row: &SqliteRow, column: &str) -> StoreResult<u64> {
    let n: i64 = get(row, column)?;
    u64::try_from(n).map_err(|e| corrupt(column, e))
}

fn small(row: &SqliteRow, column: &str) -> StoreResult<u32> {
    let n: i64 = get(row, column)?;
    u32::try_from(n).map_err(|e| corrupt(column, e))
}

pub(crate) fn run_state(text: &str) -> StoreResult<RunState> {
    text.parse().map_err(|e| corrupt("a run state", e))
}

/// A `SELECT *` / `RETURNING *` row of `schedules`.
pub(crate) fn schedule(row: &SqliteRow) -> StoreResult<Schedule> {
    let name: String = get(row, "name")?;
    let origin: String = get(row, "origin")?;
    let trigger: Trigger = json(row, "trigger")?;
    let policy: SchedulePolicy = json(row, "policy")?;
    Ok(Schedule {
        id: ScheduleId(get(row, "id")?),
        name: ScheduleName::parse(&name).map_err(|e| corrupt("a schedule name", e))?,
        description: get(row, "description")?,
        trigger,
        kind: get(row, "kind")?,
        params: json(row, "params")?,
        enabled: get(row, "enabled")?,
        policy,
        origin: ScheduleOrigin::parse(&origin)
            .ok_or_else(|| corrupt("a schedule origin", &origin))?,
        source: get(row, "source")?,
        tags: json(row, "tags")?,
        callback_url: get(row, "callback_url")?,
        next_run_at: optional_instant(row, "next_run_at")?,
        stats: ScheduleStats {
            total: count(row, "total")?,
            succeeded: count(row, "succeeded")?,
            failed: count(row, "failed")?,
            skipped: count(row, "skipped")?,
            missed: count(row, "missed")?,
            last_run_at: optional_instant(row, "last_run_at")?,
            last_run_id: get::<Option<i64>>(row, "last_run_id")?.map(RunId),
            last_state: get::<Option<String>>(row, "last_state")?
                .map(|state| run_state(&state))
                .transpose()?,
        },
        created_at: instant(row, "created_at")?,
        updated_at: instant(row, "updated_at")?,
    })
}

/// A `SELECT *` / `RETURNING *` row of `runs`.
pub(crate) fn run(row: &SqliteRow) -> StoreResult<Run> {
    let trigger: String = get(row, "trigger")?;
    let state: String = get(row, "state")?;
    let scheduled_for = optional_instant(row, "scheduled_for")?;
    let occurrences = match (
        get::<Option<i64>>(row, "occurrences_count")?,
        scheduled_for,
        optional_instant(row, "occurrences_last")?,
    ) {
        (Some(count), Some(first), Some(last)) => Some(Occurrences {
            count: u64::try_from(count).map_err(|e| corrupt("occurrences_count", e))?,
            first,
            last,
        }),
        _ => None,
    };
    let retry: RetryPolicy = json(row, "retry")?;
    Ok(Run {
        id: RunId(get(row, "id")?),
        schedule_id: get::<Option<i64>>(row, "schedule_id")?.map(ScheduleId),
        kind: get(row, "kind")?,
        params: json(row, "params")?,
        trigger: trigger
            .parse::<RunTrigger>()
            .map_err(|e| corrupt("a run trigger", e))?,
        scheduled_for,
        state: run_state(&state)?,
        attempt: small(row, "attempt")?,
        retry,
        timeout: SignedDuration::from_millis(get(row, "timeout_ms")?),
        run_after: instant(row, "run_after")?,
        created_at: instant(row, "created_at")?,
        started_at: optional_instant(row, "started_at")?,
        finished_at: optional_instant(row, "finished_at")?,
        lease_owner: get(row, "lease_owner")?,
        lease_expires_at: optional_instant(row, "lease_expires_at")?,
        cancel_requested: get(row, "cancel_requested")?,
        error: get(row, "error")?,
        summary: optional_json(row, "summary")?,
        progress: optional_json(row, "progress")?,
        occurrences,
        parent_run_id: get::<Option<i64>>(row, "parent_run_id")?.map(RunId),
    })
}

pub(crate) fn runs(rows: &[SqliteRow]) -> StoreResult<Vec<Run>> {
    rows.iter().map(run).collect()
}

/// A `SELECT *` row of `run_attempts`.
pub(crate) fn attempt(row: &SqliteRow) -> StoreResult<Attempt> {
    Ok(Attempt {
        run_id: RunId(get(row, "run_id")?),
        number: small(row, "number")?,
        instance: get(row, "instance")?,
        started_at: instant(row, "started_at")?,
        finished_at: optional_instant(row, "finished_at")?,
        outcome: get::<Option<String>>(row, "outcome")?
            .map(|state| run_state(&state))
            .transpose()?,
        error: get(row, "error")?,
    })
}

/// A `SELECT *` row of `feedback`.
pub(crate) fn feedback(row: &SqliteRow) -> StoreResult<Feedback> {
    Ok(Feedback {
        id: FeedbackId(get(row, "id")?),
        source: get(row, "source")?,
        record: FeedbackRecord {
            external_id: get(row, "external_id")?,
            created_at: optional_instant(row, "created_at")?,
            updated_at: optional_instant(row, "updated_at")?,
            customer_name: get(row, "customer_name")?,
            customer_email: get(row, "customer_email")?,
            channel: get(row, "channel")?,
            group: get(row, "group_name")?,
            rating: get(row, "rating")?,
            sentiment_label: get(row, "sentiment_label")?,
            sentiment_score: get(row, "sentiment_score")?,
            sentiment_origin: sentiment_origin(get(row, "sentiment_origin")?)?,
            title: get(row, "title")?,
            body: get(row, "body")?,
            tags: json(row, "tags")?,
            status: get(row, "status")?,
            value: get(row, "value")?,
            raw: RawJson::from_text(get(row, "raw")?).map_err(|e| corrupt("raw", e))?,
        },
        first_seen_at: instant(row, "first_seen_at")?,
        synced_at: instant(row, "synced_at")?,
    })
}

/// A `SELECT *` / `RETURNING *` row of `source_state`.
pub(crate) fn source_state(row: &SqliteRow) -> StoreResult<SourceState> {
    Ok(SourceState {
        source: get(row, "source")?,
        watermark: optional_instant(row, "watermark")?,
        last_full_run_id: get::<Option<i64>>(row, "last_full_run_id")?.map(RunId),
        last_full_at: optional_instant(row, "last_full_at")?,
        last_incremental_run_id: get::<Option<i64>>(row, "last_incremental_run_id")?.map(RunId),
        last_incremental_at: optional_instant(row, "last_incremental_at")?,
    })
}

/// A `SELECT *` row of `source_files`.
pub(crate) fn source_file(row: &SqliteRow) -> StoreResult<SourceFile> {
    Ok(SourceFile {
        source: get(row, "source")?,
        path: get(row, "path")?,
        size: count(row, "size")?,
        mtime: instant(row, "mtime")?,
        sha256: get(row, "sha256")?,
        imported_at: instant(row, "imported_at")?,
        rows: count(row, "rows")?,
    })
}
