//! What leaving `running` does to a run, decided once for every backend: from a worker's
//! report ([`RunCompletion`]) or from a lease that expired. Each backend applies it with its own
//! guarded SQL (still running, under this owner and attempt).

use jiff::Timestamp;
use tidings_core::RunState;

use crate::{Run, RunCompletion, RunId, RunOutcome};

/// A run leaving `running`, and how its attempt ends.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTransition {
    pub run_id: RunId,
    /// The guard: the run must still be running under this owner and attempt.
    pub owner: String,
    pub attempt: u32,
    /// The run's new state.
    pub state: RunState,
    /// When the attempt ended; also the run's `finished_at` when `state` is final.
    pub at: Timestamp,
    /// `Some` when the run is queued again: not to be claimed before then.
    pub run_after: Option<Timestamp>,
    /// Replaces the run's last error when `Some`.
    pub error: Option<String>,
    pub summary: Option<serde_json::Value>,
    /// Snoozed and requeued attempts do not count: the run's attempt goes back by one.
    pub uncount_attempt: bool,
    pub attempt_outcome: RunState,
    pub attempt_error: Option<String>,
}

impl RunTransition {
    /// What a worker's report does (see [`RunOutcome`]).
    pub fn for_completion(completion: &RunCompletion) -> RunTransition {
        let mut transition = RunTransition {
            run_id: completion.run_id,
            owner: completion.instance.clone(),
            attempt: completion.attempt,
            state: RunState::Succeeded,
            at: completion.finished_at,
            run_after: None,
            error: None,
            summary: None,
            uncount_attempt: false,
            attempt_outcome: RunState::Succeeded,
            attempt_error: None,
        };
        match &completion.outcome {
            RunOutcome::Succeeded { summary } => transition.summary = summary.clone(),
            RunOutcome::Failed { error, retry_at } | RunOutcome::TimedOut { error, retry_at } => {
                let outcome = if matches!(completion.outcome, RunOutcome::Failed { .. }) {
                    RunState::Failed
                } else {
                    RunState::TimedOut
                };
                transition.state = if retry_at.is_some() {
                    RunState::Queued
                } else {
                    outcome
                };
                transition.run_after = *retry_at;
                transition.error = Some(error.clone());
                transition.attempt_outcome = outcome;
                transition.attempt_error = Some(error.clone());
            }
            RunOutcome::Cancelled { reason } => {
                transition.state = RunState::Cancelled;
                transition.error = Some(reason.clone());
                transition.attempt_outcome = RunState::Cancelled;
                transition.attempt_error = Some(reason.clone());
            }
            RunOutcome::Snoozed { until } => {
                // The attempt row stays, marked `queued`, until the next claim reuses its number.
                transition.state = RunState::Queued;
                transition.run_after = Some(*until);
                transition.uncount_attempt = true;
                transition.attempt_outcome = RunState::Queued;
                transition.attempt_error = Some(format!("snoozed until {until}"));
            }
            RunOutcome::Requeued { reason } => {
                transition.state = RunState::Queued;
                transition.run_after = Some(completion.finished_at);
                transition.uncount_attempt = true;
                transition.attempt_outcome = RunState::Queued;
                transition.attempt_error = Some(reason.clone());
            }
        }
        transition
    }

    /// A run whose lease expired: the attempt failed ("worker lost"); the run is cancelled if
    /// that was asked, queued again after its backoff if attempts are left, or failed.
    pub fn for_lost_lease(run: &Run, now: Timestamp) -> RunTransition {
        let owner = run.lease_owner.clone().unwrap_or_default();
        let expired_at = run
            .lease_expires_at
            .map(|at| at.to_string())
            .unwrap_or_default();
        let error = format!("worker lost: lease held by {owner} expired at {expired_at}");
        let (state, run_after) = if run.cancel_requested {
            (RunState::Cancelled, None)
        } else if run.retry.retries_after(run.attempt) {
            let seed = u64::try_from(run.id.0).unwrap_or_default();
            let delay = run.retry.delay(run.attempt, seed);
            (RunState::Queued, now.checked_add(delay).ok())
        } else {
            (RunState::Failed, None)
        };
        RunTransition {
            run_id: run.id,
            owner,
            attempt: run.attempt,
            state,
            at: now,
            run_after,
            error: Some(error.clone()),
            summary: None,
            uncount_attempt: false,
            attempt_outcome: RunState::Failed,
            attempt_error: Some(error),
        }
    }

    /// What the schedule's counters gain: (succeeded, failed). `failed` covers `timed_out`.
    pub fn stats(&self) -> (i64, i64) {
        match self.state {
            RunState::Succeeded => (1, 0),
            RunState::Failed | RunState::TimedOut => (0, 1),
            _ => (0, 0),
        }
    }
}
