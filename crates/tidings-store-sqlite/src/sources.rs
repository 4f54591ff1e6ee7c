//! Sources' sync bookkeeping: the state of each source's syncs, and the CSV files imported.

use tidings_store::{SourceFile, SourceState, SourceStateParams, StoreResult, SyncMode};

use crate::SqliteStore;
use crate::error::db_error;
use crate::rows::{self, ms};

pub(crate) async fn state_get(
    store: &SqliteStore,
    source: &str,
) -> StoreResult<Option<SourceState>> {
    sqlx::query("SELECT * FROM source_state WHERE source = ?1")
        .bind(source.to_owned())
        .fetch_optional(&store.reader)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(rows::source_state)
        .transpose()
}

/// The run and time go to the mode's columns; the watermark is the later of the stored and the
/// given one (a NULL on either side leaves the other).
pub(crate) async fn state_record(
    store: &SqliteStore,
    params: SourceStateParams,
) -> StoreResult<SourceState> {
    let full = params.mode == SyncMode::Full;
    let row = sqlx::query(
        "INSERT INTO source_state (source, watermark, last_full_run_id, last_full_at,
                                   last_incremental_run_id, last_incremental_at)
         VALUES (?1, ?2, CASE WHEN ?3 THEN ?4 END, CASE WHEN ?3 THEN ?5 END,
                 CASE WHEN ?3 THEN NULL ELSE ?4 END, CASE WHEN ?3 THEN NULL ELSE ?5 END)
         ON CONFLICT (source) DO UPDATE SET
             watermark = CASE
                 WHEN source_state.watermark IS NULL OR excluded.watermark > source_state.watermark
                 THEN COALESCE(excluded.watermark, source_state.watermark)
                 ELSE source_state.watermark END,
             last_full_run_id = CASE WHEN ?3 THEN ?4 ELSE source_state.last_full_run_id END,
             last_full_at = CASE WHEN ?3 THEN ?5 ELSE source_state.last_full_at END,
             last_incremental_run_id =
                 CASE WHEN ?3 THEN source_state.last_incremental_run_id ELSE ?4 END,
             last_incremental_at = CASE WHEN ?3 THEN source_state.last_incremental_at ELSE ?5 END
         RETURNING *",
    )
    .bind(params.source)
    .bind(params.watermark.map(ms))
    .bind(full)
    .bind(params.run_id.map(|id| id.0))
    .bind(ms(params.at))
    .fetch_one(&store.writer)
    .await
    .map_err(db_error)?;
    rows::source_state(&row)
}

pub(crate) async fn file_get(
    store: &SqliteStore,
    source: &str,
    path: &str,
) -> StoreResult<Option<SourceFile>> {
    sqlx::query("SELECT * FROM source_files WHERE source = ?1 AND path = ?2")
        .bind(source.to_owned())
        .bind(path.to_owned())
        .fetch_optional(&store.reader)
        .await
        .map_err(db_error)?
        .as_ref()
        .map(rows::source_file)
        .transpose()
}

pub(crate) async fn file_record(store: &SqliteStore, file: SourceFile) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO source_files (source, path, size, mtime, sha256, imported_at, rows)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (source, path) DO UPDATE SET
             size = excluded.size, mtime = excluded.mtime, sha256 = excluded.sha256,
             imported_at = excluded.imported_at, rows = excluded.rows",
    )
    .bind(file.source)
    .bind(file.path)
    .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
    .bind(ms(file.mtime))
    .bind(file.sha256)
    .bind(ms(file.imported_at))
    .bind(i64::try_from(file.rows).unwrap_or(i64::MAX))
    .execute(&store.writer)
    .await
    .map_err(db_error)?;
    Ok(())
}
