//! The run lifecycle of DESIGN.md ("Run lifecycle"): the states a run moves through, what
//! created it, and which transitions are allowed.
//!
//! ```text
//!  queued ──claim──> running ──ok──> succeeded
//!    │                 ├─error/timeout, attempts left──> queued (after a backoff)
//!    │                 ├─error/timeout, none left──────> failed | timed_out
//!    │                 ├─cancel────────────────────────> cancelled
//!    │                 └─lease expired─────────────────> queued again or failed
//!    ├─ cancel ───────────────────────────────────────> cancelled
//!    └─ never started ─> skipped (max_instances reached) | missed (past misfire grace)
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a run is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    Skipped,
    Missed,
}

impl RunState {
    pub const ALL: [RunState; 8] = [
        RunState::Queued,
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::TimedOut,
        RunState::Cancelled,
        RunState::Skipped,
        RunState::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::TimedOut => "timed_out",
            RunState::Cancelled => "cancelled",
            RunState::Skipped => "skipped",
            RunState::Missed => "missed",
        }
    }

    /// A run in a final state never changes again.
    pub fn is_final(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running)
    }

    /// Queued or running: counts against a schedule's `max_instances`.
    pub fn is_active(self) -> bool {
        matches!(self, RunState::Queued | RunState::Running)
    }

    /// Whether the lifecycle allows moving from `self` to `to`.
    pub fn can_become(self, to: RunState) -> bool {
        use RunState::*;
        matches!(
            (self, to),
            (Queued, Running | Cancelled)
                | (Running, Succeeded | Failed | TimedOut | Cancelled | Queued)
        )
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of [`RunState`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown run state `{0}`: expected one of queued, running, succeeded, failed, timed_out, cancelled, skipped, missed"
)]
pub struct UnknownRunState(pub String);

impl FromStr for RunState {
    type Err = UnknownRunState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownRunState(s.to_owned()))
    }
}

/// What created a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// An occurrence of the schedule's trigger.
    Schedule,
    /// Someone asked for the schedule to run now (`tidings schedules run`, `POST …/run`).
    Manual,
    /// An ad-hoc run of a job kind (`POST /api/runs`).
    Api,
    /// A `run_on_start` schedule at startup.
    Startup,
    /// A delivery of a finished run to its schedule's `callback_url`, queued by the store in the
    /// transaction that ended that run.
    Webhook,
}

impl RunTrigger {
    pub const ALL: [RunTrigger; 5] = [
        RunTrigger::Schedule,
        RunTrigger::Manual,
        RunTrigger::Api,
        RunTrigger::Startup,
        RunTrigger::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Schedule => "schedule",
            RunTrigger::Manual => "manual",
            RunTrigger::Api => "api",
            RunTrigger::Startup => "startup",
            RunTrigger::Webhook => "webhook",
        }
    }
}

impl fmt::Display for RunTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trigger name that is not one of [`RunTrigger`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run trigger `{0}`: expected one of schedule, manual, api, startup, webhook")]
pub struct UnknownRunTrigger(pub String);

impl FromStr for RunTrigger {
    type Err = UnknownRunTrigger;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunTrigger::ALL
            .into_iter()
            .find(|trigger| trigger.as_str() == s)
            .ok_or_else(|| UnknownRunTrigger(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in RunState::ALL {
            assert_eq!(state.as_str().parse::<RunState>().unwrap(), state);
            assert_eq!(
                serde_json::to_string(&state).unwrap(),
                format!("\"{state}\"")
            );
        }
        for trigger in RunTrigger::ALL {
            assert_eq!(trigger.as_str().parse::<RunTrigger>().unwrap(), trigger);
        }
        assert!("done".parse::<RunState>().is_err());
    }

    #[test]
    fn lifecycle_transitions() {
        use RunState::*;
        assert!(Queued.can_become(Running));
        assert!(Queued.can_become(Cancelled));
        assert!(!Queued.can_become(Succeeded));
        assert!(Running.can_become(Queued)); // a retry, a rescue or a shutdown
        assert!(Running.can_become(TimedOut));
        for state in RunState::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(
                RunState::ALL.iter().all(|&to| !state.can_become(to)),
                "{state}"
            );
        }
        assert!(Queued.is_active() && Running.is_active() && !Missed.is_active());
    }
}
