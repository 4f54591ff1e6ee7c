//! The scheduling contract of DESIGN.md, end to end through the engine, on both backends.
//! Time is a manual clock stepped by the test; the engine is driven one step at a time
//! (`fire_due`, `work_once`, `rescue_expired`), or started and observed through its events.
//! Nothing sleeps to wait for the scheduler.

#![allow(clippy::unwrap_used)] // test helpers: a failed call is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use tidings_core::{
    Clock, CronExpr, CronTrigger, IntervalTrigger, ManualClock, RetryPolicy, RunState, RunTrigger,
    Trigger, Zone,
};
use tidings_engine::{
    Engine, EngineConfig, EngineError, EngineEvent, JobContext, JobError, JobRegistry, TypedJob,
};
use tidings_store::{
    RunClaimParams, RunEnqueued, RunListParams, ScheduleKey, ScheduleName, ScheduleOrigin,
    SchedulePolicy, ScheduleSpec,
};
use tidings_storetest::{TestBackend, TestStore};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

const START: &str = "2025-06-01T12:00:00Z";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Succeeds with `{"echo": value}`.
struct Echo;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoParams {
    #[serde(default)]
    value: serde_json::Value,
}

#[async_trait]
impl TypedJob for Echo {
    const KIND: &'static str = "echo";
    type Params = EchoParams;

    async fn run(
        &self,
        params: EchoParams,
        _ctx: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        Ok(json!({ "echo": params.value }))
    }
}

/// Fails with a retryable error `failures` times, then succeeds.
struct Flaky {
    failures: u32,
    calls: Arc<AtomicU32>,
}

#[async_trait]
impl TypedJob for Flaky {
    const KIND: &'static str = "flaky";
    type Params = serde_json::Value;

    async fn run(
        &self,
        _: serde_json::Value,
        _: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call <= self.failures {
            Err(JobError::retryable(format!("flaky failure {call}")))
        } else {
            Ok(json!({ "calls": call }))
        }
    }
}

/// Fails for good.
struct Broken;

#[async_trait]
impl TypedJob for Broken {
    const KIND: &'static str = "broken";
    type Params = serde_json::Value;

    async fn run(
        &self,
        _: serde_json::Value,
        _: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        Err(JobError::fatal("bad credentials: check the token"))
    }
}

/// Panics.
struct Panics;

#[async_trait]
impl TypedJob for Panics {
    const KIND: &'static str = "panics";
    type Params = serde_json::Value;

    async fn run(
        &self,
        _: serde_json::Value,
        _: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        panic!("boom: index out of range")
    }
}

/// Snoozes 30 s on its first attempt, then succeeds.
struct Snoozer {
    calls: Arc<AtomicU32>,
}

#[async_trait]
impl TypedJob for Snoozer {
    const KIND: &'static str = "snoozer";
    type Params = serde_json::Value;

    async fn run(
        &self,
        _: serde_json::Value,
        _: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(JobError::Snooze(SignedDuration::from_secs(30)))
        } else {
            Ok(json!({}))
        }
    }
}

/// Runs until its cancellation token fires, then stops cooperatively.
struct UntilCancelled;

#[async_trait]
impl TypedJob for UntilCancelled {
    const KIND: &'static str = "until_cancelled";
    type Params = serde_json::Value;

    async fn run(
        &self,
        _: serde_json::Value,
        ctx: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        ctx.cancel.cancelled().await;
        Err(JobError::Cancel("stopped cooperatively".to_owned()))
    }
}

struct Harness {
    test: TestStore,
    engine: Engine,
    clock: ManualClock,
    flaky_calls: Arc<AtomicU32>,
    snoozer_calls: Arc<AtomicU32>,
}

impl Harness {
    async fn new(backend: TestBackend) -> Harness {
        Harness::with_config(backend, EngineConfig::default()).await
    }

    async fn with_config(backend: TestBackend, config: EngineConfig) -> Harness {
        let test = TestStore::open(backend).await;
        let clock = ManualClock::new(ts(START));
        let flaky_calls = Arc::new(AtomicU32::new(0));
        let snoozer_calls = Arc::new(AtomicU32::new(0));
        let mut registry = JobRegistry::new();
        registry
            .register(Echo)
            .register(Flaky {
                failures: 2,
                calls: flaky_calls.clone(),
            })
            .register(Broken)
            .register(Panics)
            .register(Snoozer {
                calls: snoozer_calls.clone(),
            })
            .register(UntilCancelled);
        let engine = Engine::new(
            test.store.clone(),
            Arc::new(clock.clone()),
            registry,
            EngineConfig {
                instance: "test-instance".to_owned(),
                ..config
            },
        );
        Harness {
            test,
            engine,
            clock,
            flaky_calls,
            snoozer_calls,
        }
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(SignedDuration::from_secs(seconds));
    }

    async fn close(self) {
        self.test.close().await;
    }
}

fn spec(name: &str, trigger: Trigger, kind: &str) -> ScheduleSpec {
    ScheduleSpec {
        name: ScheduleName::parse(name).unwrap(),
        description: None,
        trigger,
        kind: kind.to_owned(),
        params: json!({}),
        enabled: true,
        policy: SchedulePolicy::default(),
        source: None,
        tags: Vec::new(),
        callback_url: None,
    }
}

fn cron(expr: &str) -> Trigger {
    Trigger::Cron(CronTrigger::new(
        CronExpr::parse(expr).unwrap(),
        Zone::utc(),
    ))
}

fn every_minute() -> Trigger {
    cron("* * * * *")
}

/// Both backends, one `#[tokio::test]` each.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tidings_storetest::TestBackend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tidings_storetest::TestBackend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    due_occurrence_runs_once_and_updates_statistics,
    params_are_checked_against_the_job_kind,
    min_interval_is_enforced,
    retryable_errors_retry_with_backoff_then_succeed,
    fatal_errors_fail_at_once,
    panicking_job_fails_its_attempt_and_the_worker_carries_on,
    snooze_requeues_without_counting_the_attempt,
    timeout_cancels_the_job_and_retries,
    cancel_queued_and_running_runs,
    expired_lease_is_rescued_and_run_again,
    downtime_is_recorded_as_one_missed_run_and_coalesced,
    max_instances_skips_and_manual_run_reports_capacity,
    run_on_start_queues_without_duplicates,
    editing_a_schedule_keeps_or_recomputes_next_run,
    started_engine_fires_on_time_and_shuts_down_requeueing_unfinished_runs,
    work_run_executes_that_run_alone_and_stop_cancels_it,
);

async fn due_occurrence_runs_once_and_updates_statistics(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let mut spec = spec("echo-every-minute", every_minute(), "echo");
    spec.params = json!({ "value": 42 });
    let schedule = h
        .engine
        .schedule_create(spec, ScheduleOrigin::Api)
        .await
        .unwrap();
    assert_eq!(schedule.next_run_at, Some(ts("2025-06-01T12:01:00Z")));

    // Nothing is due yet.
    assert!(h.engine.fire_due().await.unwrap().is_empty());
    h.advance(60);
    let fired = h.engine.fire_due().await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].queued.len(), 1);
    assert_eq!(
        fired[0].queued[0].scheduled_for,
        Some(ts("2025-06-01T12:01:00Z"))
    );
    // Firing again at the same instant creates nothing more.
    assert!(h.engine.fire_due().await.unwrap().is_empty());

    let done = h.engine.work_once(10).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].state, RunState::Succeeded);
    assert_eq!(done[0].attempt, 1);
    assert_eq!(done[0].summary, Some(json!({ "echo": 42 })));

    let schedule = h
        .engine
        .store()
        .schedule_get(&ScheduleKey::Id(schedule.id))
        .await
        .unwrap();
    assert_eq!(schedule.stats.total, 1);
    assert_eq!(schedule.stats.succeeded, 1);
    assert_eq!(schedule.stats.last_state, Some(RunState::Succeeded));
    assert_eq!(schedule.stats.last_run_id, Some(done[0].id));
    assert_eq!(schedule.next_run_at, Some(ts("2025-06-01T12:02:00Z")));
    h.close().await;
}

async fn params_are_checked_against_the_job_kind(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let mut bad = spec("bad-params", every_minute(), "echo");
    bad.params = json!({ "valeu": 1 });
    let Err(EngineError::Invalid(errors)) =
        h.engine.schedule_create(bad, ScheduleOrigin::Api).await
    else {
        panic!("accepted unknown params");
    };
    assert_eq!(errors[0].field, "params.valeu");
    assert!(
        errors[0].message.contains("unknown field `valeu`"),
        "{}",
        errors[0].message
    );

    let unknown = spec("bad-kind", every_minute(), "ecko");
    let Err(EngineError::Invalid(errors)) =
        h.engine.schedule_create(unknown, ScheduleOrigin::Api).await
    else {
        panic!("accepted an unknown kind");
    };
    assert_eq!(errors[0].field, "kind");
    assert!(
        errors[0].message.contains("unknown job kind `ecko`"),
        "{}",
        errors[0].message
    );
    h.close().await;
}

async fn min_interval_is_enforced(backend: TestBackend) {
    let h = Harness::with_config(
        backend,
        EngineConfig {
            min_interval: SignedDuration::from_secs(3600),
            ..EngineConfig::default()
        },
    )
    .await;
    let every_ten_minutes = Trigger::Interval(IntervalTrigger::new(600, ts(START)).unwrap());
    let Err(EngineError::Invalid(errors)) = h
        .engine
        .schedule_create(
            spec("too-often", every_ten_minutes, "echo"),
            ScheduleOrigin::Api,
        )
        .await
    else {
        panic!("accepted an interval under min_interval");
    };
    assert_eq!(errors[0].field, "trigger.every_seconds");
    let Err(EngineError::Invalid(errors)) = h
        .engine
        .schedule_create(
            spec("cron-too-often", cron("*/30 * * * *"), "echo"),
            ScheduleOrigin::Api,
        )
        .await
    else {
        panic!("accepted a cron under min_interval");
    };
    assert_eq!(errors[0].field, "trigger.expr");
    assert!(
        errors[0].message.contains("1800 s apart"),
        "{}",
        errors[0].message
    );
    h.engine
        .schedule_create(
            spec("hourly", cron("0 * * * *"), "echo"),
            ScheduleOrigin::Api,
        )
        .await
        .unwrap();
    h.close().await;
}

async fn retryable_errors_retry_with_backoff_then_succeed(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let run = h
        .engine
        .run_enqueue(
            "flaky",
            json!({}),
            RetryPolicy::default(),
            SignedDuration::from_secs(60),
        )
        .await
        .unwrap();
    let first = h.engine.work_once(10).await.unwrap();
    assert_eq!(first[0].state, RunState::Queued);
    assert_eq!(first[0].error.as_deref(), Some("flaky failure 1"));
    let backoff = first[0].run_after.duration_since(ts(START)).as_secs_f64();
    assert!(
        (0.8..=1.2).contains(&backoff),
        "first retry after {backoff} s"
    );

    // Not due before its backoff.
    assert!(h.engine.work_once(10).await.unwrap().is_empty());
    h.advance(2);
    let second = h.engine.work_once(10).await.unwrap();
    assert_eq!(second[0].state, RunState::Queued);
    let backoff = second[0]
        .run_after
        .duration_since(h.clock.now())
        .as_secs_f64();
    assert!(
        (1.6..=2.4).contains(&backoff),
        "second retry after {backoff} s"
    );
    h.advance(3);
    let third = h.engine.work_once(10).await.unwrap();
    assert_eq!(third[0].state, RunState::Succeeded);
    assert_eq!(third[0].attempt, 3);
    assert_eq!(h.flaky_calls.load(Ordering::SeqCst), 3);

    let attempts = h.engine.store().run_attempts(run.id).await.unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Some(RunState::Failed),
            Some(RunState::Failed),
            Some(RunState::Succeeded)
        ]
    );
    assert_eq!(attempts[1].error.as_deref(), Some("flaky failure 2"));
    h.close().await;
}

async fn fatal_errors_fail_at_once(backend: TestBackend) {
    let h = Harness::new(backend).await;
    h.engine
        .run_enqueue(
            "broken",
            json!({}),
            RetryPolicy::default(),
            SignedDuration::from_secs(60),
        )
        .await
        .unwrap();
    let done = h.engine.work_once(10).await.unwrap();
    assert_eq!(done[0].state, RunState::Failed);
    assert_eq!(done[0].attempt, 1);
    assert_eq!(
        done[0].error.as_deref(),
        Some("bad credentials: check the token")
    );
    h.close().await;
}

async fn panicking_job_fails_its_attempt_and_the_worker_carries_on(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let timeout = SignedDuration::from_secs(60);
    let panicking = h
        .engine
        .run_enqueue("panics", json!({}), once, timeout)
        .await
        .unwrap();
    let fine = h
        .engine
        .run_enqueue("echo", json!({}), once, timeout)
        .await
        .unwrap();
    let done = h.engine.work_once(10).await.unwrap();
    assert_eq!(done.len(), 2);
    let panicked = done.iter().find(|r| r.id == panicking.id).unwrap();
    assert_eq!(panicked.state, RunState::Failed);
    assert_eq!(
        panicked.error.as_deref(),
        Some("job panicked: boom: index out of range")
    );
    let ok = done.iter().find(|r| r.id == fine.id).unwrap();
    assert_eq!(ok.state, RunState::Succeeded);
    // And the engine still works afterwards.
    h.engine
        .run_enqueue("echo", json!({}), once, timeout)
        .await
        .unwrap();
    assert_eq!(
        h.engine.work_once(10).await.unwrap()[0].state,
        RunState::Succeeded
    );
    h.close().await;
}

async fn snooze_requeues_without_counting_the_attempt(backend: TestBackend) {
    let h = Harness::new(backend).await;
    h.engine
        .run_enqueue(
            "snoozer",
            json!({}),
            RetryPolicy::default(),
            SignedDuration::from_secs(60),
        )
        .await
        .unwrap();
    let first = h.engine.work_once(10).await.unwrap();
    assert_eq!(first[0].state, RunState::Queued);
    assert_eq!(first[0].attempt, 0);
    assert_eq!(first[0].run_after, ts("2025-06-01T12:00:30Z"));
    h.advance(29);
    assert!(h.engine.work_once(10).await.unwrap().is_empty());
    h.advance(1);
    let second = h.engine.work_once(10).await.unwrap();
    assert_eq!(second[0].state, RunState::Succeeded);
    assert_eq!(second[0].attempt, 1);
    assert_eq!(h.snoozer_calls.load(Ordering::SeqCst), 2);
    h.close().await;
}

async fn timeout_cancels_the_job_and_retries(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let run = h
        .engine
        .run_enqueue(
            "until_cancelled",
            json!({}),
            RetryPolicy {
                max_attempts: 2,
                ..RetryPolicy::default()
            },
            SignedDuration::from_millis(50),
        )
        .await
        .unwrap();
    let first = h.engine.work_once(10).await.unwrap();
    assert_eq!(first[0].state, RunState::Queued);
    assert_eq!(first[0].error.as_deref(), Some("timed out after 0.050 s"));
    h.advance(5);
    let second = h.engine.work_once(10).await.unwrap();
    assert_eq!(second[0].state, RunState::TimedOut);
    let attempts = h.engine.store().run_attempts(run.id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts
            .iter()
            .all(|a| a.outcome == Some(RunState::TimedOut))
    );
    h.close().await;
}

async fn cancel_queued_and_running_runs(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let timeout = SignedDuration::from_secs(3600);
    let queued = h
        .engine
        .run_enqueue("echo", json!({}), RetryPolicy::default(), timeout)
        .await
        .unwrap();
    let cancelled = h.engine.run_cancel(queued.id, "not needed").await.unwrap();
    assert_eq!(cancelled.state, RunState::Cancelled);
    assert!(h.engine.work_once(10).await.unwrap().is_empty());

    let long = h
        .engine
        .run_enqueue(
            "until_cancelled",
            json!({}),
            RetryPolicy::default(),
            timeout,
        )
        .await
        .unwrap();
    let mut events = h.engine.subscribe();
    let worker = {
        let engine = h.engine.clone();
        tokio::spawn(async move { engine.work_once(10).await.unwrap() })
    };
    wait_for(
        &mut events,
        |e| matches!(e, EngineEvent::Started { run_id, .. } if *run_id == long.id),
    )
    .await;
    let requested = h.engine.run_cancel(long.id, "stop it").await.unwrap();
    assert_eq!(requested.state, RunState::Running);
    assert!(requested.cancel_requested);
    let done = worker.await.unwrap();
    assert_eq!(done[0].state, RunState::Cancelled);
    assert_eq!(done[0].error.as_deref(), Some("stopped cooperatively"));
    h.close().await;
}

async fn work_run_executes_that_run_alone_and_stop_cancels_it(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let timeout = SignedDuration::from_secs(3600);
    let ahead = h
        .engine
        .run_enqueue("echo", json!({"value": 1}), RetryPolicy::default(), timeout)
        .await
        .unwrap();
    let wanted = h
        .engine
        .run_enqueue("echo", json!({"value": 2}), RetryPolicy::default(), timeout)
        .await
        .unwrap();
    let done = h
        .engine
        .work_run(wanted.id, CancellationToken::new())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.id, wanted.id);
    assert_eq!(done.state, RunState::Succeeded);
    assert_eq!(done.summary, Some(json!({"echo": 2})));
    let ahead = h.test.store.run_get(ahead.id).await.unwrap();
    assert_eq!(
        ahead.state,
        RunState::Queued,
        "the run ahead is left queued"
    );
    assert!(
        h.engine
            .work_run(wanted.id, CancellationToken::new())
            .await
            .unwrap()
            .is_none(),
        "an ended run is not claimed again"
    );

    let long = h
        .engine
        .run_enqueue(
            "until_cancelled",
            json!({}),
            RetryPolicy::default(),
            timeout,
        )
        .await
        .unwrap();
    let mut events = h.engine.subscribe();
    let stop = CancellationToken::new();
    let worker = {
        let (engine, stop) = (h.engine.clone(), stop.clone());
        tokio::spawn(async move { engine.work_run(long.id, stop).await.unwrap() })
    };
    wait_for(
        &mut events,
        |e| matches!(e, EngineEvent::Started { run_id, .. } if *run_id == long.id),
    )
    .await;
    stop.cancel();
    let stopped = worker.await.unwrap().unwrap();
    assert_eq!(stopped.state, RunState::Cancelled);
    h.close().await;
}

async fn expired_lease_is_rescued_and_run_again(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let run = h
        .engine
        .run_enqueue(
            "echo",
            json!({}),
            RetryPolicy::default(),
            SignedDuration::from_secs(60),
        )
        .await
        .unwrap();
    // Another instance claims it and dies.
    let claimed = h
        .engine
        .store()
        .run_claim(RunClaimParams {
            instance: "dead-instance".to_owned(),
            now: h.clock.now(),
            lease: SignedDuration::from_secs(30),
            limit: 10,
            kinds: vec![],
            only: None,
        })
        .await
        .unwrap();
    assert_eq!(claimed[0].id, run.id);
    h.advance(29);
    assert!(h.engine.rescue_expired().await.unwrap().is_empty());
    h.advance(2);
    let rescued = h.engine.rescue_expired().await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].state, RunState::Queued);
    h.advance(2);
    let done = h.engine.work_once(10).await.unwrap();
    assert_eq!(done[0].id, run.id);
    assert_eq!(done[0].state, RunState::Succeeded);
    assert_eq!(done[0].attempt, 2);
    let attempts = h.engine.store().run_attempts(run.id).await.unwrap();
    assert_eq!(attempts[0].instance, "dead-instance");
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .starts_with("worker lost")
    );
    assert_eq!(attempts[1].instance, "test-instance");
    h.close().await;
}

async fn downtime_is_recorded_as_one_missed_run_and_coalesced(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let schedule = h
        .engine
        .schedule_create(
            spec("every-minute", every_minute(), "echo"),
            ScheduleOrigin::Api,
        )
        .await
        .unwrap();
    // The service was down for a day.
    h.advance(86_400);
    let fired = h.engine.fire_due().await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].queued.len(), 1);
    assert_eq!(
        fired[0].queued[0].scheduled_for,
        Some(ts("2025-06-02T12:00:00Z"))
    );
    let missed = fired[0].missed.unwrap();
    assert_eq!(missed.count, 1439);
    assert_eq!(missed.first, ts("2025-06-01T12:01:00Z"));
    assert_eq!(missed.last, ts("2025-06-02T11:59:00Z"));
    let runs = h
        .engine
        .store()
        .run_list(RunListParams {
            schedule_id: Some(schedule.id),
            ..RunListParams::default()
        })
        .await
        .unwrap();
    let states: Vec<_> = runs.items.iter().map(|r| r.state).collect();
    assert_eq!(states.iter().filter(|s| **s == RunState::Missed).count(), 1);
    assert_eq!(states.iter().filter(|s| **s == RunState::Queued).count(), 1);
    let schedule = h
        .engine
        .store()
        .schedule_get(&ScheduleKey::Id(schedule.id))
        .await
        .unwrap();
    assert_eq!(schedule.stats.missed, 1439);
    h.close().await;
}

async fn max_instances_skips_and_manual_run_reports_capacity(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let schedule = h
        .engine
        .schedule_create(
            spec("one-at-a-time", every_minute(), "until_cancelled"),
            ScheduleOrigin::Api,
        )
        .await
        .unwrap();
    h.advance(60);
    h.engine.fire_due().await.unwrap();
    h.advance(60);
    let fired = h.engine.fire_due().await.unwrap();
    assert_eq!(fired[0].queued.len(), 0);
    assert_eq!(fired[0].skipped, 1);
    let key = ScheduleKey::Id(schedule.id);
    let RunEnqueued::AtCapacity(active) = h
        .engine
        .schedule_run_now(&key, RunTrigger::Manual)
        .await
        .unwrap()
    else {
        panic!("queued past max_instances");
    };
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].state, RunState::Queued);
    let skipped = h
        .engine
        .store()
        .run_list(RunListParams {
            schedule_id: Some(schedule.id),
            states: vec![RunState::Skipped],
            ..RunListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(skipped.items.len(), 1);
    assert!(
        skipped.items[0]
            .error
            .as_deref()
            .unwrap()
            .contains("max_instances (1) reached"),
        "{:?}",
        skipped.items[0].error
    );
    h.close().await;
}

async fn run_on_start_queues_without_duplicates(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let mut populate = spec("populate", cron("0 3 * * *"), "echo");
    populate.policy.run_on_start = true;
    h.engine
        .schedule_create(populate, ScheduleOrigin::Config)
        .await
        .unwrap();
    h.engine
        .schedule_create(
            spec("nightly", cron("0 4 * * *"), "echo"),
            ScheduleOrigin::Config,
        )
        .await
        .unwrap();
    let queued = h.engine.enqueue_run_on_start().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].trigger, RunTrigger::Startup);
    // A second start while that run is still queued adds nothing.
    assert!(h.engine.enqueue_run_on_start().await.unwrap().is_empty());
    h.close().await;
}

async fn editing_a_schedule_keeps_or_recomputes_next_run(backend: TestBackend) {
    let h = Harness::new(backend).await;
    let created = h
        .engine
        .schedule_create(
            spec("edit-me", cron("0 * * * *"), "echo"),
            ScheduleOrigin::Api,
        )
        .await
        .unwrap();
    assert_eq!(created.next_run_at, Some(ts("2025-06-01T13:00:00Z")));
    let key = ScheduleKey::Id(created.id);
    let mut same_trigger = spec("edit-me", cron("0 * * * *"), "echo");
    same_trigger.description = Some("hourly".to_owned());
    let edited = h.engine.schedule_update(&key, same_trigger).await.unwrap();
    assert_eq!(edited.next_run_at, created.next_run_at);
    assert_eq!(edited.description.as_deref(), Some("hourly"));
    let moved = h
        .engine
        .schedule_update(&key, spec("edit-me", cron("30 12 * * *"), "echo"))
        .await
        .unwrap();
    assert_eq!(moved.next_run_at, Some(ts("2025-06-01T12:30:00Z")));
    let disabled = h.engine.schedule_set_enabled(&key, false).await.unwrap();
    assert_eq!(disabled.next_run_at, None);
    h.advance(7200);
    assert!(h.engine.fire_due().await.unwrap().is_empty());
    let enabled = h.engine.schedule_set_enabled(&key, true).await.unwrap();
    assert_eq!(enabled.next_run_at, Some(ts("2025-06-02T12:30:00Z")));
    h.close().await;
}

async fn started_engine_fires_on_time_and_shuts_down_requeueing_unfinished_runs(
    backend: TestBackend,
) {
    // The real clock: the timer must wake for a schedule created after it went to sleep, well
    // before its idle poll of an hour.
    let test = TestStore::open(backend).await;
    let mut registry = JobRegistry::new();
    registry.register(Echo).register(UntilCancelled);
    let engine = Engine::new(
        test.store.clone(),
        Arc::new(tidings_core::SystemClock),
        registry,
        EngineConfig {
            instance: "live".to_owned(),
            idle_poll: Duration::from_secs(3600),
            shutdown_grace: Duration::from_millis(100),
            ..EngineConfig::default()
        },
    );
    let mut events = engine.subscribe();
    let shutdown = CancellationToken::new();
    let handle = engine.start(shutdown.clone());
    wait_for(&mut events, |e| {
        matches!(e, EngineEvent::StartupQueued { .. })
    })
    .await;

    let soon = tidings_core::SystemClock
        .now()
        .checked_add(SignedDuration::from_millis(300))
        .unwrap();
    let once = Trigger::Once(tidings_core::OnceTrigger::new(soon));
    engine
        .schedule_create(spec("soon", once, "echo"), ScheduleOrigin::Api)
        .await
        .unwrap();
    let finished = wait_for(&mut events, |e| matches!(e, EngineEvent::Finished { .. })).await;
    let EngineEvent::Finished { run } = finished else {
        unreachable!()
    };
    assert_eq!(run.state, RunState::Succeeded);
    let late = run.started_at.unwrap().duration_since(soon);
    assert!(late < SignedDuration::from_secs(2), "fired {late:?} late");

    let long = engine
        .run_enqueue(
            "until_cancelled",
            json!({}),
            RetryPolicy::default(),
            SignedDuration::from_secs(3600),
        )
        .await
        .unwrap();
    wait_for(
        &mut events,
        |e| matches!(e, EngineEvent::Started { run_id, .. } if *run_id == long.id),
    )
    .await;
    shutdown.cancel();
    handle.stopped().await;
    let requeued = test.store.run_get(long.id).await.unwrap();
    assert_eq!(requeued.state, RunState::Queued);
    assert_eq!(requeued.attempt, 0, "a shutdown does not use up an attempt");
    assert_eq!(requeued.lease_owner, None);
    test.close().await;
}

/// Waits (bounded) for the first event matching `wanted`.
async fn wait_for(
    events: &mut broadcast::Receiver<EngineEvent>,
    wanted: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("engine events closed"),
            }
        }
    })
    .await
    .expect("the event did not come within 20 s")
}
