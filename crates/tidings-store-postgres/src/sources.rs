//! Sources' sync bookkeeping: the state of each source's syncs, and the CSV files imported.

use sqlx::PgPool;
use tidings_store::{SourceFile, SourceState, SourceStateParams, SyncMode};

use crate::error::Result;
use crate::rows::{self, ms, opt_ms};

pub(crate) async fn state_get(pool: &PgPool, source: &str) -> Result<Option<SourceState>> {
    sqlx::query("SELECT * FROM source_state WHERE source = $1")
        .bind(source)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::source_state)
        .transpose()
}

/// The run and time go to the mode's columns; the watermark is the later of the stored and the
/// given one (`GREATEST` ignores a NULL on either side).
pub(crate) async fn state_record(pool: &PgPool, params: &SourceStateParams) -> Result<SourceState> {
    let full = params.mode == SyncMode::Full;
    let row = sqlx::query(
        "INSERT INTO source_state (source, watermark, last_full_run_id, last_full_at,
                                   last_incremental_run_id, last_incremental_at)
         VALUES ($1, $2, CASE WHEN $3 THEN $4::bigint END, CASE WHEN $3 THEN $5::bigint END,
                 CASE WHEN $3 THEN NULL ELSE $4::bigint END,
                 CASE WHEN $3 THEN NULL ELSE $5::bigint END)
         ON CONFLICT (source) DO UPDATE SET
             watermark = GREATEST(source_state.watermark, EXCLUDED.watermark),
             last_full_run_id = CASE WHEN $3 THEN $4 ELSE source_state.last_full_run_id END,
             last_full_at = CASE WHEN $3 THEN $5 ELSE source_state.last_full_at END,
             last_incremental_run_id =
                 CASE WHEN $3 THEN source_state.last_incremental_run_id ELSE $4 END,
             last_incremental_at = CASE WHEN $3 THEN source_state.last_incremental_at ELSE $5 END
         RETURNING *",
    )
    .bind(&params.source)
    .bind(opt_ms(params.watermark))
    .bind(full)
    .bind(params.run_id.map(|id| id.0))
    .bind(ms(params.at))
    .fetch_one(pool)
    .await?;
    rows::source_state(&row)
}

pub(crate) async fn file_get(
    pool: &PgPool,
    source: &str,
    path: &str,
) -> Result<Option<SourceFile>> {
    sqlx::query("SELECT * FROM source_files WHERE source = $1 AND path = $2")
        .bind(source)
        .bind(path)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::source_file)
        .transpose()
}

pub(crate) async fn file_record(pool: &PgPool, file: &SourceFile) -> Result<()> {
    sqlx::query(
        "INSERT INTO source_files (source, path, size, mtime, sha256, imported_at, rows)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (source, path) DO UPDATE SET
             size = EXCLUDED.size, mtime = EXCLUDED.mtime, sha256 = EXCLUDED.sha256,
             imported_at = EXCLUDED.imported_at, rows = EXCLUDED.rows",
    )
    .bind(&file.source)
    .bind(&file.path)
    .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
    .bind(ms(file.mtime))
    .bind(&file.sha256)
    .bind(ms(file.imported_at))
    .bind(i64::try_from(file.rows).unwrap_or(i64::MAX))
    .execute(pool)
    .await?;
    Ok(())
}
