//! Jobs: the registered kinds of work a run can be, with typed params checked when a schedule
//! is created, and the context a running job gets (cancellation, clock, store, progress).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;
use tidings_core::{Clock, RetryPolicy};
use tidings_store::{Run, RunId, Store};
use tokio_util::sync::CancellationToken;

/// How a job failed, and what the engine should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt after the backoff (a timeout, a 503, a dropped connection).
    #[error("{0}")]
    Retryable(String),
    /// Retrying cannot help (bad credentials, a 404, invalid params): fail now.
    #[error("{0}")]
    Fatal(String),
    /// Stop and record the run as cancelled.
    #[error("{0}")]
    Cancel(String),
    /// Try again after this long without counting the attempt (e.g. a rate-limit penalty).
    #[error("snoozed for {0:?}")]
    Snooze(SignedDuration),
}

impl JobError {
    pub fn retryable(message: impl fmt::Display) -> JobError {
        JobError::Retryable(message.to_string())
    }

    pub fn fatal(message: impl fmt::Display) -> JobError {
        JobError::Fatal(message.to_string())
    }
}

/// Params that do not fit a job kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid params for job kind `{kind}`: {message}")]
pub struct ParamsError {
    pub kind: String,
    /// The offending field, when known.
    pub field: Option<String>,
    pub message: String,
}

/// Reports a running job's progress; the latest report is stored on the run.
#[derive(Clone)]
pub struct Progress {
    store: Arc<dyn Store>,
    run_id: RunId,
}

impl Progress {
    /// Stores `progress` (e.g. `{"page": 37, "pages": 52}`) on the run. A failure to store it is
    /// logged, never fatal to the job.
    pub async fn report(&self, progress: serde_json::Value) {
        if let Err(error) = self.store.run_progress(self.run_id, progress).await {
            tracing::warn!(run_id = %self.run_id, %error, "could not record progress");
        }
    }
}

/// What a running job gets.
#[derive(Clone)]
pub struct JobContext {
    /// The run being executed, as claimed (its `attempt` is this attempt's number).
    pub run: Run,
    /// Fires when the run is cancelled, times out, loses its lease or the service shuts down.
    pub cancel: CancellationToken,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<dyn Store>,
    pub progress: Progress,
}

impl JobContext {
    /// A context for `run`. The engine makes one per attempt; tests and tools that run a job
    /// directly make their own.
    pub fn new(
        run: Run,
        cancel: CancellationToken,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
    ) -> JobContext {
        let progress = Progress {
            store: store.clone(),
            run_id: run.id,
        };
        JobContext {
            run,
            cancel,
            clock,
            store,
            progress,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// How runs of a kind are retried and timed out when their schedule does not say otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindDefaults {
    pub retry: RetryPolicy,
    pub timeout: SignedDuration,
}

impl Default for KindDefaults {
    fn default() -> Self {
        KindDefaults {
            retry: RetryPolicy::default(),
            timeout: SignedDuration::from_secs(3600),
        }
    }
}

/// A kind of work. Implement [`TypedJob`] instead to get params checked and parsed for you.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    /// The kind's name, as schedules and runs refer to it.
    fn kind(&self) -> &'static str;

    /// Retry and timeout for schedules of this kind that do not set their own.
    fn defaults(&self) -> KindDefaults {
        KindDefaults::default()
    }

    /// Checks params when a schedule or run is created, so bad params are a 422 then, not a
    /// failed run later.
    fn validate(&self, params: &serde_json::Value) -> Result<(), ParamsError>;

    /// Does the work; returns a JSON summary stored on the run.
    async fn run(&self, ctx: JobContext) -> Result<serde_json::Value, JobError>;
}

/// A job with typed params.
#[async_trait]
pub trait TypedJob: Send + Sync + 'static {
    const KIND: &'static str;
    type Params: DeserializeOwned + Send + 'static;

    /// Checks what serde cannot (a URL's scheme, a positive number).
    fn check(&self, _params: &Self::Params) -> Result<(), ParamsError> {
        Ok(())
    }

    /// Retry and timeout for schedules of this kind that do not set their own.
    fn defaults(&self) -> KindDefaults {
        KindDefaults::default()
    }

    async fn run(
        &self,
        params: Self::Params,
        ctx: JobContext,
    ) -> Result<serde_json::Value, JobError>;
}

fn parse_params<J: TypedJob>(params: &serde_json::Value) -> Result<J::Params, ParamsError> {
    serde_json::from_value(params.clone()).map_err(|error| ParamsError {
        kind: J::KIND.to_owned(),
        field: field_of(&error.to_string()),
        message: error.to_string(),
    })
}

/// serde names the field in messages like "missing field `url`" or "unknown field `x`".
fn field_of(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

#[async_trait]
impl<J: TypedJob> Job for J {
    fn kind(&self) -> &'static str {
        J::KIND
    }

    fn defaults(&self) -> KindDefaults {
        TypedJob::defaults(self)
    }

    fn validate(&self, params: &serde_json::Value) -> Result<(), ParamsError> {
        let parsed = parse_params::<J>(params)?;
        self.check(&parsed)
    }

    async fn run(&self, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let params = parse_params::<J>(&ctx.run.params).map_err(JobError::fatal)?;
        TypedJob::run(self, params, ctx).await
    }
}

/// The job kinds an instance can run.
#[derive(Clone, Default)]
pub struct JobRegistry {
    jobs: BTreeMap<&'static str, Arc<dyn Job>>,
}

impl JobRegistry {
    pub fn new() -> JobRegistry {
        JobRegistry::default()
    }

    /// Adds a kind; a later registration of the same kind replaces the earlier one.
    pub fn register(&mut self, job: impl Job) -> &mut Self {
        self.jobs.insert(job.kind(), Arc::new(job));
        self
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn Job>> {
        self.jobs.get(kind).cloned()
    }

    /// The retry and timeout defaults of `kind` (the general defaults for an unknown kind).
    pub fn defaults(&self, kind: &str) -> KindDefaults {
        self.jobs
            .get(kind)
            .map_or_else(KindDefaults::default, |job| job.defaults())
    }

    pub fn kinds(&self) -> Vec<String> {
        self.jobs.keys().map(|k| (*k).to_owned()).collect()
    }

    /// Checks that `kind` exists and `params` fit it.
    pub fn validate(&self, kind: &str, params: &serde_json::Value) -> Result<(), ParamsError> {
        match self.jobs.get(kind) {
            Some(job) => job.validate(params),
            None => Err(ParamsError {
                kind: kind.to_owned(),
                field: Some("kind".to_owned()),
                message: format!(
                    "unknown job kind `{kind}`; known kinds: {}",
                    self.kinds().join(", ")
                ),
            }),
        }
    }
}

impl fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.jobs.keys()).finish()
    }
}
