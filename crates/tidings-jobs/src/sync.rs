//! `sync`: brings a configured source's feedback into the store.
//!
//! For a CSV source ([`SourceDef::Csv`]):
//!
//! - **incremental** (the default) imports each file that is new or changed since it was last
//!   imported (by size, mtime and SHA-256), one transaction per file, and deletes nothing. A
//!   file that fails (not UTF-8, too many bad rows, changed since it was listed, unreadable)
//!   fails the run with the reader's message, which names the file; the files imported before
//!   it stay imported, each having been its own transaction, and the next run picks up from
//!   the failed file.
//! - **full** reads every file, whatever was imported before, merges their records in file
//!   order (a later file's record wins over an earlier one with the same id) and makes them the
//!   source's whole set in one transaction: records no file has any more are deleted. A file
//!   that fails fails the run before anything is written.
//!
//! For an Airtable source ([`SourceDef::Airtable`]):
//!
//! - **full** lists every record the source's `filter_formula` selects, then in **one
//!   transaction** upserts them all and deletes the source's records that are gone. Until that
//!   commit readers see the previous records, whole; a listing that fails at page 37 of 52
//!   changes nothing and fails the run with the reader's reason.
//! - **incremental** lists the records modified after the watermark minus the source's
//!   `overlap` (5 minutes by default) and upserts them; nothing is deleted (records deleted in
//!   Airtable leave the cache at the next full sync). Without a watermark yet, it reads every
//!   record. The watermark advances only when the sync succeeds.
//!
//! Requests go through the process's one [`AirtableClient`], whose limiter keeps every listing
//! of a base under Airtable's 5 requests per second together.
//!
//! After a successful sync the source's state records the mode, the run and the watermark (the
//! latest `updated_at`, or `created_at`, of the records read).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use tidings_engine::{JobContext, JobError, ParamsError, TypedJob};
use tidings_sources::airtable::{
    AirtableClient, AirtableError, AirtableListing, AirtableSettings, AirtableSource,
    AirtableToken, ListProgress, ListQuery,
};
use tidings_sources::{CsvError, CsvFile, CsvImport, CsvSource};
use tidings_store::{
    FeedbackRecord, FeedbackReplaceParams, FeedbackUpsertParams, FeedbackWritten, SourceFile,
    SourceStateParams, StoreError, SyncMode,
};

use crate::fields;

/// How many bad rows (and warnings) a summary shows.
const SHOWN_SAMPLES: usize = 10;

/// A configured source (`[sources.NAME]`), as the `sync` job reads it.
#[derive(Debug, Clone)]
pub enum SourceDef {
    Csv(CsvSource),
    Airtable(AirtableSource),
}

/// `sync`'s params: `{"source": "<name>", "mode": "full" | "incremental"}`; `mode` is optional
/// (`incremental` by default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncParams {
    /// The source's name, as configured under `[sources.NAME]`.
    #[serde(default)]
    pub source: Option<Value>,
    /// `full` or `incremental` (default).
    #[serde(default)]
    pub mode: Option<Value>,
}

impl SyncParams {
    /// The source's name (not checked against the configured sources).
    pub fn source(&self) -> Result<String, ParamsError> {
        fields::optional::<String>(SyncJob::KIND, "source", self.source.as_ref())?.ok_or_else(
            || fields::field_error(SyncJob::KIND, "source", "required: the source to sync"),
        )
    }

    /// The sync mode; incremental when not given.
    pub fn mode(&self) -> Result<SyncMode, ParamsError> {
        let mode: Option<String> = fields::optional(SyncJob::KIND, "mode", self.mode.as_ref())?;
        match mode.as_deref() {
            None | Some("incremental") => Ok(SyncMode::Incremental),
            Some("full") => Ok(SyncMode::Full),
            Some(other) => Err(fields::field_error(
                SyncJob::KIND,
                "mode",
                format_args!("unknown mode `{other}`; use `full` or `incremental`"),
            )),
        }
    }
}

/// The `sync` job kind over the configured sources. See the module documentation.
///
/// Its summary: `source`, `mode`, `files` (listed), `files_skipped` (unchanged since their last
/// import), `rows` (read, good and bad), `bad_rows`, `bad_row_samples` (the first 10:
/// `{file, line, problems}`), `warnings` (the first 10, each prefixed with its file),
/// `inserted`, `updated`, `unchanged`, `deleted` and `seconds`. Progress is reported after each
/// file as `{files_done, files, rows}`; a cancellation is honoured between files.
#[derive(Debug, Clone)]
pub struct SyncJob {
    sources: Arc<BTreeMap<String, SourceDef>>,
    /// Shared by every sync this job runs; an error when the HTTP client could not be built.
    airtable: Result<AirtableClient, String>,
    /// Where tokens are read: the process's environment, unless [`SyncJob::with_environment`].
    environment: Option<Arc<BTreeMap<String, String>>>,
    /// The schedule run after each successful sync (the statistics' refresh), if any.
    then_run: Option<String>,
}

impl SyncJob {
    /// A `sync` job that can sync any of `sources`, by name, Airtable sources within
    /// Airtable's published limits.
    pub fn new(sources: BTreeMap<String, SourceDef>) -> SyncJob {
        SyncJob::with_airtable(sources, AirtableSettings::default())
    }

    /// As [`SyncJob::new`], with Airtable's limits, waits and retries as `settings` say (tests
    /// shorten the 30 s penalty).
    pub fn with_airtable(
        sources: BTreeMap<String, SourceDef>,
        settings: AirtableSettings,
    ) -> SyncJob {
        SyncJob {
            sources: Arc::new(sources),
            airtable: AirtableClient::new(settings).map_err(|error| error.to_string()),
            environment: None,
            then_run: None,
        }
    }

    /// After each successful sync, queues a run of the schedule named `schedule` (as `tidings
    /// schedules run` would: nothing is queued while one of its runs is already queued or
    /// running, up to its `max_instances`), so that what depends on the records — the
    /// statistics — follows at once. A schedule of that name that does not exist is ignored.
    pub fn then_run(mut self, schedule: impl Into<String>) -> SyncJob {
        self.then_run = Some(schedule.into());
        self
    }

    async fn queue_follow_up(&self, ctx: &JobContext) {
        let Some(name) = &self.then_run else {
            return;
        };
        let Ok(name) = tidings_store::ScheduleName::parse(name) else {
            return;
        };
        let schedule = match ctx
            .store
            .schedule_get(&tidings_store::ScheduleKey::Name(name))
            .await
        {
            Ok(schedule) if schedule.enabled => schedule,
            Ok(_) | Err(StoreError::NotFound { .. }) => return,
            Err(error) => {
                tracing::warn!(%error, "could not look up the schedule to run after the sync");
                return;
            }
        };
        let now = ctx.now();
        let queued = ctx
            .store
            .run_enqueue(tidings_store::RunEnqueueParams {
                schedule_id: Some(schedule.id),
                kind: schedule.kind.clone(),
                params: schedule.params.clone(),
                trigger: tidings_core::RunTrigger::Manual,
                retry: schedule.policy.retry,
                timeout: schedule.policy.timeout,
                run_after: now,
                now,
                max_instances: Some(schedule.policy.fire.max_instances),
                parent_run_id: None,
            })
            .await;
        match queued {
            Ok(tidings_store::RunEnqueued::Queued(run)) => {
                tracing::info!(schedule = %schedule.name, run_id = %run.id, "queued after the sync");
            }
            Ok(tidings_store::RunEnqueued::AtCapacity(_)) => {}
            Err(error) => {
                tracing::warn!(%error, schedule = %schedule.name, "could not queue the run that follows the sync");
            }
        }
    }

    /// Reads Airtable tokens (`token_env`) from `variables` instead of the process's
    /// environment: for tests, which cannot change the environment of a running process.
    pub fn with_environment(mut self, variables: BTreeMap<String, String>) -> SyncJob {
        self.environment = Some(Arc::new(variables));
        self
    }

    fn token(&self, source: &AirtableSource) -> Result<AirtableToken, AirtableError> {
        let Some(variables) = &self.environment else {
            return source.token();
        };
        match variables.get(&source.token_env) {
            Some(token) if !token.trim().is_empty() => Ok(AirtableToken::new(token.trim())),
            _ => Err(AirtableError::MissingToken {
                env: source.token_env.clone(),
            }),
        }
    }

    fn source(&self, name: &str) -> Result<&SourceDef, ParamsError> {
        self.sources.get(name).ok_or_else(|| {
            let problem = if self.sources.is_empty() {
                "no sources are configured; add one under [sources.NAME] in tidings.toml".to_owned()
            } else {
                let names: Vec<&str> = self.sources.keys().map(String::as_str).collect();
                format!(
                    "unknown source `{name}`; configured sources: {}",
                    names.join(", ")
                )
            };
            ParamsError {
                kind: SyncJob::KIND.to_owned(),
                field: Some("source".to_owned()),
                message: problem,
            }
        })
    }
}

#[async_trait]
impl TypedJob for SyncJob {
    const KIND: &'static str = "sync";
    type Params = SyncParams;

    fn check(&self, params: &SyncParams) -> Result<(), ParamsError> {
        self.source(&params.source()?)?;
        params.mode().map(drop)
    }

    async fn run(&self, params: SyncParams, ctx: JobContext) -> Result<Value, JobError> {
        let name = params.source().map_err(JobError::fatal)?;
        let mode = params.mode().map_err(JobError::fatal)?;
        let source = self.source(&name).map_err(JobError::fatal)?.clone();
        let started = Instant::now();
        let mut sync = SyncRun::new(name, mode, ctx);
        match source {
            SourceDef::Csv(csv) => {
                let csv = Arc::new(csv);
                match mode {
                    SyncMode::Incremental => sync.csv_incremental(&csv).await?,
                    SyncMode::Full => sync.csv_full(&csv).await?,
                }
            }
            SourceDef::Airtable(airtable) => {
                let client = self.airtable.as_ref().map_err(JobError::fatal)?;
                let token = self.token(&airtable).map_err(airtable_error)?;
                sync.airtable(client, &airtable, &token).await?;
            }
        }
        sync.record_state().await?;
        let summary = sync.summary(started.elapsed().as_secs_f64());
        self.queue_follow_up(&sync.ctx).await;
        Ok(summary)
    }
}

/// One sync as it goes: its context and what it has done so far.
struct SyncRun {
    source: String,
    mode: SyncMode,
    ctx: JobContext,
    files: usize,
    files_done: usize,
    files_skipped: usize,
    rows: u64,
    bad_rows: u64,
    bad_row_samples: Vec<Value>,
    warnings: Vec<String>,
    written: FeedbackWritten,
    watermark: Option<Timestamp>,
    /// What an Airtable listing did (`None` for CSV).
    airtable: Option<AirtableSummary>,
}

/// An Airtable sync's own counts.
#[derive(Debug, Default)]
struct AirtableSummary {
    fetched: u64,
    pages: u64,
    requests: u64,
    rate_limited: u64,
    retries: u64,
    restarts: u64,
    /// The instant an incremental sync asked for changes after.
    since: Option<Timestamp>,
}

impl SyncRun {
    fn new(source: String, mode: SyncMode, ctx: JobContext) -> SyncRun {
        SyncRun {
            source,
            mode,
            ctx,
            files: 0,
            files_done: 0,
            files_skipped: 0,
            rows: 0,
            bad_rows: 0,
            bad_row_samples: Vec::new(),
            warnings: Vec::new(),
            written: FeedbackWritten::default(),
            watermark: None,
            airtable: None,
        }
    }

    /// Lists the Airtable source (everything, or what changed since the watermark) and writes
    /// it: full syncs replace the source's records in one transaction, incremental ones upsert.
    async fn airtable(
        &mut self,
        client: &AirtableClient,
        source: &AirtableSource,
        token: &AirtableToken,
    ) -> Result<(), JobError> {
        let since = match self.mode {
            SyncMode::Full => None,
            SyncMode::Incremental => (self.ctx.store)
                .source_state_get(&self.source)
                .await
                .map_err(store_error)?
                .and_then(|state| state.watermark)
                .map(|watermark| source.incremental_since(watermark)),
        };
        let query = ListQuery {
            modified_after: since,
        };
        let listing = self.list_reporting(client, source, token, &query).await?;
        let AirtableListing {
            records,
            bad_records,
            pages,
            requests,
            rate_limited,
            retries,
            restarts,
        } = listing;
        self.rows = records.len() as u64 + bad_records.len() as u64;
        self.bad_rows = bad_records.len() as u64;
        for bad in bad_records.iter().take(SHOWN_SAMPLES) {
            let problems: Vec<String> = bad.problems.iter().map(ToString::to_string).collect();
            self.bad_row_samples
                .push(json!({ "record": bad.id, "problems": problems }));
        }
        self.airtable = Some(AirtableSummary {
            fetched: records.len() as u64,
            pages,
            requests,
            rate_limited,
            retries,
            restarts,
            since,
        });
        self.watermark = records
            .iter()
            .filter_map(|record| record.updated_at.or(record.created_at))
            .max();
        self.check_cancelled()?;
        self.ctx
            .progress
            .report(json!({ "phase": "writing", "records": records.len(), "pages": pages }))
            .await;
        let now = self.ctx.now();
        let written = match self.mode {
            SyncMode::Full => (self.ctx.store)
                .feedback_replace_source(FeedbackReplaceParams {
                    source: self.source.clone(),
                    records,
                    now,
                })
                .await
                .map_err(store_error)?,
            SyncMode::Incremental => (self.ctx.store)
                .feedback_upsert(FeedbackUpsertParams {
                    source: self.source.clone(),
                    records,
                    now,
                })
                .await
                .map_err(store_error)?,
        };
        self.add(written);
        Ok(())
    }

    /// Runs the listing while a task stores its progress on the run (at most every 200 ms,
    /// and the last state when it ends).
    async fn list_reporting(
        &self,
        client: &AirtableClient,
        source: &AirtableSource,
        token: &AirtableToken,
        query: &ListQuery,
    ) -> Result<AirtableListing, JobError> {
        let (tx, mut rx) = tokio::sync::watch::channel(ListProgress::default());
        let progress = self.ctx.progress.clone();
        // At most one report every 200 ms. The throttle's sleep ends as soon as the listing
        // does, so the job waits only for the last report (if not made yet), never for the
        // throttle, before it writes.
        let listed_all = tokio_util::sync::CancellationToken::new();
        let listing_ended = listed_all.clone();
        let reporter = tokio::spawn(async move {
            let mut last = None;
            while rx.changed().await.is_ok() {
                let now = rx.borrow_and_update().clone();
                progress.report(listing_progress(&now)).await;
                last = Some(now);
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                    () = listing_ended.cancelled() => break,
                }
            }
            let now = rx.borrow().clone();
            if last.as_ref() != Some(&now) {
                progress.report(listing_progress(&now)).await;
            }
        });
        let mut on_progress = |state: &ListProgress| {
            tx.send_replace(state.clone());
        };
        let listed = client
            .list(source, token, query, &self.ctx.cancel, &mut on_progress)
            .await;
        drop(tx);
        listed_all.cancel();
        let _ = reporter.await;
        listed.map_err(|error| match error {
            AirtableError::Cancelled => JobError::Cancel(format!(
                "cancelled while reading from Airtable; nothing was written for `{}`",
                self.source
            )),
            other => airtable_error(other),
        })
    }

    /// Imports the files new or changed since their last import, one transaction each.
    async fn csv_incremental(&mut self, csv: &Arc<CsvSource>) -> Result<(), JobError> {
        let files = list_files(csv).await?;
        self.files = files.len();
        for file in files {
            self.check_cancelled()?;
            let path = path_text(&file);
            let known = (self.ctx.store)
                .source_file_get(&self.source, &path)
                .await
                .map_err(store_error)?;
            // The store keeps mtimes to the millisecond; file systems give nanoseconds.
            let unchanged = known.is_some_and(|known| {
                known.size == file.size
                    && known.mtime.as_millisecond() == file.mtime.as_millisecond()
                    && known.sha256 == file.sha256
            });
            if unchanged {
                self.files_skipped += 1;
            } else {
                let import = read_file(csv, &file).await?;
                let rows = import.rows as u64;
                let records = self.take(&file, import);
                let written = (self.ctx.store)
                    .feedback_upsert(FeedbackUpsertParams {
                        source: self.source.clone(),
                        records,
                        now: self.ctx.now(),
                    })
                    .await
                    .map_err(store_error)?;
                self.add(written);
                self.record_file(&file, rows).await?;
            }
            self.file_done().await;
        }
        Ok(())
    }

    /// Reads every file and makes their records the source's whole set in one transaction.
    async fn csv_full(&mut self, csv: &Arc<CsvSource>) -> Result<(), JobError> {
        let files = list_files(csv).await?;
        self.files = files.len();
        let mut records: Vec<FeedbackRecord> = Vec::new();
        // external id → index in `records`
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut rows_by_file = Vec::with_capacity(files.len());
        for file in &files {
            self.check_cancelled()?;
            let import = read_file(csv, file).await?;
            rows_by_file.push(import.rows as u64);
            for record in self.take(file, import) {
                match index.get(&record.external_id) {
                    Some(&at) => records[at] = record,
                    None => {
                        index.insert(record.external_id.clone(), records.len());
                        records.push(record);
                    }
                }
            }
            self.file_done().await;
        }
        self.check_cancelled()?;
        let written = (self.ctx.store)
            .feedback_replace_source(FeedbackReplaceParams {
                source: self.source.clone(),
                records,
                now: self.ctx.now(),
            })
            .await
            .map_err(store_error)?;
        self.add(written);
        for (file, rows) in files.iter().zip(rows_by_file) {
            self.record_file(file, rows).await?;
        }
        Ok(())
    }

    /// Counts what reading `file` gave and returns its records.
    fn take(&mut self, file: &CsvFile, import: CsvImport) -> Vec<FeedbackRecord> {
        let path = path_text(file);
        self.rows += import.rows as u64;
        self.bad_rows += import.bad_rows.len() as u64;
        for bad in &import.bad_rows {
            if self.bad_row_samples.len() == SHOWN_SAMPLES {
                break;
            }
            let problems: Vec<String> = bad.problems.iter().map(ToString::to_string).collect();
            self.bad_row_samples.push(json!({
                "file": path,
                "line": bad.line,
                "problems": problems,
            }));
        }
        for warning in &import.warnings {
            if self.warnings.len() == SHOWN_SAMPLES {
                break;
            }
            self.warnings.push(format!("{path}: {warning}"));
        }
        let latest = import
            .records
            .iter()
            .filter_map(|record| record.updated_at.or(record.created_at))
            .max();
        self.watermark = self.watermark.max(latest);
        import.records
    }

    fn add(&mut self, written: FeedbackWritten) {
        self.written.inserted += written.inserted;
        self.written.updated += written.updated;
        self.written.unchanged += written.unchanged;
        self.written.deleted += written.deleted;
    }

    async fn record_file(&self, file: &CsvFile, rows: u64) -> Result<(), JobError> {
        (self.ctx.store)
            .source_file_record(SourceFile {
                source: self.source.clone(),
                path: path_text(file),
                size: file.size,
                mtime: file.mtime,
                sha256: file.sha256.clone(),
                imported_at: self.ctx.now(),
                rows,
            })
            .await
            .map_err(store_error)
    }

    async fn file_done(&mut self) {
        self.files_done += 1;
        self.ctx
            .progress
            .report(json!({
                "files_done": self.files_done,
                "files": self.files,
                "rows": self.rows,
            }))
            .await;
    }

    fn check_cancelled(&self) -> Result<(), JobError> {
        if self.ctx.cancel.is_cancelled() {
            return Err(JobError::Cancel(format!(
                "cancelled after {} of {} files",
                self.files_done, self.files
            )));
        }
        Ok(())
    }

    async fn record_state(&self) -> Result<(), JobError> {
        (self.ctx.store)
            .source_state_record(SourceStateParams {
                source: self.source.clone(),
                mode: self.mode,
                run_id: Some(self.ctx.run.id),
                at: self.ctx.now(),
                watermark: self.watermark,
            })
            .await
            .map(drop)
            .map_err(store_error)
    }

    fn summary(&self, seconds: f64) -> Value {
        if let Some(airtable) = &self.airtable {
            return json!({
                "source": self.source,
                "mode": match self.mode {
                    SyncMode::Full => "full",
                    SyncMode::Incremental => "incremental",
                },
                "since": airtable.since,
                "fetched": airtable.fetched,
                "inserted": self.written.inserted,
                "updated": self.written.updated,
                "unchanged": self.written.unchanged,
                "deleted": self.written.deleted,
                "bad_records": self.bad_rows,
                "bad_record_samples": self.bad_row_samples,
                "pages": airtable.pages,
                "requests": airtable.requests,
                "rate_limited": airtable.rate_limited,
                "retries": airtable.retries,
                "restarts": airtable.restarts,
                "seconds": (seconds * 1000.0).round() / 1000.0,
            });
        }
        json!({
            "source": self.source,
            "mode": match self.mode {
                SyncMode::Full => "full",
                SyncMode::Incremental => "incremental",
            },
            "files": self.files,
            "files_skipped": self.files_skipped,
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "bad_row_samples": self.bad_row_samples,
            "warnings": self.warnings,
            "inserted": self.written.inserted,
            "updated": self.written.updated,
            "unchanged": self.written.unchanged,
            "deleted": self.written.deleted,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        })
    }
}

/// Lists the source's files off the async threads (each is read to compute its checksum).
async fn list_files(csv: &Arc<CsvSource>) -> Result<Vec<CsvFile>, JobError> {
    let source = csv.clone();
    let files = tokio::task::spawn_blocking(move || source.files())
        .await
        .map_err(|error| JobError::fatal(format_args!("listing the CSV files failed: {error}")))?
        .map_err(csv_error)?;
    if files.is_empty() {
        return Err(JobError::fatal(format_args!(
            "no CSV files at {}",
            csv.path.display()
        )));
    }
    Ok(files)
}

/// Reads one file off the async threads.
async fn read_file(csv: &Arc<CsvSource>, file: &CsvFile) -> Result<CsvImport, JobError> {
    let source = csv.clone();
    let listed = file.clone();
    tokio::task::spawn_blocking(move || source.read_file(&listed))
        .await
        .map_err(|error| {
            JobError::fatal(format_args!(
                "{}: reading the file failed: {error}",
                file.path.display()
            ))
        })?
        .map_err(csv_error)
}

fn path_text(file: &CsvFile) -> String {
    file.path.to_string_lossy().into_owned()
}

/// A listing's progress as stored on the run.
fn listing_progress(state: &ListProgress) -> Value {
    json!({
        "phase": "fetching",
        "pages": state.pages,
        "records": state.records,
        "requests": state.requests,
        "rate_limited": state.rate_limited,
        "retries": state.retries,
        "waiting_seconds": state.waiting.map(|wait| wait.as_secs_f64()),
    })
}

/// Airtable errors that a later attempt can get past (retries exhausted on 5xx or the network,
/// an expiring listing) are retryable; the ones that need a change of configuration or token
/// are not.
fn airtable_error(error: AirtableError) -> JobError {
    if error.is_transient() {
        JobError::retryable(error)
    } else {
        JobError::fatal(error)
    }
}

/// Every CSV error is about the file or the configuration: another attempt would meet it again.
fn csv_error(error: CsvError) -> JobError {
    JobError::fatal(error)
}

fn store_error(error: StoreError) -> JobError {
    if error.is_unavailable() {
        JobError::retryable(error)
    } else {
        JobError::fatal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_store_is_worth_a_retry_and_other_store_errors_are_not() {
        assert_eq!(
            store_error(StoreError::Unavailable("connection refused".to_owned())),
            JobError::Retryable("the store is unavailable: connection refused".to_owned())
        );
        assert_eq!(
            store_error(StoreError::Conflict("duplicate id".to_owned())),
            JobError::Fatal("duplicate id".to_owned())
        );
    }

    #[test]
    fn mode_defaults_to_incremental() {
        let params = SyncParams {
            source: Some(json!("fb")),
            mode: None,
        };
        assert_eq!(params.mode(), Ok(SyncMode::Incremental));
        assert_eq!(params.source(), Ok("fb".to_owned()));
        let full = SyncParams {
            mode: Some(json!("full")),
            ..params
        };
        assert_eq!(full.mode(), Ok(SyncMode::Full));
    }
}
