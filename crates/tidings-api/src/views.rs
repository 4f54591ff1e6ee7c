//! What the API returns: schedules, runs and attempts as JSON, each documented in the OpenAPI
//! document. Schedules also carry the field names of seed 004's API (`schedule_type`,
//! `cron_expression`, `interval_seconds`, `timezone`, `project_name`, `total_runs`,
//! `successful_runs`, `failed_runs`, `last_run_at`), so that its clients keep working.

use jiff::Timestamp;
use serde::Serialize;
use tidings_core::Trigger;
use tidings_store::{Attempt, Run, Schedule, SchedulePolicy};
use utoipa::ToSchema;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A schedule's trigger.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerView {
    /// `cron`, `interval` or `once`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The cron expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    /// The IANA zone a cron expression follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_seconds: Option<u64>,
    /// The instant intervals count from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Timestamp>,
    /// The instant a `once` trigger fires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// The trigger in plain English.
    pub explain: String,
}

impl TriggerView {
    pub fn of(trigger: &Trigger) -> TriggerView {
        let empty = TriggerView {
            kind: "",
            expr: None,
            zone: None,
            every_seconds: None,
            anchor: None,
            at: None,
            explain: String::new(),
        };
        match trigger {
            Trigger::Cron(cron) => TriggerView {
                kind: "cron",
                expr: Some(cron.expr().as_str().to_owned()),
                zone: Some(cron.zone().name().to_owned()),
                explain: format!("{} ({})", cron.expr().describe(), cron.zone().name()),
                ..empty
            },
            Trigger::Interval(interval) => TriggerView {
                kind: "interval",
                every_seconds: Some(interval.every_seconds()),
                anchor: Some(interval.anchor()),
                explain: format!(
                    "every {}",
                    tidings_core::duration::format(std::time::Duration::from_secs(
                        interval.every_seconds()
                    ))
                ),
                ..empty
            },
            Trigger::Once(once) => TriggerView {
                kind: "once",
                at: Some(once.at()),
                explain: format!("once, at {}", once.at()),
                ..empty
            },
        }
    }
}

/// A schedule's counters, kept in the same transactions as its runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    /// Runs created for the schedule, by any trigger.
    pub total: u64,
    pub succeeded: u64,
    /// Runs that ended `failed` or `timed_out`.
    pub failed: u64,
    /// Occurrences skipped because `max_instances` runs were queued or running.
    pub skipped: u64,
    /// Occurrences missed (past their grace, coalesced, or beyond `max_catch_up`).
    pub missed: u64,
    /// When the latest run that ended started.
    pub last_run_at: Option<Timestamp>,
    /// How that run ended.
    #[schema(value_type = Option<String>, example = "succeeded")]
    pub last_state: Option<tidings_core::RunState>,
    pub last_run_id: Option<i64>,
}

/// A schedule: its definition, its next occurrence and its statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub trigger: TriggerView,
    /// Seed 004: `cron`, `interval` or `once`.
    pub schedule_type: &'static str,
    /// Seed 004: the cron expression, for a cron schedule.
    pub cron_expression: Option<String>,
    /// Seed 004: the interval, for an interval schedule.
    pub interval_seconds: Option<u64>,
    /// Seed 004: the zone of a cron schedule (`UTC` for others).
    pub timezone: String,
    /// The job kind each run executes.
    pub kind: String,
    /// The job's parameters.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub policy: SchedulePolicy,
    /// Where the schedule was declared: `api`, `cli`, `config` or `default`.
    pub origin: &'static str,
    /// The source the schedule works on.
    pub source: Option<String>,
    /// Seed 004: the same as `source`.
    pub project_name: Option<String>,
    pub tags: Vec<String>,
    /// Receives a signed JSON POST when a run ends.
    pub callback_url: Option<String>,
    /// The next occurrence; absent when disabled or the trigger has no more.
    pub next_run_at: Option<Timestamp>,
    pub stats: StatsView,
    /// Seed 004: `stats.total`.
    pub total_runs: u64,
    /// Seed 004: `stats.succeeded`.
    pub successful_runs: u64,
    /// Seed 004: `stats.failed`.
    pub failed_runs: u64,
    /// Seed 004: `stats.last_run_at`.
    pub last_run_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Schedule> for ScheduleView {
    fn from(schedule: Schedule) -> ScheduleView {
        let trigger = TriggerView::of(&schedule.trigger);
        let (cron_expression, interval_seconds, timezone) = match &schedule.trigger {
            Trigger::Cron(cron) => (
                Some(cron.expr().as_str().to_owned()),
                None,
                cron.zone().name().to_owned(),
            ),
            Trigger::Interval(interval) => (None, Some(interval.every_seconds()), "UTC".to_owned()),
            Trigger::Once(_) => (None, None, "UTC".to_owned()),
        };
        let stats = schedule.stats;
        ScheduleView {
            id: schedule.id.0,
            name: schedule.name.to_string(),
            description: schedule.description,
            schedule_type: trigger.kind,
            trigger,
            cron_expression,
            interval_seconds,
            timezone,
            kind: schedule.kind,
            params: schedule.params,
            enabled: schedule.enabled,
            policy: schedule.policy,
            origin: schedule.origin.as_str(),
            project_name: schedule.source.clone(),
            source: schedule.source,
            tags: schedule.tags,
            callback_url: schedule.callback_url,
            next_run_at: schedule.next_run_at,
            total_runs: stats.total,
            successful_runs: stats.succeeded,
            failed_runs: stats.failed,
            last_run_at: stats.last_run_at,
            stats: StatsView {
                total: stats.total,
                succeeded: stats.succeeded,
                failed: stats.failed,
                skipped: stats.skipped,
                missed: stats.missed,
                last_run_at: stats.last_run_at,
                last_state: stats.last_state,
                last_run_id: stats.last_run_id.map(|id| id.0),
            },
            created_at: schedule.created_at,
            updated_at: schedule.updated_at,
        }
    }
}

/// One execution of a job, from queued to its end.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub schedule_id: Option<i64>,
    pub kind: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// What made the run: `schedule`, `manual`, `api`, `startup` or `webhook`.
    #[schema(value_type = String, example = "schedule")]
    pub trigger: tidings_core::RunTrigger,
    /// The occurrence it is for (schedule runs, and `missed`/`skipped` records).
    pub scheduled_for: Option<Timestamp>,
    /// `queued`, `running`, `succeeded`, `failed`, `timed_out`, `cancelled`, `skipped` or
    /// `missed`.
    #[schema(value_type = String, example = "succeeded")]
    pub state: tidings_core::RunState,
    /// Attempts started so far.
    pub attempt: u32,
    pub max_attempts: u32,
    /// Not claimed before this instant (retry backoff).
    pub run_after: Timestamp,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Seconds from the first start to the end.
    pub duration_seconds: Option<f64>,
    /// The instance running it, while it runs (the attempts name who ran each try).
    pub instance: Option<String>,
    pub cancel_requested: bool,
    /// The last error.
    pub error: Option<String>,
    /// What the job returned.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// The job's latest progress report.
    #[schema(value_type = Option<Object>)]
    pub progress: Option<serde_json::Value>,
    /// For `missed` and `skipped` records: how many occurrences, the first and the last.
    #[schema(value_type = Option<Object>)]
    pub occurrences: Option<tidings_core::Occurrences>,
}

impl From<Run> for RunView {
    fn from(run: Run) -> RunView {
        let duration_seconds = match (run.started_at, run.finished_at) {
            (Some(start), Some(end)) => Some(end.duration_since(start).as_secs_f64()),
            _ => None,
        };
        RunView {
            id: run.id.0,
            schedule_id: run.schedule_id.map(|id| id.0),
            kind: run.kind,
            params: run.params,
            trigger: run.trigger,
            scheduled_for: run.scheduled_for,
            state: run.state,
            attempt: run.attempt,
            max_attempts: run.retry.max_attempts,
            run_after: run.run_after,
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            duration_seconds,
            instance: run.lease_owner,
            cancel_requested: run.cancel_requested,
            error: run.error,
            summary: run.summary,
            progress: run.progress,
            occurrences: run.occurrences,
        }
    }
}

/// One try of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// 1-based.
    pub number: u32,
    pub instance: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// How it ended; absent while it runs.
    #[schema(value_type = Option<String>, example = "failed")]
    pub outcome: Option<tidings_core::RunState>,
    pub error: Option<String>,
}

impl From<Attempt> for AttemptView {
    fn from(attempt: Attempt) -> AttemptView {
        AttemptView {
            number: attempt.number,
            instance: attempt.instance,
            started_at: attempt.started_at,
            finished_at: attempt.finished_at,
            outcome: attempt.outcome,
            error: attempt.error,
        }
    }
}

/// A run with its attempts and the deliveries of its completion webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunView,
    pub attempts: Vec<AttemptView>,
    /// The webhook runs reporting this run's end to its schedule's `callback_url`.
    pub deliveries: Vec<DeliveryView>,
}

/// A completion webhook: its run and each try to deliver it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub run_id: i64,
    #[schema(value_type = String, example = "succeeded")]
    pub state: tidings_core::RunState,
    pub attempts: Vec<AttemptView>,
}
