//! Runs and attempts as stored.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tidings_core::{Occurrences, RetryPolicy, RunState, RunTrigger};

use crate::schedule::ScheduleId;

/// A run's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One execution request and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub schedule_id: Option<ScheduleId>,
    pub kind: String,
    pub params: serde_json::Value,
    pub trigger: RunTrigger,
    /// The occurrence this run is for (its fire key with `schedule_id`); for a `missed` or
    /// `skipped` record, the first occurrence it stands for.
    pub scheduled_for: Option<Timestamp>,
    pub state: RunState,
    /// Attempts started so far (0 while first queued).
    pub attempt: u32,
    pub retry: RetryPolicy,
    pub timeout: SignedDuration,
    /// Not to be claimed before this instant (retry backoff, snooze).
    pub run_after: Timestamp,
    pub created_at: Timestamp,
    /// When the first attempt started.
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// The instance holding the lease while running.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    pub cancel_requested: bool,
    /// The last error.
    pub error: Option<String>,
    /// What the job returned, e.g. `{"fetched":5123,"inserted":12}`.
    pub summary: Option<serde_json::Value>,
    /// The job's latest progress report.
    pub progress: Option<serde_json::Value>,
    /// For `missed` and `skipped` records: the occurrences they stand for.
    pub occurrences: Option<Occurrences>,
    /// The run this one follows up: for a webhook delivery, the finished run it reports.
    pub parent_run_id: Option<RunId>,
}

/// One try of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub run_id: RunId,
    /// 1-based.
    pub number: u32,
    pub instance: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// How it ended: `succeeded`, `failed` (also when the run is retried, and when its worker
    /// was lost), `timed_out`, `cancelled`, or `queued` when it was put back without counting
    /// (a snooze, a shutdown). `None` while it runs.
    pub outcome: Option<RunState>,
    pub error: Option<String>,
}

/// How an attempt ended, as reported by the worker that ran it.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Succeeded {
        summary: Option<serde_json::Value>,
    },
    /// The job failed. With `retry_at`, the run goes back to `queued` until then; without, it
    /// ends `failed`.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
    /// The attempt passed its timeout; retried like a failure.
    TimedOut {
        error: String,
        retry_at: Option<Timestamp>,
    },
    Cancelled {
        reason: String,
    },
    /// The job asked to be tried again at `until`; the attempt does not count.
    Snoozed {
        until: Timestamp,
    },
    /// Put back in the queue unfinished (shutdown); the attempt does not count.
    Requeued {
        reason: String,
    },
}
