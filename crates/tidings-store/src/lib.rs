//! The storage seam of tidings. The engine, the API and the CLI hold an `Arc<dyn Store>` and
//! never know which database is under it; each backend (`tidings-store-sqlite`,
//! `tidings-store-postgres`) owns its SQL and migrations, and both pass one conformance suite
//! (`tidings-storetest`).
//!
//! Operations are cut at domain level, named entity-then-verb, each taking one params struct.
//! Every run transition is one store operation, guarded by the state it expects, and updates the
//! schedule's statistics in the same transaction.

mod api_key;
mod error;
mod feedback;
mod instance;
mod run;
mod schedule;
mod stats;
mod transition;
mod webhook;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use tidings_core::{Occurrences, RetryPolicy, RunState, RunTrigger};

pub use api_key::{ApiKey, ApiKeyCreateParams, ApiKeyId, ApiKeyRole};
pub use error::StoreError;
pub use feedback::{
    FEEDBACK_PAGE_MAX, Feedback, FeedbackCursor, FeedbackId, FeedbackListParams, FeedbackRecord,
    FeedbackReplaceParams, FeedbackSort, FeedbackSortKey, FeedbackUpsertParams, FeedbackWritten,
    RawJson, SentimentOrigin, SortOrder, SourceFile, SourceState, SourceStateParams, SyncMode,
};
pub use instance::Instance;
pub use run::{Attempt, Run, RunId, RunOutcome};
pub use schedule::{
    Schedule, ScheduleId, ScheduleKey, ScheduleName, ScheduleNameError, ScheduleOrigin,
    SchedulePolicy, ScheduleSpec, ScheduleStats,
};
pub use stats::{
    FeedbackStatsItem, FeedbackStatsScanParams, FeedbackStatsScanned, GroupStats, RatingStats,
    SentimentShares, SentimentStats, StatsGroupError, StatsGrouping, StatsPeriod, StatsRow,
    StatsSnapshot, StatsSnapshotId, StatsSnapshotMeta, StatsSnapshotWriteParams, TagCount,
};
pub use transition::RunTransition;
pub use webhook::{WEBHOOK_KIND, WEBHOOK_RETRY, WEBHOOK_TIMEOUT, WebhookDelivery};

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

/// A migration applied by [`Store::migrate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
}

/// A page of a list, oldest-first or newest-first as the list defines, with the cursor of the
/// next page if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; pass it back as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

/// `schedule_create`.
#[derive(Debug, Clone)]
pub struct ScheduleCreateParams {
    pub spec: ScheduleSpec,
    pub origin: ScheduleOrigin,
    pub now: Timestamp,
    /// The first occurrence to fire, computed by the caller from the trigger (`None` when the
    /// schedule is disabled or the trigger has none).
    pub next_run_at: Option<Timestamp>,
}

/// `schedule_update`: replaces the editable fields of an existing schedule. Statistics and
/// history are kept.
#[derive(Debug, Clone)]
pub struct ScheduleUpdateParams {
    pub id: ScheduleId,
    pub spec: ScheduleSpec,
    pub now: Timestamp,
    pub next_run_at: Option<Timestamp>,
}

/// `schedule_list`: newest first by id; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct ScheduleListParams {
    pub enabled: Option<bool>,
    pub kind: Option<String>,
    pub source: Option<String>,
    /// Schedules carrying this tag.
    pub tag: Option<String>,
    /// A case-insensitive substring of the name or description.
    pub text: Option<String>,
    pub origin: Option<ScheduleOrigin>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// `schedule_fire_due`: fires the due occurrences of up to `limit` schedules.
#[derive(Debug, Clone)]
pub struct ScheduleFireDueParams {
    pub now: Timestamp,
    pub limit: u32,
}

/// What firing one schedule did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleFired {
    pub schedule_id: ScheduleId,
    /// Runs queued, one per occurrence run.
    pub queued: Vec<Run>,
    /// Occurrences recorded `skipped`.
    pub skipped: u64,
    /// The `missed` record written, if any.
    pub missed: Option<Occurrences>,
    pub next_run_at: Option<Timestamp>,
}

/// `run_enqueue`: a run not made by the schedule's trigger.
#[derive(Debug, Clone)]
pub struct RunEnqueueParams {
    /// The schedule it runs as (kind, params and policy are then the schedule's unless given).
    pub schedule_id: Option<ScheduleId>,
    pub kind: String,
    pub params: serde_json::Value,
    pub trigger: RunTrigger,
    pub retry: RetryPolicy,
    pub timeout: SignedDuration,
    pub run_after: Timestamp,
    pub now: Timestamp,
    /// Refuse (with [`RunEnqueued::AtCapacity`]) when the schedule already has this many runs
    /// queued or running.
    pub max_instances: Option<u32>,
    /// The run this one follows up (a webhook delivery's finished run).
    pub parent_run_id: Option<RunId>,
}

/// Refuses a batch holding a schedule's run, for [`Store::run_enqueue_batch`].
pub fn check_adhoc_batch(runs: &[RunEnqueueParams]) -> StoreResult<()> {
    match runs.iter().find_map(|run| run.schedule_id) {
        Some(schedule) => Err(StoreError::Internal(format!(
            "run_enqueue_batch queues ad-hoc runs only; a run of schedule {} was given",
            schedule.0
        ))),
        None => Ok(()),
    }
}

/// The outcome of `run_enqueue`.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnqueued {
    Queued(Box<Run>),
    /// The schedule's `max_instances` runs are already queued or running: these.
    AtCapacity(Vec<Run>),
}

/// `run_list`: newest first by id; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct RunListParams {
    pub schedule_id: Option<ScheduleId>,
    pub kind: Option<String>,
    pub states: Vec<RunState>,
    pub trigger: Option<RunTrigger>,
    /// Runs whose `parent_run_id` is this run (its webhook deliveries).
    pub parent: Option<RunId>,
    /// Runs created at or after this instant.
    pub created_from: Option<Timestamp>,
    /// Runs created before this instant.
    pub created_to: Option<Timestamp>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// `run_claim`: takes up to `limit` queued runs whose `run_after` has come, oldest `run_after`
/// first, and marks them `running` for `instance` with a lease until `now + lease`. A run is
/// never handed to two claimers. Runs of a schedule that already has `max_instances` runs
/// running are left queued.
#[derive(Debug, Clone)]
pub struct RunClaimParams {
    pub instance: String,
    pub now: Timestamp,
    pub lease: SignedDuration,
    pub limit: u32,
    /// Only these kinds (the kinds this instance can run); empty for any.
    pub kinds: Vec<String>,
    /// Only this run (`tidings sync` runs the one it queued in the foreground); `None` for
    /// the head of the queue.
    pub only: Option<RunId>,
}

/// `run_heartbeat`: renews the leases `instance` holds on `runs`.
#[derive(Debug, Clone)]
pub struct RunHeartbeatParams {
    pub instance: String,
    pub runs: Vec<RunId>,
    pub now: Timestamp,
    pub lease: SignedDuration,
}

/// What a heartbeat found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunHeartbeat {
    /// Runs whose lease was renewed.
    pub renewed: Vec<RunId>,
    /// Runs this instance no longer holds (rescued by another instance, or gone): stop them.
    pub lost: Vec<RunId>,
    /// Runs someone asked to cancel: cancel their jobs.
    pub cancel_requested: Vec<RunId>,
}

/// One finished attempt, as reported to `run_complete`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCompletion {
    pub run_id: RunId,
    /// The lease holder; a completion from an instance that no longer holds the lease is refused.
    pub instance: String,
    /// The attempt number being completed.
    pub attempt: u32,
    pub finished_at: Timestamp,
    pub outcome: RunOutcome,
}

/// The outcome of `run_complete`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunCompleted {
    /// Runs updated, in their new state.
    pub completed: Vec<Run>,
    /// Completions refused because the run is no longer `running` under that instance and
    /// attempt (its lease expired and it was rescued).
    pub refused: Vec<RunId>,
}

/// `run_cancel`: a queued run is cancelled at once; a running one gets `cancel_requested`, which
/// its worker sees at its next heartbeat.
#[derive(Debug, Clone)]
pub struct RunCancelParams {
    pub id: RunId,
    pub now: Timestamp,
    pub reason: String,
}

/// `run_rescue_expired`: runs `running` whose lease expired before `now`. Each rescued
/// attempt ends with the error "worker lost"; the run is queued again after its retry backoff
/// if attempts are left, otherwise it fails.
#[derive(Debug, Clone)]
pub struct RunRescueParams {
    pub now: Timestamp,
    pub limit: u32,
}

/// A change that another process (or this one) made, as a [`ChangeFeed`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChange {
    /// Runs were queued: idle workers should claim.
    RunsQueued,
    /// A schedule was created, changed or deleted: the firing timer should look again.
    SchedulesChanged,
    /// The feed's connection was lost and is being re-established: changes made meanwhile were
    /// not reported, so look at everything again.
    Reconnected,
}

/// Changes as they happen, for instances that would otherwise only notice them at their next
/// poll.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The next change; waits for it. `None` when the feed has ended for good.
    async fn next(&mut self) -> Option<StoreChange>;
}

/// The operations tidings needs from a database.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn kind(&self) -> StoreKind;

    /// True when the store can wake other processes on new runs (PostgreSQL LISTEN/NOTIFY).
    fn supports_listen_notify(&self) -> bool;

    /// True when several `tidings serve` processes may share the store.
    fn supports_multiple_instances(&self) -> bool;

    /// Applies pending migrations and returns the ones applied now (empty when up to date).
    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>>;

    /// One trivial round trip to the database (`SELECT 1`), for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// A feed of the changes made to the store by any process (PostgreSQL `LISTEN/NOTIFY`);
    /// `None` when the store has none (SQLite, where one process does everything and knows).
    async fn changes(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>>;

    /// Registers `instance` (or renews it, when its id is already there).
    async fn instance_register(&self, instance: Instance) -> StoreResult<()>;

    /// Records a heartbeat of instance `id` at `now`; false when it is not registered (it was
    /// pruned as dead), so that it can register again.
    async fn instance_seen(&self, id: &str, now: Timestamp) -> StoreResult<bool>;

    /// The registered instances, oldest first.
    async fn instance_list(&self) -> StoreResult<Vec<Instance>>;

    /// Removes instance `id` (it stops cleanly). Nothing happens when it is not registered.
    async fn instance_remove(&self, id: &str) -> StoreResult<()>;

    /// Removes the instances last seen before `seen_before`, and returns their ids. Safe to run
    /// from several instances at once.
    async fn instance_prune(&self, seen_before: Timestamp) -> StoreResult<Vec<String>>;

    /// Deletes up to `limit` ended runs (succeeded, failed, timed out, cancelled, skipped,
    /// missed) that finished before `finished_before`, with their attempts, and returns how
    /// many. A run with a webhook delivery still queued or running is kept. Safe to run from
    /// several instances at once.
    async fn run_prune(&self, finished_before: Timestamp, limit: u32) -> StoreResult<u64>;

    /// Creates a schedule. `Conflict` when the name is taken.
    async fn schedule_create(&self, params: ScheduleCreateParams) -> StoreResult<Schedule>;

    async fn schedule_get(&self, key: &ScheduleKey) -> StoreResult<Schedule>;

    async fn schedule_list(&self, params: ScheduleListParams) -> StoreResult<Page<Schedule>>;

    /// Replaces a schedule's editable fields. `Conflict` when renamed onto a taken name.
    async fn schedule_update(&self, params: ScheduleUpdateParams) -> StoreResult<Schedule>;

    /// Deletes a schedule. Its queued runs are cancelled; its runs are kept, with `schedule_id`
    /// cleared. `NotFound` when there is no such schedule. No webhook is queued for the runs it
    /// cancels: the schedule, and with it its `callback_url`, is gone.
    async fn schedule_delete(&self, id: ScheduleId, now: Timestamp) -> StoreResult<()>;

    /// The earliest `next_run_at` of enabled schedules, for the scheduler's timer.
    async fn schedule_next_due_at(&self) -> StoreResult<Option<Timestamp>>;

    /// Fires the occurrences due at `now` of up to `limit` enabled schedules, each in one
    /// transaction: counts the schedule's queued and running runs, plans with
    /// [`tidings_core::plan_fire`], inserts the runs (fire key `(schedule_id, scheduled_for)`
    /// unique: a second instance racing for the same occurrence inserts nothing), the `skipped`
    /// records and one `missed` record, and advances `next_run_at`, all or nothing.
    async fn schedule_fire_due(
        &self,
        params: ScheduleFireDueParams,
    ) -> StoreResult<Vec<ScheduleFired>>;

    /// Queues a run outside the schedule's trigger (manual, API, startup).
    async fn run_enqueue(&self, params: RunEnqueueParams) -> StoreResult<RunEnqueued>;

    /// Queues ad-hoc runs (no schedule) together, in one transaction: all of them or none.
    /// Returns them in the order given. A run with a `schedule_id` is refused
    /// ([`StoreError::Internal`]): schedule runs go through [`Store::run_enqueue`], which checks
    /// `max_instances`.
    async fn run_enqueue_batch(&self, runs: Vec<RunEnqueueParams>) -> StoreResult<Vec<Run>>;

    async fn run_get(&self, id: RunId) -> StoreResult<Run>;

    async fn run_list(&self, params: RunListParams) -> StoreResult<Page<Run>>;

    /// A run's attempts, first to last.
    async fn run_attempts(&self, id: RunId) -> StoreResult<Vec<Attempt>>;

    async fn run_claim(&self, params: RunClaimParams) -> StoreResult<Vec<Run>>;

    async fn run_heartbeat(&self, params: RunHeartbeatParams) -> StoreResult<RunHeartbeat>;

    /// Records finished attempts, each guarded by state `running`, lease owner and attempt
    /// number, and updates the schedules' statistics in the same transaction. A run that ends
    /// (not one queued again for a retry) of a schedule with a `callback_url` gets its
    /// [`WebhookDelivery`] queued in that transaction too.
    async fn run_complete(&self, completions: Vec<RunCompletion>) -> StoreResult<RunCompleted>;

    /// Cancels a queued run at once (queueing its [`WebhookDelivery`] when its schedule has a
    /// `callback_url`), or asks a running one to stop.
    async fn run_cancel(&self, params: RunCancelParams) -> StoreResult<Run>;

    /// Rescues runs whose lease expired; one that fails (or is cancelled) for it gets its
    /// [`WebhookDelivery`] queued as [`Store::run_complete`] does.
    async fn run_rescue_expired(&self, params: RunRescueParams) -> StoreResult<Vec<Run>>;

    /// The earliest `run_after` of queued runs, for the workers' timer.
    async fn run_next_available_at(&self) -> StoreResult<Option<Timestamp>>;

    /// Queued runs whose `run_after` has come.
    async fn run_queue_depth(&self, now: Timestamp) -> StoreResult<u64>;

    /// Records a running job's progress report.
    async fn run_progress(&self, id: RunId, progress: serde_json::Value) -> StoreResult<()>;

    // API keys

    /// Stores a new key. `Conflict` when an active key already has this name, or (unlikely for
    /// a random prefix) any key has this prefix.
    async fn api_key_create(&self, params: ApiKeyCreateParams) -> StoreResult<ApiKey>;

    /// Every key, revoked ones included, oldest first.
    async fn api_key_list(&self) -> StoreResult<Vec<ApiKey>>;

    /// The active key with this prefix and its stored hash, for checking a presented key.
    async fn api_key_lookup(&self, prefix: &str) -> StoreResult<Option<(ApiKey, Vec<u8>)>>;

    /// Revokes the active key with this name or, failing that, this prefix. `NotFound` when
    /// there is none.
    async fn api_key_revoke(&self, name_or_prefix: &str, now: Timestamp) -> StoreResult<ApiKey>;

    /// Records that the key was used at `now` (never moving `last_used_at` back). `NotFound`
    /// when there is no such key.
    async fn api_key_touch(&self, id: ApiKeyId, now: Timestamp) -> StoreResult<()>;

    /// Keys not revoked.
    async fn api_key_count_active(&self) -> StoreResult<u64>;

    // Feedback cache

    /// A full sync: in one transaction, the records become the source's whole set. New ones
    /// are inserted, changed ones (by [`FeedbackRecord::content_hash`]) rewritten, unchanged
    /// ones left as they are (`synced_at` kept), and the source's records not in the set
    /// deleted. Readers see the old set or the new one, never half. Other sources are not
    /// touched. `Conflict` when an `external_id` appears twice in the set; any error leaves
    /// the previous set whole.
    async fn feedback_replace_source(
        &self,
        params: FeedbackReplaceParams,
    ) -> StoreResult<FeedbackWritten>;

    /// An incremental sync or one CSV file: inserts and rewrites as
    /// [`Store::feedback_replace_source`] does, in one transaction, and deletes nothing.
    async fn feedback_upsert(&self, params: FeedbackUpsertParams) -> StoreResult<FeedbackWritten>;

    /// `NotFound` when there is no such record.
    async fn feedback_get(&self, id: FeedbackId) -> StoreResult<Feedback>;

    /// A page of cached records; see [`FeedbackListParams`].
    async fn feedback_list(&self, params: FeedbackListParams) -> StoreResult<Page<Feedback>>;

    /// Cached records of `source`, or of every source.
    async fn feedback_count(&self, source: Option<&str>) -> StoreResult<u64>;

    /// The source's sync bookkeeping; `None` before its first sync.
    async fn source_state_get(&self, source: &str) -> StoreResult<Option<SourceState>>;

    /// Records a finished sync and returns the state as it now is.
    async fn source_state_record(&self, params: SourceStateParams) -> StoreResult<SourceState>;

    /// The file as last imported for `source`, if it was.
    async fn source_file_get(&self, source: &str, path: &str) -> StoreResult<Option<SourceFile>>;

    /// Records (or replaces the record of) an imported file.
    async fn source_file_record(&self, file: SourceFile) -> StoreResult<()>;

    // Dashboard statistics

    /// Streams the statistics columns of the records created in the params' window to `sink`,
    /// in no particular order, in one read (one statement), and counts the records without
    /// `created_at`.
    async fn feedback_stats_scan(
        &self,
        params: FeedbackStatsScanParams,
        sink: &mut (dyn FnMut(FeedbackStatsItem) + Send),
    ) -> StoreResult<FeedbackStatsScanned>;

    /// Writes a statistics snapshot and makes it the current one, deleting the previous one,
    /// all in one transaction: readers see the previous snapshot or this one, never a mix.
    async fn stats_snapshot_write(
        &self,
        params: StatsSnapshotWriteParams,
    ) -> StoreResult<StatsSnapshotMeta>;

    /// The current snapshot's id: one indexed row, cheap enough to ask on every request.
    async fn stats_snapshot_current_id(&self) -> StoreResult<Option<StatsSnapshotId>>;

    /// The current snapshot, metadata and rows, read consistently.
    async fn stats_snapshot_current(&self) -> StoreResult<Option<StatsSnapshot>>;
}
