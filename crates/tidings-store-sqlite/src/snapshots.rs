//! Dashboard statistics: the scan the `aggregate` job reads the feedback cache with, and the
//! statistics snapshots it writes (`stats_snapshots`, `stats_rows`, `stats_current`).
//!
//! A snapshot is written in one `BEGIN IMMEDIATE` transaction that inserts it, points
//! `stats_current` at it and deletes every other snapshot; readers read the pointer, the
//! metadata and the rows in one read transaction, so under WAL they see one committed state:
//! the previous snapshot or the new one.

use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;
use sqlx::{QueryBuilder, Row, Sqlite};
use tidings_store::{
    FeedbackStatsItem, FeedbackStatsScanParams, FeedbackStatsScanned, RunId, StatsGroupError,
    StatsGrouping, StatsPeriod, StatsRow, StatsSnapshot, StatsSnapshotId, StatsSnapshotMeta,
    StatsSnapshotWriteParams, StoreResult,
};

use crate::SqliteStore;
use crate::error::{corrupt, db_error};
use crate::rows::{ms, timestamp, to_json};

/// Rows per insert: 5 parameters each, well under SQLite's 32,766.
const CHUNK: usize = 1_000;

pub(crate) async fn scan(
    store: &SqliteStore,
    params: FeedbackStatsScanParams,
    sink: &mut (dyn FnMut(FeedbackStatsItem) + Send),
) -> StoreResult<FeedbackStatsScanned> {
    let mut conn = store.reader.acquire().await.map_err(db_error)?;
    let without: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE created_at IS NULL")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let mut scanned = FeedbackStatsScanned {
        rows_scanned: 0,
        without_created_at: u64::try_from(without).unwrap_or_default(),
    };
    // Through the `created_at` index each row is a random page read (1M rows: 1.3 s); a
    // table scan reads pages in order (1M rows: 0.1 s). SQLite's planner takes the index for
    // any range, so the scan is chosen here when the window holds an eighth of the table or
    // more; both counts come from indexes.
    let (from, to) = (ms(params.created_from), ms(params.created_to));
    let in_window: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM feedback WHERE created_at >= ?1 AND created_at < ?2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let table = if in_window.saturating_mul(8) >= total {
        "feedback NOT INDEXED"
    } else {
        "feedback"
    };
    let sql = format!(
        "SELECT created_at, source, group_name, channel, rating, sentiment_label, \
         sentiment_score, tags FROM {table} WHERE created_at >= ?1 AND created_at < ?2"
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
    let mut rows = query.fetch(&mut *conn);
    while let Some(row) = poll_fn(|cx| Pin::new(&mut rows).poll_next(cx)).await {
        let row = row.map_err(db_error)?;
        let tags: String = row.try_get("tags").map_err(db_error)?;
        let tags = if tags == "[]" {
            Vec::new()
        } else {
            serde_json::from_str(&tags).map_err(|e| corrupt("tags", e))?
        };
        sink(FeedbackStatsItem {
            created_at: timestamp(row.try_get("created_at").map_err(db_error)?)?,
            source: row.try_get("source").map_err(db_error)?,
            group: row.try_get("group_name").map_err(db_error)?,
            channel: row.try_get("channel").map_err(db_error)?,
            rating: row.try_get("rating").map_err(db_error)?,
            sentiment_label: row.try_get("sentiment_label").map_err(db_error)?,
            sentiment_score: row.try_get("sentiment_score").map_err(db_error)?,
            tags,
        });
        scanned.rows_scanned += 1;
    }
    Ok(scanned)
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) async fn write(
    store: &SqliteStore,
    params: StatsSnapshotWriteParams,
) -> StoreResult<StatsSnapshotMeta> {
    let errors = to_json(&params.errors)?;
    let payloads = params
        .rows
        .iter()
        .map(|row| to_json(&row.stats))
        .collect::<StoreResult<Vec<_>>>()?;
    let mut tx = store.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO stats_snapshots (as_of, computed_at, duration_ms, rows_scanned, \
         without_created_at, group_count, errors, zone, run_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
    )
    .bind(ms(params.as_of))
    .bind(ms(params.computed_at))
    .bind(int(params.duration_ms))
    .bind(int(params.rows_scanned))
    .bind(int(params.without_created_at))
    .bind(int(params.groups))
    .bind(errors)
    .bind(&params.zone)
    .bind(params.run_id.map(|id| id.0))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    for (rows, payloads) in params.rows.chunks(CHUNK).zip(payloads.chunks(CHUNK)) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO stats_rows (snapshot_id, grouped_by, group_key, period, payload) ",
        );
        insert.push_values(rows.iter().zip(payloads), |mut values, (row, payload)| {
            values
                .push_bind(id)
                .push_bind(row.grouping.as_str())
                .push_bind(row.group.clone())
                .push_bind(row.period.as_str())
                .push_bind(payload.clone());
        });
        insert.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    sqlx::query(
        "INSERT INTO stats_current (singleton, snapshot_id) VALUES (1, ?1) \
         ON CONFLICT (singleton) DO UPDATE SET snapshot_id = excluded.snapshot_id",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM stats_rows WHERE snapshot_id <> ?1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query("DELETE FROM stats_snapshots WHERE id <> ?1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(StatsSnapshotMeta {
        id: StatsSnapshotId(id),
        as_of: params.as_of,
        computed_at: params.computed_at,
        duration_ms: params.duration_ms,
        rows_scanned: params.rows_scanned,
        without_created_at: params.without_created_at,
        groups: params.groups,
        errors: params.errors,
        zone: params.zone,
        run_id: params.run_id,
    })
}

pub(crate) async fn current_id(store: &SqliteStore) -> StoreResult<Option<StatsSnapshotId>> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT snapshot_id FROM stats_current WHERE singleton = 1")
            .fetch_optional(&store.reader)
            .await
            .map_err(db_error)?;
    Ok(id.map(StatsSnapshotId))
}

fn count(row: &sqlx::sqlite::SqliteRow, column: &str) -> StoreResult<u64> {
    let n: i64 = row.try_get(column).map_err(db_error)?;
    u64::try_from(n).map_err(|e| corrupt(column, e))
}

pub(crate) async fn current(store: &SqliteStore) -> StoreResult<Option<StatsSnapshot>> {
    // One read transaction: WAL gives it one snapshot of the database from its first read.
    let mut tx = store.reader.begin().await.map_err(db_error)?;
    let Some(meta) = sqlx::query(
        "SELECT s.* FROM stats_current c JOIN stats_snapshots s ON s.id = c.snapshot_id \
         WHERE c.singleton = 1",
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?
    else {
        return Ok(None);
    };
    let errors: String = meta.try_get("errors").map_err(db_error)?;
    let meta = StatsSnapshotMeta {
        id: StatsSnapshotId(meta.try_get("id").map_err(db_error)?),
        as_of: timestamp(meta.try_get("as_of").map_err(db_error)?)?,
        computed_at: timestamp(meta.try_get("computed_at").map_err(db_error)?)?,
        duration_ms: count(&meta, "duration_ms")?,
        rows_scanned: count(&meta, "rows_scanned")?,
        without_created_at: count(&meta, "without_created_at")?,
        groups: count(&meta, "group_count")?,
        errors: serde_json::from_str::<Vec<StatsGroupError>>(&errors)
            .map_err(|e| corrupt("errors", e))?,
        zone: meta.try_get("zone").map_err(db_error)?,
        run_id: meta
            .try_get::<Option<i64>, _>("run_id")
            .map_err(db_error)?
            .map(RunId),
    };
    let rows = sqlx::query(
        "SELECT grouped_by, group_key, period, payload FROM stats_rows WHERE snapshot_id = ?1",
    )
    .bind(meta.id.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?
    .iter()
    .map(|row| {
        let grouping: String = row.try_get("grouped_by").map_err(db_error)?;
        let period: String = row.try_get("period").map_err(db_error)?;
        let payload: String = row.try_get("payload").map_err(db_error)?;
        Ok(StatsRow {
            grouping: StatsGrouping::parse(&grouping)
                .ok_or_else(|| corrupt("a grouping", &grouping))?,
            group: row.try_get("group_key").map_err(db_error)?,
            period: StatsPeriod::parse(&period).ok_or_else(|| corrupt("a period", &period))?,
            stats: serde_json::from_str(&payload).map_err(|e| corrupt("payload", e))?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    tx.commit().await.map_err(db_error)?;
    Ok(Some(StatsSnapshot { meta, rows }))
}
