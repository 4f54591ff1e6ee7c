//! Creating and changing schedules and runs with one set of rules for the API and the CLI:
//! params checked against the job registry, `min_interval` enforced, `next_run_at` computed
//! from the trigger, and the firing timer woken so that a change is honoured at once.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use tidings_core::{RetryPolicy, RunTrigger, Trigger};
use tidings_store::{
    Run, RunCancelParams, RunEnqueueParams, RunEnqueued, RunId, Schedule, ScheduleCreateParams,
    ScheduleKey, ScheduleOrigin, ScheduleSpec, ScheduleUpdateParams,
};

use crate::{Engine, EngineError, JobRegistry};

/// An ad-hoc run to queue with [`Engine::run_enqueue_batch`].
#[derive(Debug, Clone)]
pub struct AdhocRun {
    pub kind: String,
    pub params: serde_json::Value,
    pub retry: RetryPolicy,
    pub timeout: SignedDuration,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `trigger.interval_seconds` or `params.url`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// What a schedule change did, for callers that report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleChange {
    Created,
    Updated,
    Unchanged,
}

/// How many upcoming fires are sampled to find a cron expression's shortest interval.
const INTERVAL_SAMPLE: usize = 1000;

impl Engine {
    /// Checks a schedule before it is stored: job kind and params, trigger against
    /// `min_interval`, a `once` trigger not in the past, the policy's numbers.
    pub fn schedule_check(&self, spec: &ScheduleSpec) -> Result<(), EngineError> {
        check_schedule(
            spec,
            self.registry(),
            self.config().min_interval,
            self.clock().now(),
        )
    }

    /// Creates a schedule; its first occurrence is the trigger's first after now.
    pub async fn schedule_create(
        &self,
        spec: ScheduleSpec,
        origin: ScheduleOrigin,
    ) -> Result<Schedule, EngineError> {
        self.schedule_check(&spec)?;
        let now = self.clock().now();
        let next_run_at = first_occurrence(&spec, now);
        let schedule = self
            .store()
            .schedule_create(ScheduleCreateParams {
                spec,
                origin,
                now,
                next_run_at,
            })
            .await?;
        tracing::info!(schedule = %schedule.name, id = %schedule.id, next_run_at = ?schedule.next_run_at, "schedule created");
        self.notify_schedules_changed();
        Ok(schedule)
    }

    /// Replaces a schedule's definition. An unchanged trigger keeps its pending occurrence;
    /// a new trigger, or enabling, starts from the trigger's first occurrence after now.
    pub async fn schedule_update(
        &self,
        key: &ScheduleKey,
        spec: ScheduleSpec,
    ) -> Result<Schedule, EngineError> {
        self.schedule_check(&spec)?;
        let current = self.store().schedule_get(key).await?;
        let now = self.clock().now();
        let next_run_at = if current.enabled && spec.enabled && current.trigger == spec.trigger {
            current.next_run_at
        } else {
            first_occurrence(&spec, now)
        };
        let schedule = self
            .store()
            .schedule_update(ScheduleUpdateParams {
                id: current.id,
                spec,
                now,
                next_run_at,
            })
            .await?;
        tracing::info!(schedule = %schedule.name, id = %schedule.id, next_run_at = ?schedule.next_run_at, "schedule updated");
        self.notify_schedules_changed();
        Ok(schedule)
    }

    /// Enables or disables a schedule. Enabling does not replay what was due while disabled.
    pub async fn schedule_set_enabled(
        &self,
        key: &ScheduleKey,
        enabled: bool,
    ) -> Result<Schedule, EngineError> {
        let current = self.store().schedule_get(key).await?;
        if current.enabled == enabled {
            return Ok(current);
        }
        let mut spec = current.spec();
        spec.enabled = enabled;
        self.schedule_update(key, spec).await
    }

    pub async fn schedule_delete(&self, key: &ScheduleKey) -> Result<(), EngineError> {
        let current = self.store().schedule_get(key).await?;
        self.store()
            .schedule_delete(current.id, self.clock().now())
            .await?;
        tracing::info!(schedule = %current.name, id = %current.id, "schedule deleted");
        self.notify_schedules_changed();
        Ok(())
    }

    /// Queues a run of the schedule now, unless `max_instances` runs of it are already queued
    /// or running (then [`RunEnqueued::AtCapacity`] with those runs).
    pub async fn schedule_run_now(
        &self,
        key: &ScheduleKey,
        trigger: RunTrigger,
    ) -> Result<RunEnqueued, EngineError> {
        let schedule = self.store().schedule_get(key).await?;
        let now = self.clock().now();
        let enqueued = self
            .store()
            .run_enqueue(RunEnqueueParams {
                schedule_id: Some(schedule.id),
                kind: schedule.kind.clone(),
                params: schedule.params.clone(),
                trigger,
                retry: schedule.policy.retry,
                timeout: schedule.policy.timeout,
                run_after: now,
                now,
                max_instances: Some(schedule.policy.fire.max_instances),
                parent_run_id: None,
            })
            .await?;
        if let RunEnqueued::Queued(run) = &enqueued {
            tracing::info!(schedule = %schedule.name, run_id = %run.id, %trigger, "run queued");
            self.notify_work_available();
        }
        Ok(enqueued)
    }

    /// Queues an ad-hoc run of a job kind.
    pub async fn run_enqueue(
        &self,
        kind: &str,
        params: serde_json::Value,
        retry: RetryPolicy,
        timeout: SignedDuration,
    ) -> Result<Run, EngineError> {
        if let Some(problem) = self.check_adhoc("", kind, &params) {
            return Err(EngineError::Invalid(vec![problem]));
        }
        let now = self.clock().now();
        let enqueued = self
            .store()
            .run_enqueue(RunEnqueueParams {
                schedule_id: None,
                kind: kind.to_owned(),
                params,
                trigger: RunTrigger::Api,
                retry,
                timeout,
                run_after: now,
                now,
                max_instances: None,
                parent_run_id: None,
            })
            .await?;
        match enqueued {
            RunEnqueued::Queued(run) => {
                self.notify_work_available();
                Ok(*run)
            }
            RunEnqueued::AtCapacity(_) => {
                Err(EngineError::Store(tidings_store::StoreError::Internal(
                    "a run without a schedule reported max_instances".to_owned(),
                )))
            }
        }
    }

    /// Queues ad-hoc runs together: all of them, in the order given, or none. Every run is
    /// checked first; the problems of all are reported, named `runs[INDEX].FIELD`.
    pub async fn run_enqueue_batch(&self, runs: Vec<AdhocRun>) -> Result<Vec<Run>, EngineError> {
        let problems: Vec<FieldError> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, run)| self.check_adhoc(&format!("runs[{i}]."), &run.kind, &run.params))
            .collect();
        if !problems.is_empty() {
            return Err(EngineError::Invalid(problems));
        }
        let now = self.clock().now();
        let queued = self
            .store()
            .run_enqueue_batch(
                runs.into_iter()
                    .map(|run| RunEnqueueParams {
                        schedule_id: None,
                        kind: run.kind,
                        params: run.params,
                        trigger: RunTrigger::Api,
                        retry: run.retry,
                        timeout: run.timeout,
                        run_after: now,
                        now,
                        max_instances: None,
                        parent_run_id: None,
                    })
                    .collect(),
            )
            .await?;
        if !queued.is_empty() {
            self.notify_work_available();
        }
        Ok(queued)
    }

    /// What is wrong with an ad-hoc run of `kind` with `params`, its field prefixed with
    /// `prefix`; `None` when the kind exists and takes the params.
    pub fn check_adhoc(
        &self,
        prefix: &str,
        kind: &str,
        params: &serde_json::Value,
    ) -> Option<FieldError> {
        let error = self.registry().validate(kind, params).err()?;
        let field = match error.field.as_deref() {
            Some("kind") => format!("{prefix}kind"),
            Some(field) => format!("{prefix}params.{field}"),
            None => format!("{prefix}params"),
        };
        Some(FieldError::new(field, error.to_string()))
    }

    /// Cancels a run: a queued one at once, a running one cooperatively (its job's token fires
    /// at once when it runs on this instance, otherwise at its worker's next heartbeat).
    pub async fn run_cancel(&self, id: RunId, reason: &str) -> Result<Run, EngineError> {
        let run = self
            .store()
            .run_cancel(RunCancelParams {
                id,
                now: self.clock().now(),
                reason: reason.to_owned(),
            })
            .await?;
        self.cancel_local(id, crate::CancelReason::Requested);
        Ok(run)
    }
}

/// The checks of [`Engine::schedule_check`] without an engine: for tools that validate schedules
/// before any store is open (`tidings config check` on declared schedules).
pub fn check_schedule(
    spec: &ScheduleSpec,
    registry: &JobRegistry,
    min_interval: SignedDuration,
    now: Timestamp,
) -> Result<(), EngineError> {
    let mut errors = Vec::new();
    if let Err(error) = registry.validate(&spec.kind, &spec.params) {
        let field = match error.field.as_deref() {
            Some("kind") => "kind".to_owned(),
            Some(field) => format!("params.{field}"),
            None => "params".to_owned(),
        };
        errors.push(FieldError::new(field, error.to_string()));
    }
    match &spec.trigger {
        Trigger::Interval(interval) => {
            if interval.every() < min_interval {
                errors.push(FieldError::new(
                    "trigger.every_seconds",
                    format!(
                        "every {} s is shorter than the minimum interval of {} s (scheduler.min_interval)",
                        interval.every_seconds(),
                        min_interval.as_secs_f64()
                    ),
                ));
            }
        }
        Trigger::Cron(cron) => {
            if let Some(shortest) = shortest_gap(&spec.trigger, now)
                && shortest < min_interval
            {
                errors.push(FieldError::new(
                    "trigger.expr",
                    format!(
                        "`{}` fires {} s apart at its closest, more often than the minimum interval of {} s (scheduler.min_interval)",
                        cron.expr(),
                        shortest.as_secs_f64(),
                        min_interval.as_secs_f64()
                    ),
                ));
            }
        }
        Trigger::Once(once) => {
            if spec.enabled && once.at() <= now {
                errors.push(FieldError::new(
                    "trigger.at",
                    format!(
                        "{} is in the past; a once trigger needs a future instant",
                        once.at()
                    ),
                ));
            }
        }
    }
    let policy = &spec.policy;
    if policy.fire.max_instances == 0 {
        errors.push(FieldError::new(
            "policy.max_instances",
            "must be at least 1",
        ));
    }
    if policy.retry.max_attempts == 0 {
        errors.push(FieldError::new(
            "policy.retry.max_attempts",
            "must be at least 1 (1 means no retry)",
        ));
    }
    if policy.fire.misfire_grace.is_some_and(|g| g.is_negative()) {
        errors.push(FieldError::new(
            "policy.misfire_grace",
            "must not be negative",
        ));
    }
    if policy.timeout <= SignedDuration::ZERO {
        errors.push(FieldError::new("policy.timeout", "must be positive"));
    }
    if let Some(url) = &spec.callback_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        errors.push(FieldError::new(
            "callback_url",
            "must be an http:// or https:// URL",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Invalid(errors))
    }
}

fn first_occurrence(spec: &ScheduleSpec, now: Timestamp) -> Option<Timestamp> {
    if spec.enabled {
        spec.trigger.next_after(now)
    } else {
        None
    }
}

/// The shortest time between consecutive fires among the next [`INTERVAL_SAMPLE`].
fn shortest_gap(trigger: &Trigger, now: Timestamp) -> Option<SignedDuration> {
    let mut previous = trigger.next_after(now)?;
    let mut shortest: Option<SignedDuration> = None;
    for _ in 0..INTERVAL_SAMPLE {
        let Some(next) = trigger.next_after(previous) else {
            break;
        };
        let gap = next.duration_since(previous);
        shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
        previous = next;
    }
    shortest
}
