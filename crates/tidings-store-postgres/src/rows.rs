//! Rows to domain types and back: instants as epoch milliseconds, durations as milliseconds,
//! enums as their names, JSON as JSONB. Rows are read by column name, so `SELECT *` and
//! `RETURNING *` are enough.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use tidings_core::{Occurrences, RetryPolicy, RunState, RunTrigger, Trigger};
use tidings_store::{
    Attempt, Feedback, FeedbackId, FeedbackRecord, RawJson, Run, RunId, Schedule, ScheduleId,
    ScheduleName, ScheduleOrigin, SchedulePolicy, ScheduleStats, SentimentOrigin, SourceFile,
    SourceState,
};

use crate::error::{Error, Result};

pub(crate) fn ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(crate) fn opt_ms(at: Option<Timestamp>) -> Option<i64> {
    at.map(ms)
}

pub(crate) fn duration_ms(d: SignedDuration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(if d.is_negative() { i64::MIN } else { i64::MAX })
}

pub(crate) fn instant(column: &str, ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| Error::corrupt(format!("{column} = {ms} is not an instant: {e}")))
}

fn opt_instant(column: &str, ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(|ms| instant(column, ms)).transpose()
}

/// A non-negative counter column as `u64`.
fn count(row: &PgRow, column: &str) -> Result<u64> {
    let n: i64 = row.try_get(column)?;
    u64::try_from(n).map_err(|_| Error::corrupt(format!("{column} = {n} is negative")))
}

pub(crate) fn run_state(text: &str) -> Result<RunState> {
    text.parse().map_err(Error::corrupt)
}

fn json<T: serde::de::DeserializeOwned>(row: &PgRow, column: &str) -> Result<T> {
    let Json(value) = row
        .try_get::<Json<T>, _>(column)
        .map_err(|e| Error::corrupt(format!("column {column}: {e}")))?;
    Ok(value)
}

fn sentiment_origin(text: Option<String>) -> Result<Option<SentimentOrigin>> {
    text.map(|text| {
        SentimentOrigin::parse(&text)
            .ok_or_else(|| Error::corrupt(format!("sentiment_origin = {text:?} is not an origin")))
    })
    .transpose()
}

/// A JSON column as its text, checked but not parsed into a `Value`.
fn raw_json(row: &PgRow, column: &str) -> Result<RawJson> {
    let Json(raw) = row
        .try_get::<Json<Box<serde_json::value::RawValue>>, _>(column)
        .map_err(|e| Error::corrupt(format!("column {column}: {e}")))?;
    Ok(RawJson::from(raw))
}

pub(crate) fn schedule(row: &PgRow) -> Result<Schedule> {
    let name: String = row.try_get("name")?;
    let origin: String = row.try_get("origin")?;
    let last_state: Option<String> = row.try_get("last_state")?;
    Ok(Schedule {
        id: ScheduleId(row.try_get("id")?),
        name: ScheduleName::parse(&name).map_err(Error::corrupt)?,
        description: row.try_get("description")?,
        trigger: json::<Trigger>(row, "trigger")?,
        kind: row.try_get("kind")?,
        params: row.try_get("params")?,
        enabled: row.try_get("enabled")?,
        policy: json::<SchedulePolicy>(row, "policy")?,
        origin: ScheduleOrigin::parse(&origin)
            .ok_or_else(|| Error::corrupt(format!("unknown schedule origin `{origin}`")))?,
        source: row.try_get("source")?,
        tags: json::<Vec<String>>(row, "tags")?,
        callback_url: row.try_get("callback_url")?,
        next_run_at: opt_instant("next_run_at", row.try_get("next_run_at")?)?,
        stats: ScheduleStats {
            total: count(row, "total")?,
            succeeded: count(row, "succeeded")?,
            failed: count(row, "failed")?,
            skipped: count(row, "skipped")?,
            missed: count(row, "missed")?,
            last_run_at: opt_instant("last_run_at", row.try_get("last_run_at")?)?,
            last_run_id: row.try_get::<Option<i64>, _>("last_run_id")?.map(RunId),
            last_state: last_state.as_deref().map(run_state).transpose()?,
        },
        created_at: instant("created_at", row.try_get("created_at")?)?,
        updated_at: instant("updated_at", row.try_get("updated_at")?)?,
    })
}

pub(crate) fn run(row: &PgRow) -> Result<Run> {
    let trigger: String = row.try_get("trigger")?;
    let state: String = row.try_get("state")?;
    let attempt: i32 = row.try_get("attempt")?;
    let scheduled_for = opt_instant("scheduled_for", row.try_get("scheduled_for")?)?;
    let occurrences_count: Option<i64> = row.try_get("occurrences_count")?;
    let occurrences_last: Option<i64> = row.try_get("occurrences_last")?;
    let occurrences = match (occurrences_count, scheduled_for, occurrences_last) {
        (Some(count), Some(first), Some(last)) => Some(Occurrences {
            count: u64::try_from(count).map_err(Error::corrupt)?,
            first,
            last: instant("occurrences_last", last)?,
        }),
        _ => None,
    };
    Ok(Run {
        id: RunId(row.try_get("id")?),
        schedule_id: row
            .try_get::<Option<i64>, _>("schedule_id")?
            .map(ScheduleId),
        kind: row.try_get("kind")?,
        params: row.try_get("params")?,
        trigger: trigger.parse::<RunTrigger>().map_err(Error::corrupt)?,
        scheduled_for,
        state: run_state(&state)?,
        attempt: u32::try_from(attempt).map_err(Error::corrupt)?,
        retry: json::<RetryPolicy>(row, "retry")?,
        timeout: SignedDuration::from_millis(row.try_get("timeout_ms")?),
        run_after: instant("run_after", row.try_get("run_after")?)?,
        created_at: instant("created_at", row.try_get("created_at")?)?,
        started_at: opt_instant("started_at", row.try_get("started_at")?)?,
        finished_at: opt_instant("finished_at", row.try_get("finished_at")?)?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: opt_instant("lease_expires_at", row.try_get("lease_expires_at")?)?,
        cancel_requested: row.try_get("cancel_requested")?,
        error: row.try_get("error")?,
        summary: row.try_get("summary")?,
        progress: row.try_get("progress")?,
        occurrences,
        parent_run_id: row.try_get::<Option<i64>, _>("parent_run_id")?.map(RunId),
    })
}

pub(crate) fn runs(rows: &[PgRow]) -> Result<Vec<Run>> {
    rows.iter().map(run).collect()
}

pub(crate) fn attempt(row: &PgRow) -> Result<Attempt> {
    let number: i32 = row.try_get("number")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    Ok(Attempt {
        run_id: RunId(row.try_get("run_id")?),
        number: u32::try_from(number).map_err(Error::corrupt)?,
        instance: row.try_get("instance")?,
        started_at: instant("started_at", row.try_get("started_at")?)?,
        finished_at: opt_instant("finished_at", row.try_get("finished_at")?)?,
        outcome: outcome.as_deref().map(run_state).transpose()?,
        error: row.try_get("error")?,
    })
}

/// A list's page size: 0 means the default of 50, and no page is larger than `cap`.
pub(crate) fn page_limit(limit: u32, cap: u32) -> i64 {
    i64::from(if limit == 0 { 50 } else { limit.min(cap) })
}

/// The id a cursor stands for (the last id of the previous page).
pub(crate) fn parse_cursor(cursor: Option<&str>) -> Result<Option<i64>> {
    cursor
        .map(|text| {
            text.parse::<i64>().map_err(|_| {
                Error::Store(tidings_store::StoreError::InvalidState(format!(
                    "invalid cursor `{text}`: pass back the next_cursor of the previous page"
                )))
            })
        })
        .transpose()
}

/// Cuts `items` (fetched with one extra row) to `limit` and sets the cursor when more follow.
pub(crate) fn page<T>(
    mut items: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> i64,
) -> tidings_store::Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| id(last).to_string())
    } else {
        None
    };
    tidings_store::Page { items, next_cursor }
}

fn opt_column_instant(row: &PgRow, column: &str) -> Result<Option<Timestamp>> {
    opt_instant(column, row.try_get(column)?)
}

/// A `SELECT *` row of `feedback`.
pub(crate) fn feedback(row: &PgRow) -> Result<Feedback> {
    Ok(Feedback {
        id: FeedbackId(row.try_get("id")?),
        source: row.try_get("source")?,
        record: FeedbackRecord {
            external_id: row.try_get("external_id")?,
            created_at: opt_column_instant(row, "created_at")?,
            updated_at: opt_column_instant(row, "updated_at")?,
            customer_name: row.try_get("customer_name")?,
            customer_email: row.try_get("customer_email")?,
            channel: row.try_get("channel")?,
            group: row.try_get("group_name")?,
            rating: row.try_get("rating")?,
            sentiment_label: row.try_get("sentiment_label")?,
            sentiment_score: row.try_get("sentiment_score")?,
            sentiment_origin: sentiment_origin(row.try_get("sentiment_origin")?)?,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            tags: json::<Vec<String>>(row, "tags")?,
            status: row.try_get("status")?,
            value: row.try_get("value")?,
            raw: raw_json(row, "raw")?,
        },
        first_seen_at: instant("first_seen_at", row.try_get("first_seen_at")?)?,
        synced_at: instant("synced_at", row.try_get("synced_at")?)?,
    })
}

/// A `SELECT *` / `RETURNING *` row of `source_state`.
pub(crate) fn source_state(row: &PgRow) -> Result<SourceState> {
    Ok(SourceState {
        source: row.try_get("source")?,
        watermark: opt_column_instant(row, "watermark")?,
        last_full_run_id: row
            .try_get::<Option<i64>, _>("last_full_run_id")?
            .map(RunId),
        last_full_at: opt_column_instant(row, "last_full_at")?,
        last_incremental_run_id: row
            .try_get::<Option<i64>, _>("last_incremental_run_id")?
            .map(RunId),
        last_incremental_at: opt_column_instant(row, "last_incremental_at")?,
    })
}

/// A `SELECT *` row of `source_files`.
pub(crate) fn source_file(row: &PgRow) -> Result<SourceFile> {
    Ok(SourceFile {
        source: row.try_get("source")?,
        path: row.try_get("path")?,
        size: count(row, "size")?,
        mtime: instant("mtime", row.try_get("mtime")?)?,
        sha256: row.try_get("sha256")?,
        imported_at: instant("imported_at", row.try_get("imported_at")?)?,
        rows: count(row, "rows")?,
    })
}
