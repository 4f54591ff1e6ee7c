//! What the engine tells its subscribers.

use jiff::Timestamp;
use tidings_store::{Run, RunId, ScheduleId};

/// Something the engine did.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// A schedule's due occurrences were fired.
    Fired {
        schedule_id: ScheduleId,
        queued: Vec<RunId>,
        skipped: u64,
        missed: u64,
        next_run_at: Option<Timestamp>,
    },
    /// This instance started executing a run.
    Started { run_id: RunId, attempt: u32 },
    /// A run's attempt ended and was recorded; `run` is its new row (final, or queued again).
    Finished { run: Box<Run> },
    /// A completion was refused: the run was rescued elsewhere after this instance lost its lease.
    CompletionRefused { run_id: RunId },
    /// A run whose lease expired was put back in the queue or failed.
    Rescued { run: Box<Run> },
    /// Startup queued the `run_on_start` schedules.
    StartupQueued { runs: Vec<RunId> },
    /// The engine finished shutting down.
    Stopped,
}
