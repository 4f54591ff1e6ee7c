//! The SQLite backend of tidings' [`Store`]: embedded, zero setup, one process.
//!
//! One writer connection (a pool of one) takes every write, each in a `BEGIN IMMEDIATE`
//! transaction, so writes queue in this process instead of fighting over SQLite's lock; a small
//! pool of `query_only` connections serves reads, which WAL mode lets run beside the writer.
//! Several `tidings serve` processes cannot share a SQLite file safely, so `serve` opens the store
//! [exclusively](SqliteOptions::exclusive); the CLI opens it shared and may run beside a server.
//!
//! Each module owns one group of operations and its SQL: `schedules` (CRUD), `fire`
//! (`schedule_fire_due`), `runs` (enqueue, reads, cancel), `lease` (claim, heartbeat, rescue),
//! `complete` (attempt outcomes), `api_keys`, `feedback` (the feedback cache) and `sources`
//! (sync bookkeeping).

mod api_keys;
mod complete;
mod connect;
mod error;
mod feedback;
mod fire;
mod instances;
mod lease;
mod lock;
mod migrate;
mod page;
mod rows;
mod runs;
mod schedules;
mod snapshots;
mod sources;
mod webhook;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::{Sqlite, SqlitePool, Transaction};
use tidings_store::{
    ApiKey, ApiKeyCreateParams, ApiKeyId, AppliedMigration, Attempt, ChangeFeed, Feedback,
    FeedbackId, FeedbackListParams, FeedbackReplaceParams, FeedbackUpsertParams, FeedbackWritten,
    Instance, Page, Run, RunCancelParams, RunClaimParams, RunCompleted, RunCompletion,
    RunEnqueueParams, RunEnqueued, RunHeartbeat, RunHeartbeatParams, RunId, RunListParams,
    RunRescueParams, Schedule, ScheduleCreateParams, ScheduleFireDueParams, ScheduleFired,
    ScheduleId, ScheduleKey, ScheduleListParams, ScheduleUpdateParams, SourceFile, SourceState,
    SourceStateParams, Store, StoreKind, StoreResult,
};

pub use connect::SqliteOptions;

use crate::error::db_error;

/// tidings' store on a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    /// At most one connection: every write transaction goes through it.
    writer: SqlitePool,
    /// `query_only` connections for gets and lists.
    reader: SqlitePool,
    path: PathBuf,
    /// Held for the store's life when opened exclusively.
    _lock: Option<lock::InstanceLock>,
}

impl SqliteStore {
    /// Opens (creating it and its folder if missing) the database at `path`. Does not migrate:
    /// call [`Store::migrate`].
    pub async fn open(path: &Path, options: SqliteOptions) -> StoreResult<SqliteStore> {
        connect::open(path, options).await
    }

    /// Opens the database named by a `sqlite://PATH` (or `sqlite:PATH`) URL, e.g.
    /// `sqlite://./data/tidings.db`.
    pub async fn open_url(url: &str, options: SqliteOptions) -> StoreResult<SqliteStore> {
        let path = connect::path_from_url(url)?;
        connect::open(&path, options).await
    }

    /// Opens and applies the migrations: for tests and tools.
    pub async fn open_and_migrate(path: &Path, options: SqliteOptions) -> StoreResult<SqliteStore> {
        let store = SqliteStore::open(path, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// The migrations built into this backend, oldest first: what [`Store::migrate`] brings a
    /// database up to.
    pub fn migrations() -> Vec<AppliedMigration> {
        migrate::embedded()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the connections (checkpointing the WAL) and waits for them to finish. The
    /// exclusive lock, if any, is released when the store is dropped.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Starts a write transaction on the writer connection. `BEGIN IMMEDIATE` takes SQLite's
    /// write lock up front (waiting up to `busy_timeout` for another process, the CLI say), so
    /// a transaction that reads and then writes never has to upgrade its lock and cannot fail
    /// half-way with `SQLITE_BUSY`.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
    }

    fn supports_listen_notify(&self) -> bool {
        false
    }

    fn supports_multiple_instances(&self) -> bool {
        false
    }

    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>> {
        migrate::run(&self.writer).await
    }

    async fn ping(&self) -> StoreResult<()> {
        // On a reader: a readiness check should not queue behind the writes.
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn schedule_create(&self, params: ScheduleCreateParams) -> StoreResult<Schedule> {
        schedules::create(self, params).await
    }

    async fn schedule_get(&self, key: &ScheduleKey) -> StoreResult<Schedule> {
        schedules::get(self, key).await
    }

    async fn schedule_list(&self, params: ScheduleListParams) -> StoreResult<Page<Schedule>> {
        schedules::list(self, params).await
    }

    async fn schedule_update(&self, params: ScheduleUpdateParams) -> StoreResult<Schedule> {
        schedules::update(self, params).await
    }

    async fn schedule_delete(&self, id: ScheduleId, now: Timestamp) -> StoreResult<()> {
        schedules::delete(self, id, now).await
    }

    async fn schedule_next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        schedules::next_due_at(self).await
    }

    async fn schedule_fire_due(
        &self,
        params: ScheduleFireDueParams,
    ) -> StoreResult<Vec<ScheduleFired>> {
        fire::fire_due(self, params).await
    }

    async fn run_enqueue(&self, params: RunEnqueueParams) -> StoreResult<RunEnqueued> {
        runs::enqueue(self, params).await
    }

    async fn run_enqueue_batch(&self, runs: Vec<RunEnqueueParams>) -> StoreResult<Vec<Run>> {
        tidings_store::check_adhoc_batch(&runs)?;
        runs::enqueue_batch(self, &runs).await
    }

    async fn run_get(&self, id: RunId) -> StoreResult<Run> {
        runs::get(self, id).await
    }

    async fn run_list(&self, params: RunListParams) -> StoreResult<Page<Run>> {
        runs::list(self, params).await
    }

    async fn run_attempts(&self, id: RunId) -> StoreResult<Vec<Attempt>> {
        runs::attempts(self, id).await
    }

    async fn run_claim(&self, params: RunClaimParams) -> StoreResult<Vec<Run>> {
        lease::claim(self, params).await
    }

    async fn run_heartbeat(&self, params: RunHeartbeatParams) -> StoreResult<RunHeartbeat> {
        lease::heartbeat(self, params).await
    }

    async fn run_complete(&self, completions: Vec<RunCompletion>) -> StoreResult<RunCompleted> {
        complete::complete(self, completions).await
    }

    async fn run_cancel(&self, params: RunCancelParams) -> StoreResult<Run> {
        runs::cancel(self, params).await
    }

    async fn run_rescue_expired(&self, params: RunRescueParams) -> StoreResult<Vec<Run>> {
        lease::rescue_expired(self, params).await
    }

    async fn run_next_available_at(&self) -> StoreResult<Option<Timestamp>> {
        runs::next_available_at(self).await
    }

    async fn run_queue_depth(&self, now: Timestamp) -> StoreResult<u64> {
        runs::queue_depth(self, now).await
    }

    async fn run_progress(&self, id: RunId, progress: serde_json::Value) -> StoreResult<()> {
        runs::progress(self, id, progress).await
    }

    async fn changes(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        Ok(None)
    }

    async fn instance_register(&self, instance: Instance) -> StoreResult<()> {
        instances::register(self, instance).await
    }

    async fn instance_seen(&self, id: &str, now: Timestamp) -> StoreResult<bool> {
        instances::seen(self, id, now).await
    }

    async fn instance_list(&self) -> StoreResult<Vec<Instance>> {
        instances::list(self).await
    }

    async fn instance_remove(&self, id: &str) -> StoreResult<()> {
        instances::remove(self, id).await
    }

    async fn instance_prune(&self, seen_before: Timestamp) -> StoreResult<Vec<String>> {
        instances::prune(self, seen_before).await
    }

    async fn run_prune(&self, finished_before: Timestamp, limit: u32) -> StoreResult<u64> {
        instances::prune_runs(self, finished_before, limit).await
    }

    async fn api_key_create(&self, params: ApiKeyCreateParams) -> StoreResult<ApiKey> {
        api_keys::create(self, params).await
    }

    async fn api_key_list(&self) -> StoreResult<Vec<ApiKey>> {
        api_keys::list(self).await
    }

    async fn api_key_lookup(&self, prefix: &str) -> StoreResult<Option<(ApiKey, Vec<u8>)>> {
        api_keys::lookup(self, prefix).await
    }

    async fn api_key_revoke(&self, name_or_prefix: &str, now: Timestamp) -> StoreResult<ApiKey> {
        api_keys::revoke(self, name_or_prefix, now).await
    }

    async fn api_key_touch(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<()> {
        api_keys::touch(self, id, now).await
    }

    async fn api_key_count_active(&self) -> StoreResult<u64> {
        api_keys::count_active(self).await
    }

    async fn feedback_replace_source(
        &self,
        params: FeedbackReplaceParams,
    ) -> StoreResult<FeedbackWritten> {
        let FeedbackReplaceParams {
            source,
            records,
            now,
        } = params;
        feedback::write(self, &source, records, now, feedback::Vanished::Delete).await
    }

    async fn feedback_upsert(&self, params: FeedbackUpsertParams) -> StoreResult<FeedbackWritten> {
        let FeedbackUpsertParams {
            source,
            records,
            now,
        } = params;
        feedback::write(self, &source, records, now, feedback::Vanished::Keep).await
    }

    async fn feedback_get(&self, id: FeedbackId) -> StoreResult<Feedback> {
        feedback::get(self, id).await
    }

    async fn feedback_list(&self, params: FeedbackListParams) -> StoreResult<Page<Feedback>> {
        feedback::list(self, params).await
    }

    async fn feedback_count(&self, source: Option<&str>) -> StoreResult<u64> {
        feedback::count(self, source).await
    }

    async fn source_state_get(&self, source: &str) -> StoreResult<Option<SourceState>> {
        sources::state_get(self, source).await
    }

    async fn source_state_record(&self, params: SourceStateParams) -> StoreResult<SourceState> {
        sources::state_record(self, params).await
    }

    async fn source_file_get(&self, source: &str, path: &str) -> StoreResult<Option<SourceFile>> {
        sources::file_get(self, source, path).await
    }

    async fn source_file_record(&self, file: SourceFile) -> StoreResult<()> {
        sources::file_record(self, file).await
    }

    async fn feedback_stats_scan(
        &self,
        params: tidings_store::FeedbackStatsScanParams,
        sink: &mut (dyn FnMut(tidings_store::FeedbackStatsItem) + Send),
    ) -> StoreResult<tidings_store::FeedbackStatsScanned> {
        snapshots::scan(self, params, sink).await
    }

    async fn stats_snapshot_write(
        &self,
        params: tidings_store::StatsSnapshotWriteParams,
    ) -> StoreResult<tidings_store::StatsSnapshotMeta> {
        snapshots::write(self, params).await
    }

    async fn stats_snapshot_current_id(
        &self,
    ) -> StoreResult<Option<tidings_store::StatsSnapshotId>> {
        snapshots::current_id(self).await
    }

    async fn stats_snapshot_current(&self) -> StoreResult<Option<tidings_store::StatsSnapshot>> {
        snapshots::current(self).await
    }
}

#[cfg(test)]
mod tests {
    use tidings_store::StoreError;

    use super::*;

    #[tokio::test]
    async fn opening_creates_the_folder_and_the_database_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("nested").join("tidings.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert!(path.is_file());
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.reader)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(synchronous, 1, "NORMAL");
    }

    #[tokio::test]
    async fn readers_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open_and_migrate(&dir.path().join("t.db"), SqliteOptions::default())
                .await
                .unwrap();
        let refused = sqlx::query("DELETE FROM schedules")
            .execute(&store.reader)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("readonly"), "{refused}");
    }

    #[tokio::test]
    async fn migrate_applies_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tidings.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let applied = store.migrate().await.unwrap();
        assert_eq!(
            applied
                .iter()
                .map(|m| (m.version, m.description.as_str()))
                .collect::<Vec<_>>(),
            [
                (1, "init"),
                (2, "api keys"),
                (3, "webhooks"),
                (4, "feedback"),
                (5, "instances"),
                (7, "stats"),
                (8, "sentiment origin")
            ]
        );
        assert_eq!(applied, SqliteStore::migrations());
        assert_eq!(store.migrate().await.unwrap(), []);
        store.close().await;
        drop(store);

        let reopened = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert_eq!(reopened.migrate().await.unwrap(), []);
    }

    #[tokio::test]
    async fn a_second_exclusive_store_on_one_file_is_refused_but_the_cli_may_open_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tidings.db");
        let exclusive = SqliteOptions { exclusive: true };
        let server = SqliteStore::open_and_migrate(&path, exclusive)
            .await
            .unwrap();

        let refused = SqliteStore::open(&path, exclusive).await.unwrap_err();
        assert!(matches!(refused, StoreError::Locked(_)), "{refused:?}");
        assert_eq!(
            refused.to_string(),
            format!(
                "another tidings serve is already using {} (pid {}); SQLite allows one instance \
                 — run several instances on PostgreSQL",
                path.display(),
                std::process::id()
            )
        );

        let cli = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert_eq!(cli.schedule_next_due_at().await.unwrap(), None);

        drop(server);
        SqliteStore::open(&path, exclusive).await.unwrap();
    }

    #[tokio::test]
    async fn open_url_reads_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("tidings.db");
        let store = SqliteStore::open_url(
            &format!("sqlite://{}", path.display()),
            SqliteOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(store.path(), path);
        assert!(path.is_file());
    }
}
