//! What the cases are built from: a fixed start instant, schedule specs and run requests with
//! the defaults a user would get, and short forms of the store calls the cases repeat.
//!
//! Time is always an argument: every instant is `T0` plus an offset, never the system clock.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tidings_core::{CronExpr, CronTrigger, RetryPolicy, RunState, RunTrigger, Trigger, Zone};
use tidings_store::{
    Run, RunClaimParams, RunCompleted, RunCompletion, RunEnqueueParams, RunEnqueued, RunId,
    RunListParams, RunOutcome, Schedule, ScheduleCreateParams, ScheduleId, ScheduleKey,
    ScheduleName, ScheduleOrigin, SchedulePolicy, ScheduleSpec, Store, StoreError,
};

/// The instant every case starts from: 2025-06-01T12:00:00Z.
pub fn t0() -> Timestamp {
    ts("2025-06-01T12:00:00Z")
}

/// `T0` plus `seconds` (negative for earlier).
pub fn at(seconds: i64) -> Timestamp {
    t0() + secs(seconds)
}

/// Parses an RFC 3339 instant written in a case.
pub fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad instant `{text}` in a case: {e}"))
}

pub fn secs(seconds: i64) -> SignedDuration {
    SignedDuration::from_secs(seconds)
}

/// The lease every case claims with unless it says otherwise.
pub fn lease() -> SignedDuration {
    secs(30)
}

pub fn name(text: &str) -> ScheduleName {
    ScheduleName::parse(text).unwrap_or_else(|e| panic!("bad schedule name in a case: {e}"))
}

/// `* * * * *` in UTC.
pub fn every_minute() -> Trigger {
    cron("* * * * *", "UTC")
}

pub fn cron(expr: &str, zone: &str) -> Trigger {
    let expr = CronExpr::parse(expr).unwrap_or_else(|e| panic!("bad cron `{expr}`: {e}"));
    let zone = Zone::parse(zone).unwrap_or_else(|e| panic!("bad zone `{zone}`: {e}"));
    Trigger::Cron(CronTrigger::new(expr, zone))
}

/// An enabled per-minute `http` schedule with the default policies.
pub fn spec(schedule_name: &str) -> ScheduleSpec {
    ScheduleSpec {
        name: name(schedule_name),
        description: None,
        trigger: every_minute(),
        kind: "http".to_owned(),
        params: serde_json::json!({ "url": "http://127.0.0.1:9/hook" }),
        enabled: true,
        policy: SchedulePolicy::default(),
        source: None,
        tags: Vec::new(),
        callback_url: None,
    }
}

/// Creates `spec` at `T0` (origin `api`) whose next occurrence is `next_run_at`.
pub async fn create(
    store: &dyn Store,
    spec: ScheduleSpec,
    next_run_at: Option<Timestamp>,
) -> Schedule {
    store
        .schedule_create(ScheduleCreateParams {
            spec,
            origin: ScheduleOrigin::Api,
            now: t0(),
            next_run_at,
        })
        .await
        .unwrap_or_else(|e| panic!("schedule_create: {e}"))
}

pub async fn schedule(store: &dyn Store, id: ScheduleId) -> Schedule {
    store
        .schedule_get(&ScheduleKey::Id(id))
        .await
        .unwrap_or_else(|e| panic!("schedule_get {id}: {e}"))
}

/// An ad-hoc (`api`) run of `kind`, claimable from `run_after`, created at `T0`.
pub fn adhoc(kind: &str, run_after: Timestamp) -> RunEnqueueParams {
    RunEnqueueParams {
        schedule_id: None,
        kind: kind.to_owned(),
        params: serde_json::json!({}),
        trigger: RunTrigger::Api,
        retry: RetryPolicy::default(),
        timeout: secs(3600),
        run_after,
        now: t0(),
        max_instances: None,
        parent_run_id: None,
    }
}

/// A manual run of `schedule` with its kind, params and policies, claimable from `run_after`.
pub fn manual(schedule: &Schedule, run_after: Timestamp) -> RunEnqueueParams {
    RunEnqueueParams {
        schedule_id: Some(schedule.id),
        kind: schedule.kind.clone(),
        params: schedule.params.clone(),
        trigger: RunTrigger::Manual,
        retry: schedule.policy.retry,
        timeout: schedule.policy.timeout,
        run_after,
        now: t0(),
        max_instances: None,
        parent_run_id: None,
    }
}

/// Enqueues `params`, which must not be refused.
pub async fn enqueue(store: &dyn Store, params: RunEnqueueParams) -> Run {
    match store.run_enqueue(params).await {
        Ok(RunEnqueued::Queued(run)) => *run,
        Ok(RunEnqueued::AtCapacity(active)) => {
            panic!("run_enqueue refused at capacity; active runs: {active:?}")
        }
        Err(e) => panic!("run_enqueue: {e}"),
    }
}

/// Claims up to `limit` runs of any kind for `instance` at `now` with the default lease.
pub async fn claim(store: &dyn Store, instance: &str, now: Timestamp, limit: u32) -> Vec<Run> {
    store
        .run_claim(RunClaimParams {
            instance: instance.to_owned(),
            now,
            lease: lease(),
            limit,
            kinds: Vec::new(),
            only: None,
        })
        .await
        .unwrap_or_else(|e| panic!("run_claim: {e}"))
}

/// Claims exactly the one run that is due for `instance`.
pub async fn claim_one(store: &dyn Store, instance: &str, now: Timestamp) -> Run {
    let mut claimed = claim(store, instance, now, 1).await;
    assert_eq!(claimed.len(), 1, "expected one run to claim at {now}");
    claimed.remove(0)
}

/// Completes the attempt `run` (as claimed) is on, as its lease holder.
pub async fn complete(
    store: &dyn Store,
    run: &Run,
    finished_at: Timestamp,
    outcome: RunOutcome,
) -> RunCompleted {
    let instance = run
        .lease_owner
        .clone()
        .unwrap_or_else(|| panic!("run {} is not leased: {run:?}", run.id));
    complete_as(store, run.id, &instance, run.attempt, finished_at, outcome).await
}

/// Reports a completion as `instance` for `attempt`, right or wrong.
pub async fn complete_as(
    store: &dyn Store,
    run_id: RunId,
    instance: &str,
    attempt: u32,
    finished_at: Timestamp,
    outcome: RunOutcome,
) -> RunCompleted {
    store
        .run_complete(vec![RunCompletion {
            run_id,
            instance: instance.to_owned(),
            attempt,
            finished_at,
            outcome,
        }])
        .await
        .unwrap_or_else(|e| panic!("run_complete: {e}"))
}

pub fn succeeded() -> RunOutcome {
    RunOutcome::Succeeded { summary: None }
}

pub async fn run(store: &dyn Store, id: RunId) -> Run {
    store
        .run_get(id)
        .await
        .unwrap_or_else(|e| panic!("run_get {id}: {e}"))
}

/// Every run of `schedule`, newest first (one page of up to 10,000).
pub async fn runs_of(store: &dyn Store, schedule: ScheduleId) -> Vec<Run> {
    list_runs(
        store,
        RunListParams {
            schedule_id: Some(schedule),
            ..RunListParams::default()
        },
    )
    .await
}

/// Every run matching `params`, following the cursor to the last page.
pub async fn list_runs(store: &dyn Store, params: RunListParams) -> Vec<Run> {
    let mut params = RunListParams {
        limit: 10_000,
        ..params
    };
    let mut all = Vec::new();
    loop {
        let page = store
            .run_list(params.clone())
            .await
            .unwrap_or_else(|e| panic!("run_list: {e}"));
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return all,
        }
    }
}

/// The runs of `schedule` in `state`, oldest first.
pub async fn runs_in(store: &dyn Store, schedule: ScheduleId, state: RunState) -> Vec<Run> {
    let mut runs: Vec<Run> = runs_of(store, schedule)
        .await
        .into_iter()
        .filter(|r| r.state == state)
        .collect();
    runs.sort_by_key(|r| r.id);
    runs
}

/// The ids of `runs`, sorted.
pub fn ids(runs: &[Run]) -> Vec<RunId> {
    let mut ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// Fails with the error unless `result` is the error `expected` matches.
#[track_caller]
pub fn assert_store_error<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    expected: impl FnOnce(&StoreError) -> bool,
    what: &str,
) -> StoreError {
    match result {
        Ok(value) => panic!("{what}: expected an error, got Ok({value:?})"),
        Err(e) if expected(&e) => e,
        Err(e) => panic!("{what}: unexpected error {e:?}"),
    }
}

/// A store shared with spawned tasks.
pub type SharedStore = Arc<dyn Store>;
