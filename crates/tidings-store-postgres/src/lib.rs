//! The PostgreSQL backend of tidings: [`tidings_store::Store`] on sqlx, for one or several
//! `tidings serve` instances sharing a database.
//!
//! What makes several instances safe is in the SQL, not in a leader: an occurrence becomes a
//! run under the unique fire key `(schedule_id, scheduled_for)` in the same transaction that
//! advances the schedule's `next_run_at` (guarded by its old value); due schedules and queued
//! runs are taken with `SKIP LOCKED` row locks, so instances never wait on or double-handle
//! each other's rows; and `max_instances` is checked under a lock on the schedule row. See
//! `fire.rs` and `claim.rs`; the lock order every transaction follows (run rows, then schedule
//! rows in id order) is explained in `claim.rs`.
//!
//! Instants are stored as BIGINT epoch milliseconds, JSON as JSONB. Migrations live in
//! `migrations/` and are applied by [`Store::migrate`]. With [`PostgresOptions::schema`], the
//! store works entirely inside one schema, which is how tests get a fresh database each.

mod api_keys;
mod claim;
mod complete;
mod connect;
mod error;
mod feedback;
mod fire;
mod instances;
mod listen;
mod migrate;
mod rows;
mod runs;
mod schedules;
mod snapshots;
mod sources;
mod stats;
mod webhook;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, PgPool};
use tidings_store::{
    ApiKey, ApiKeyCreateParams, ApiKeyId, AppliedMigration, Attempt, ChangeFeed, Feedback,
    FeedbackId, FeedbackListParams, FeedbackReplaceParams, FeedbackUpsertParams, FeedbackWritten,
    Instance, Page, Run, RunCancelParams, RunClaimParams, RunCompleted, RunCompletion,
    RunEnqueueParams, RunEnqueued, RunHeartbeat, RunHeartbeatParams, RunId, RunListParams,
    RunRescueParams, Schedule, ScheduleCreateParams, ScheduleFireDueParams, ScheduleFired,
    ScheduleId, ScheduleKey, ScheduleListParams, ScheduleUpdateParams, SourceFile, SourceState,
    SourceStateParams, Store, StoreError, StoreKind, StoreResult,
};

pub use crate::connect::PostgresOptions;
use crate::connect::SchemaName;
use crate::error::retrying;
use crate::migrate::Migrations;

/// A [`Store`] on PostgreSQL. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    schema: Option<SchemaName>,
    migrations: Arc<Migrations>,
}

impl fmt::Debug for PostgresStore {
    /// Says which schema, never how to connect (the connect options hold the password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema.as_ref().map(SchemaName::as_str))
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Tells the other instances that a schedule changed. The change is made and committed
    /// already: a failure to tell is logged, and they notice at their next poll instead.
    async fn schedules_changed(&self) {
        if let Err(error) = listen::notify_schedules(&self.pool).await {
            tracing::warn!(%error, "could not notify the other instances of a schedule change");
        }
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`). With
    /// `options.schema`, creates that schema if it does not exist and makes it the only schema
    /// of every pooled connection. Does not migrate: call [`Store::migrate`].
    ///
    /// Errors name the host, database and user and say why; they never contain the password.
    /// A server that cannot be reached is [`StoreError::Unavailable`].
    pub async fn connect(url: &str, options: PostgresOptions) -> StoreResult<PostgresStore> {
        let (pool, schema) = connect::open_pool(url, &options).await?;
        let migrations = Arc::new(Migrations::new(schema.as_ref()));
        Ok(PostgresStore {
            pool,
            schema,
            migrations,
        })
    }

    /// The migrations built into this backend, oldest first: what [`Store::migrate`] brings a
    /// database up to.
    pub fn migrations() -> Vec<AppliedMigration> {
        migrate::embedded()
    }

    /// The schema this store works in, when one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_ref().map(SchemaName::as_str)
    }

    /// Drops the store's schema with everything in it and closes the pool: test clean-up.
    /// Refused (`InvalidState`) for a store opened without a schema.
    pub async fn drop_schema(self) -> StoreResult<()> {
        let Some(schema) = &self.schema else {
            return Err(StoreError::InvalidState(
                "this store was opened without a schema; there is no schema of its own to drop"
                    .to_owned(),
            ));
        };
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.quoted());
        let dropped = sqlx::query(AssertSqlSafe(sql)).execute(&self.pool).await;
        self.pool.close().await;
        dropped.map_err(|e| error::classify(&e))?;
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    fn supports_listen_notify(&self) -> bool {
        true
    }

    fn supports_multiple_instances(&self) -> bool {
        true
    }

    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>> {
        Ok(self.migrations.run(&self.pool).await?)
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| error::classify(&e))?;
        Ok(())
    }

    async fn schedule_create(&self, params: ScheduleCreateParams) -> StoreResult<Schedule> {
        let schedule = schedules::create(&self.pool, params).await?;
        self.schedules_changed().await;
        Ok(schedule)
    }

    async fn schedule_get(&self, key: &ScheduleKey) -> StoreResult<Schedule> {
        Ok(schedules::get(&self.pool, key).await?)
    }

    async fn schedule_list(&self, params: ScheduleListParams) -> StoreResult<Page<Schedule>> {
        Ok(schedules::list(&self.pool, params).await?)
    }

    async fn schedule_update(&self, params: ScheduleUpdateParams) -> StoreResult<Schedule> {
        let schedule = schedules::update(&self.pool, params).await?;
        self.schedules_changed().await;
        Ok(schedule)
    }

    async fn schedule_delete(&self, id: ScheduleId, now: Timestamp) -> StoreResult<()> {
        retrying(|| schedules::delete(&self.pool, id, now)).await?;
        self.schedules_changed().await;
        Ok(())
    }

    async fn schedule_next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        Ok(schedules::next_due_at(&self.pool).await?)
    }

    async fn schedule_fire_due(
        &self,
        params: ScheduleFireDueParams,
    ) -> StoreResult<Vec<ScheduleFired>> {
        Ok(fire::fire_due(&self.pool, params).await?)
    }

    async fn run_enqueue(&self, params: RunEnqueueParams) -> StoreResult<RunEnqueued> {
        Ok(retrying(|| runs::enqueue(&self.pool, &params)).await?)
    }

    async fn run_enqueue_batch(&self, runs: Vec<RunEnqueueParams>) -> StoreResult<Vec<Run>> {
        tidings_store::check_adhoc_batch(&runs)?;
        Ok(runs::enqueue_batch(&self.pool, &runs).await?)
    }

    async fn run_get(&self, id: RunId) -> StoreResult<Run> {
        Ok(runs::get(&self.pool, id).await?)
    }

    async fn run_list(&self, params: RunListParams) -> StoreResult<Page<Run>> {
        Ok(runs::list(&self.pool, &params).await?)
    }

    async fn run_attempts(&self, id: RunId) -> StoreResult<Vec<Attempt>> {
        Ok(runs::attempts(&self.pool, id).await?)
    }

    async fn run_claim(&self, params: RunClaimParams) -> StoreResult<Vec<Run>> {
        Ok(retrying(|| claim::claim(&self.pool, &params)).await?)
    }

    async fn run_heartbeat(&self, params: RunHeartbeatParams) -> StoreResult<RunHeartbeat> {
        Ok(runs::heartbeat(&self.pool, &params).await?)
    }

    async fn run_complete(&self, completions: Vec<RunCompletion>) -> StoreResult<RunCompleted> {
        Ok(retrying(|| complete::complete(&self.pool, &completions)).await?)
    }

    async fn run_cancel(&self, params: RunCancelParams) -> StoreResult<Run> {
        Ok(retrying(|| runs::cancel(&self.pool, &params)).await?)
    }

    async fn run_rescue_expired(&self, params: RunRescueParams) -> StoreResult<Vec<Run>> {
        Ok(retrying(|| complete::rescue_expired(&self.pool, &params)).await?)
    }

    async fn run_next_available_at(&self) -> StoreResult<Option<Timestamp>> {
        Ok(runs::next_available_at(&self.pool).await?)
    }

    async fn run_queue_depth(&self, now: Timestamp) -> StoreResult<u64> {
        Ok(runs::queue_depth(&self.pool, now).await?)
    }

    async fn run_progress(&self, id: RunId, progress: serde_json::Value) -> StoreResult<()> {
        Ok(runs::progress(&self.pool, id, progress).await?)
    }

    async fn changes(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        let feed = listen::feed(&self.pool).await?;
        Ok(Some(Box::new(feed)))
    }

    async fn instance_register(&self, instance: Instance) -> StoreResult<()> {
        Ok(instances::register(&self.pool, instance).await?)
    }

    async fn instance_seen(&self, id: &str, now: Timestamp) -> StoreResult<bool> {
        Ok(instances::seen(&self.pool, id, now).await?)
    }

    async fn instance_list(&self) -> StoreResult<Vec<Instance>> {
        Ok(instances::list(&self.pool).await?)
    }

    async fn instance_remove(&self, id: &str) -> StoreResult<()> {
        Ok(instances::remove(&self.pool, id).await?)
    }

    async fn instance_prune(&self, seen_before: Timestamp) -> StoreResult<Vec<String>> {
        Ok(instances::prune(&self.pool, seen_before).await?)
    }

    async fn run_prune(&self, finished_before: Timestamp, limit: u32) -> StoreResult<u64> {
        Ok(instances::prune_runs(&self.pool, finished_before, limit).await?)
    }

    async fn api_key_create(&self, params: ApiKeyCreateParams) -> StoreResult<ApiKey> {
        Ok(api_keys::create(&self.pool, params).await?)
    }

    async fn api_key_list(&self) -> StoreResult<Vec<ApiKey>> {
        Ok(api_keys::list(&self.pool).await?)
    }

    async fn api_key_lookup(&self, prefix: &str) -> StoreResult<Option<(ApiKey, Vec<u8>)>> {
        Ok(api_keys::lookup(&self.pool, prefix).await?)
    }

    async fn api_key_revoke(&self, name_or_prefix: &str, now: Timestamp) -> StoreResult<ApiKey> {
        Ok(api_keys::revoke(&self.pool, name_or_prefix, now).await?)
    }

    async fn api_key_touch(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<()> {
        Ok(api_keys::touch(&self.pool, id, now).await?)
    }

    async fn api_key_count_active(&self) -> StoreResult<u64> {
        Ok(api_keys::count_active(&self.pool).await?)
    }

    async fn feedback_replace_source(
        &self,
        params: FeedbackReplaceParams,
    ) -> StoreResult<FeedbackWritten> {
        let (source, records) = (&params.source, &params.records);
        Ok(retrying(|| {
            feedback::write(
                &self.pool,
                source,
                records,
                params.now,
                feedback::Vanished::Delete,
            )
        })
        .await?)
    }

    async fn feedback_upsert(&self, params: FeedbackUpsertParams) -> StoreResult<FeedbackWritten> {
        let (source, records) = (&params.source, &params.records);
        Ok(retrying(|| {
            feedback::write(
                &self.pool,
                source,
                records,
                params.now,
                feedback::Vanished::Keep,
            )
        })
        .await?)
    }

    async fn feedback_get(&self, id: FeedbackId) -> StoreResult<Feedback> {
        Ok(feedback::get(&self.pool, id).await?)
    }

    async fn feedback_list(&self, params: FeedbackListParams) -> StoreResult<Page<Feedback>> {
        Ok(feedback::list(&self.pool, params).await?)
    }

    async fn feedback_count(&self, source: Option<&str>) -> StoreResult<u64> {
        Ok(feedback::count(&self.pool, source).await?)
    }

    async fn source_state_get(&self, source: &str) -> StoreResult<Option<SourceState>> {
        Ok(sources::state_get(&self.pool, source).await?)
    }

    async fn source_state_record(&self, params: SourceStateParams) -> StoreResult<SourceState> {
        Ok(sources::state_record(&self.pool, &params).await?)
    }

    async fn source_file_get(&self, source: &str, path: &str) -> StoreResult<Option<SourceFile>> {
        Ok(sources::file_get(&self.pool, source, path).await?)
    }

    async fn source_file_record(&self, file: SourceFile) -> StoreResult<()> {
        Ok(sources::file_record(&self.pool, &file).await?)
    }

    async fn feedback_stats_scan(
        &self,
        params: tidings_store::FeedbackStatsScanParams,
        sink: &mut (dyn FnMut(tidings_store::FeedbackStatsItem) + Send),
    ) -> StoreResult<tidings_store::FeedbackStatsScanned> {
        Ok(snapshots::scan(&self.pool, params, sink).await?)
    }

    async fn stats_snapshot_write(
        &self,
        params: tidings_store::StatsSnapshotWriteParams,
    ) -> StoreResult<tidings_store::StatsSnapshotMeta> {
        Ok(retrying(|| snapshots::write(&self.pool, &params)).await?)
    }

    async fn stats_snapshot_current_id(
        &self,
    ) -> StoreResult<Option<tidings_store::StatsSnapshotId>> {
        Ok(snapshots::current_id(&self.pool).await?)
    }

    async fn stats_snapshot_current(&self) -> StoreResult<Option<tidings_store::StatsSnapshot>> {
        Ok(snapshots::current(&self.pool).await?)
    }
}
