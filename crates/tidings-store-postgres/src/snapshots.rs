//! Dashboard statistics: the scan the `aggregate` job reads the feedback cache with, and the
//! statistics snapshots it writes (`stats_snapshots`, `stats_rows`, `stats_current`). Not to be
//! confused with `stats.rs`, the schedules' run statistics.
//!
//! A snapshot is written in one transaction that inserts it, points `stats_current` at it (the
//! upsert locks the pointer row, so two writers take turns) and then deletes every other
//! snapshot. Readers read the pointer, the metadata and the rows in one `REPEATABLE READ`
//! transaction, so they see one committed state: the previous snapshot or the new one.

use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use tidings_store::{
    FeedbackStatsItem, FeedbackStatsScanParams, FeedbackStatsScanned, RunId, StatsGroupError,
    StatsGrouping, StatsPeriod, StatsRow, StatsSnapshot, StatsSnapshotId, StatsSnapshotMeta,
    StatsSnapshotWriteParams, StoreError,
};

use crate::error::{Error, Result};
use crate::rows::{instant, ms};

pub(crate) async fn scan(
    pool: &PgPool,
    params: FeedbackStatsScanParams,
    sink: &mut (dyn FnMut(FeedbackStatsItem) + Send),
) -> Result<FeedbackStatsScanned> {
    let without: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE created_at IS NULL")
        .fetch_one(pool)
        .await?;
    let mut scanned = FeedbackStatsScanned {
        rows_scanned: 0,
        without_created_at: u64::try_from(without).unwrap_or_default(),
    };
    let query = sqlx::query(
        "SELECT created_at, source, group_name, channel, rating, sentiment_label, \
         sentiment_score, tags FROM feedback WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(ms(params.created_from))
    .bind(ms(params.created_to));
    let mut rows = query.fetch(pool);
    while let Some(row) = poll_fn(|cx| Pin::new(&mut rows).poll_next(cx)).await {
        let row = row?;
        let Json(tags): Json<Vec<String>> = row.try_get("tags")?;
        sink(FeedbackStatsItem {
            created_at: instant("created_at", row.try_get("created_at")?)?,
            source: row.try_get("source")?,
            group: row.try_get("group_name")?,
            channel: row.try_get("channel")?,
            rating: row.try_get("rating")?,
            sentiment_label: row.try_get("sentiment_label")?,
            sentiment_score: row.try_get("sentiment_score")?,
            tags,
        });
        scanned.rows_scanned += 1;
    }
    Ok(scanned)
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::Store(StoreError::Internal(format!("cannot encode JSON: {e}"))))
}

pub(crate) async fn write(
    pool: &PgPool,
    params: &StatsSnapshotWriteParams,
) -> Result<StatsSnapshotMeta> {
    let mut groupings = Vec::with_capacity(params.rows.len());
    let mut keys = Vec::with_capacity(params.rows.len());
    let mut periods = Vec::with_capacity(params.rows.len());
    let mut payloads = Vec::with_capacity(params.rows.len());
    for row in &params.rows {
        groupings.push(row.grouping.as_str());
        keys.push(row.group.as_deref());
        periods.push(row.period.as_str());
        payloads.push(to_json(&row.stats)?);
    }
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO stats_snapshots (as_of, computed_at, duration_ms, rows_scanned, \
         without_created_at, group_count, errors, zone, run_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING id",
    )
    .bind(ms(params.as_of))
    .bind(ms(params.computed_at))
    .bind(int(params.duration_ms))
    .bind(int(params.rows_scanned))
    .bind(int(params.without_created_at))
    .bind(int(params.groups))
    .bind(to_json(&params.errors)?)
    .bind(&params.zone)
    .bind(params.run_id.map(|id| id.0))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO stats_rows (snapshot_id, grouped_by, group_key, period, payload) \
         SELECT $1, g, k, p, j::jsonb \
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[]) AS t(g, k, p, j)",
    )
    .bind(id)
    .bind(&groupings)
    .bind(&keys)
    .bind(&periods)
    .bind(&payloads)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO stats_current (singleton, snapshot_id) VALUES (1, $1) \
         ON CONFLICT (singleton) DO UPDATE SET snapshot_id = EXCLUDED.snapshot_id",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM stats_rows WHERE snapshot_id <> $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM stats_snapshots WHERE id <> $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatsSnapshotMeta {
        id: StatsSnapshotId(id),
        as_of: params.as_of,
        computed_at: params.computed_at,
        duration_ms: params.duration_ms,
        rows_scanned: params.rows_scanned,
        without_created_at: params.without_created_at,
        groups: params.groups,
        errors: params.errors.clone(),
        zone: params.zone.clone(),
        run_id: params.run_id,
    })
}

pub(crate) async fn current_id(pool: &PgPool) -> Result<Option<StatsSnapshotId>> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT snapshot_id FROM stats_current WHERE singleton = 1")
            .fetch_optional(pool)
            .await?;
    Ok(id.map(StatsSnapshotId))
}

fn count(row: &sqlx::postgres::PgRow, column: &str) -> Result<u64> {
    let n: i64 = row.try_get(column)?;
    u64::try_from(n).map_err(|e| Error::corrupt(format!("{column}: {e}")))
}

pub(crate) async fn current(pool: &PgPool) -> Result<Option<StatsSnapshot>> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let Some(meta) = sqlx::query(
        "SELECT s.* FROM stats_current c JOIN stats_snapshots s ON s.id = c.snapshot_id \
         WHERE c.singleton = 1",
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let Json(errors): Json<Vec<StatsGroupError>> = meta.try_get("errors")?;
    let meta = StatsSnapshotMeta {
        id: StatsSnapshotId(meta.try_get("id")?),
        as_of: instant("as_of", meta.try_get("as_of")?)?,
        computed_at: instant("computed_at", meta.try_get("computed_at")?)?,
        duration_ms: count(&meta, "duration_ms")?,
        rows_scanned: count(&meta, "rows_scanned")?,
        without_created_at: count(&meta, "without_created_at")?,
        groups: count(&meta, "group_count")?,
        errors,
        zone: meta.try_get("zone")?,
        run_id: meta.try_get::<Option<i64>, _>("run_id")?.map(RunId),
    };
    let rows = sqlx::query(
        "SELECT grouped_by, group_key, period, payload FROM stats_rows WHERE snapshot_id = $1",
    )
    .bind(meta.id.0)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| {
        let grouping: String = row.try_get("grouped_by")?;
        let period: String = row.try_get("period")?;
        let Json(stats) = row.try_get("payload")?;
        Ok(StatsRow {
            grouping: StatsGrouping::parse(&grouping)
                .ok_or_else(|| Error::corrupt(format!("unknown grouping `{grouping}`")))?,
            group: row.try_get("group_key")?,
            period: StatsPeriod::parse(&period)
                .ok_or_else(|| Error::corrupt(format!("unknown period `{period}`")))?,
            stats,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    tx.commit().await?;
    Ok(Some(StatsSnapshot { meta, rows }))
}
