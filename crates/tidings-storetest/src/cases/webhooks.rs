//! Completion webhooks: a run of a schedule with a `callback_url` that ends — by its worker, by
//! lease rescue, or cancelled while queued — gets exactly one delivery queued with it, a
//! `webhook` run whose parent is the finished run; a run that is retried, or whose schedule
//! has no callback, gets none; and deliveries never touch the schedule's statistics.

use jiff::{SignedDuration, Timestamp};
use tidings_core::{RetryPolicy, RunState, RunTrigger};
use tidings_store::{
    Run, RunCancelParams, RunCompletion, RunId, RunListParams, RunOutcome, RunRescueParams,
    Schedule, ScheduleSpec, Store, WEBHOOK_KIND, WEBHOOK_RETRY, WEBHOOK_TIMEOUT,
};

use crate::fixtures::*;

const HOOK: &str = "https://hooks.example.com/tidings?token=abc";

/// A schedule named `name` whose runs report to [`HOOK`], tried at most `max_attempts` times,
/// with room for ten runs at once.
fn hooked(name: &str, max_attempts: u32) -> ScheduleSpec {
    let mut spec = ScheduleSpec {
        callback_url: Some(HOOK.to_owned()),
        ..spec(name)
    };
    spec.policy.retry = RetryPolicy {
        max_attempts,
        ..RetryPolicy::default()
    };
    spec.policy.fire.max_instances = 10;
    spec
}

async fn with_callback(store: &dyn Store, name: &str, max_attempts: u32) -> Schedule {
    create(store, hooked(name, max_attempts), None).await
}

/// A manual run of `schedule`, claimed by `worker-a` at `T0 + 1 s`.
async fn claimed_run_of(store: &dyn Store, schedule: &Schedule) -> Run {
    let queued = enqueue(store, manual(schedule, t0())).await;
    let claimed = claim_one(store, "worker-a", at(1)).await;
    assert_eq!(claimed.id, queued.id);
    claimed
}

/// The runs whose parent is `parent`, newest first.
async fn deliveries_of(store: &dyn Store, parent: RunId) -> Vec<Run> {
    list_runs(
        store,
        RunListParams {
            parent: Some(parent),
            ..RunListParams::default()
        },
    )
    .await
}

/// Every `webhook` run, oldest first.
async fn all_deliveries(store: &dyn Store) -> Vec<Run> {
    let mut runs = list_runs(
        store,
        RunListParams {
            kind: Some(WEBHOOK_KIND.to_owned()),
            ..RunListParams::default()
        },
    )
    .await;
    runs.reverse();
    runs
}

/// `parent` has exactly one delivery, queued at `at` for [`HOOK`]: returns it.
#[track_caller]
fn assert_one_delivery(deliveries: &[Run], parent: RunId, at: Timestamp) -> Run {
    assert_eq!(
        deliveries.len(),
        1,
        "deliveries of run {parent}: {deliveries:?}"
    );
    let delivery = deliveries[0].clone();
    assert_eq!(delivery.parent_run_id, Some(parent));
    assert_eq!(delivery.kind, WEBHOOK_KIND);
    assert_eq!(delivery.trigger, RunTrigger::Webhook);
    assert_eq!(delivery.state, RunState::Queued);
    assert_eq!(
        delivery.schedule_id, None,
        "a delivery is no run of the schedule"
    );
    assert_eq!(delivery.params, serde_json::json!({ "url": HOOK }));
    assert_eq!(delivery.retry, WEBHOOK_RETRY);
    assert_eq!(delivery.timeout, WEBHOOK_TIMEOUT);
    assert_eq!(delivery.attempt, 0);
    assert_eq!(delivery.run_after, at, "claimable as soon as the run ended");
    assert_eq!(delivery.created_at, at);
    assert_eq!(delivery.scheduled_for, None);
    delivery
}

pub async fn webhook_queued_when_a_run_of_a_schedule_with_callback_ends(store: &dyn Store) {
    let made = with_callback(store, "hooked", 3).await;
    let claimed = claimed_run_of(store, &made).await;
    assert!(
        deliveries_of(store, claimed.id).await.is_empty(),
        "nothing is delivered while the run runs"
    );
    complete(store, &claimed, at(9), succeeded()).await;

    let delivery = assert_one_delivery(&deliveries_of(store, claimed.id).await, claimed.id, at(9));
    assert_eq!(run(store, delivery.id).await, delivery, "run_get agrees");
    assert_eq!(all_deliveries(store).await, std::slice::from_ref(&delivery));
    assert_eq!(run(store, claimed.id).await.parent_run_id, None);
    // The delivery is an ordinary run: due at once, claimable by any worker.
    assert_eq!(store.run_queue_depth(at(9)).await.unwrap(), 1);
    let claimed_delivery = claim_one(store, "worker-b", at(10)).await;
    assert_eq!(claimed_delivery.id, delivery.id);
}

pub async fn webhook_not_queued_without_callback_url(store: &dyn Store) {
    let made = create(store, spec("quiet"), None).await;
    let claimed = claimed_run_of(store, &made).await;
    complete(store, &claimed, at(9), succeeded()).await;
    let adhoc_run = enqueue(store, adhoc("sync", at(10))).await;
    let adhoc_claimed = claim_one(store, "worker-a", at(11)).await;
    assert_eq!(adhoc_claimed.id, adhoc_run.id);
    complete(store, &adhoc_claimed, at(12), succeeded()).await;

    assert!(deliveries_of(store, claimed.id).await.is_empty());
    assert!(all_deliveries(store).await.is_empty());
    assert_eq!(store.run_queue_depth(at(60)).await.unwrap(), 0);
}

/// One batch of completions, in the set-based path: every outcome that ends a run of a schedule
/// with a callback gets one delivery, in the order of the batch; a retried failure, a snooze and
/// a run of a schedule without callback get none.
pub async fn webhook_queued_for_each_run_ended_in_one_batch(store: &dyn Store) {
    let hooked = with_callback(store, "hooked", 3).await;
    let quiet = create(store, spec("quiet"), None).await;
    let mut queued = Vec::new();
    for schedule in [&hooked, &hooked, &hooked, &hooked, &hooked, &quiet] {
        queued.push(enqueue(store, manual(schedule, t0())).await.id);
    }
    let claimed = claim(store, "worker-a", at(1), 10).await;
    assert_eq!(ids(&claimed), queued);
    let outcomes = [
        succeeded(),
        RunOutcome::Failed {
            error: "boom".to_owned(),
            retry_at: None,
        },
        RunOutcome::TimedOut {
            error: "timed out after 60 s".to_owned(),
            retry_at: None,
        },
        RunOutcome::Failed {
            error: "try again".to_owned(),
            retry_at: Some(at(100)),
        },
        RunOutcome::Cancelled {
            reason: "cancelled by alice".to_owned(),
        },
        succeeded(),
    ];
    // Reported newest first, so that the batch order is not the id order.
    let completions: Vec<RunCompletion> = queued
        .iter()
        .zip(outcomes)
        .enumerate()
        .rev()
        .map(|(i, (&run_id, outcome))| RunCompletion {
            run_id,
            instance: "worker-a".to_owned(),
            attempt: 1,
            finished_at: at(10 + i as i64),
            outcome,
        })
        .collect();
    let done = store.run_complete(completions).await.unwrap();
    assert!(done.refused.is_empty(), "{done:?}");

    let delivered = all_deliveries(store).await;
    let parents: Vec<Option<RunId>> = delivered.iter().map(|d| d.parent_run_id).collect();
    assert_eq!(
        parents,
        [queued[4], queued[2], queued[1], queued[0]].map(Some),
        "one delivery per run ended (not the retried one, not the one without callback), in \
         the order of the batch"
    );
    for (i, &parent) in queued.iter().enumerate().take(5) {
        let deliveries = deliveries_of(store, parent).await;
        if i == 3 {
            assert!(deliveries.is_empty(), "a retried failure is not the end");
        } else {
            assert_one_delivery(&deliveries, parent, at(10 + i as i64));
        }
    }
    assert!(deliveries_of(store, queued[5]).await.is_empty());
}

pub async fn webhook_not_queued_for_a_retried_failure(store: &dyn Store) {
    let made = with_callback(store, "hooked", 2).await;
    let claimed = claimed_run_of(store, &made).await;
    let requeued = complete(
        store,
        &claimed,
        at(5),
        RunOutcome::Failed {
            error: "503 from upstream".to_owned(),
            retry_at: Some(at(60)),
        },
    )
    .await;
    assert_eq!(requeued.completed[0].state, RunState::Queued);
    assert!(deliveries_of(store, claimed.id).await.is_empty());
    // Snoozed and requeued attempts are not the end either.
    let again = claim_one(store, "worker-a", at(60)).await;
    complete(
        store,
        &again,
        at(61),
        RunOutcome::Snoozed { until: at(120) },
    )
    .await;
    let again = claim_one(store, "worker-a", at(120)).await;
    complete(
        store,
        &again,
        at(121),
        RunOutcome::Requeued {
            reason: "shutting down".to_owned(),
        },
    )
    .await;
    assert!(all_deliveries(store).await.is_empty());

    // The last attempt fails for good: now it is delivered, once.
    let last = claim_one(store, "worker-a", at(130)).await;
    assert_eq!(last.attempt, 2);
    complete(
        store,
        &last,
        at(131),
        RunOutcome::Failed {
            error: "503 from upstream".to_owned(),
            retry_at: None,
        },
    )
    .await;
    assert_one_delivery(&deliveries_of(store, claimed.id).await, claimed.id, at(131));
}

pub async fn webhook_queued_when_rescue_fails_the_run(store: &dyn Store) {
    let made = with_callback(store, "hooked", 2).await;
    let claimed = claimed_run_of(store, &made).await;
    let expired = claimed
        .lease_expires_at
        .unwrap_or_else(|| panic!("claimed without a lease: {claimed:?}"));

    // First rescue: an attempt is left, so the run is queued again, not delivered.
    let rescued = store
        .run_rescue_expired(RunRescueParams {
            now: expired + SignedDuration::from_secs(1),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].state, RunState::Queued);
    assert!(all_deliveries(store).await.is_empty());

    // Second rescue: no attempt left, the run fails and is delivered.
    let again = claim_one(store, "worker-a", rescued[0].run_after).await;
    let expired = again.lease_expires_at.unwrap_or(rescued[0].run_after);
    let now = expired + SignedDuration::from_secs(1);
    let failed = store
        .run_rescue_expired(RunRescueParams { now, limit: 10 })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].state, RunState::Failed);
    let deliveries = all_deliveries(store).await;
    assert_one_delivery(&deliveries, claimed.id, now);
    // The delivery is queued, not running: rescue does not mistake it for a lost run.
    assert!(
        store
            .run_rescue_expired(RunRescueParams {
                now: now + SignedDuration::from_secs(3600),
                limit: 10,
            })
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn webhook_queued_when_a_queued_run_is_cancelled(store: &dyn Store) {
    let made = with_callback(store, "hooked", 3).await;
    let queued = enqueue(store, manual(&made, at(60))).await;
    let cancelled = store
        .run_cancel(RunCancelParams {
            id: queued.id,
            now: at(5),
            reason: "cancelled by alice".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(cancelled.state, RunState::Cancelled);
    assert_one_delivery(&deliveries_of(store, queued.id).await, queued.id, at(5));

    // A running run asked to cancel is delivered when its worker reports it cancelled.
    let second = claimed_run_of(store, &made).await;
    let flagged = store
        .run_cancel(RunCancelParams {
            id: second.id,
            now: at(6),
            reason: "cancelled by alice".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(flagged.state, RunState::Running);
    assert!(deliveries_of(store, second.id).await.is_empty());
    complete(
        store,
        &second,
        at(7),
        RunOutcome::Cancelled {
            reason: "cancelled by alice".to_owned(),
        },
    )
    .await;
    assert_one_delivery(&deliveries_of(store, second.id).await, second.id, at(7));
    assert_eq!(all_deliveries(store).await.len(), 2);
}

/// Deleting a schedule cancels its queued runs without delivering them: the schedule and its
/// callback URL are gone.
pub async fn webhook_not_queued_for_runs_cancelled_by_schedule_delete(store: &dyn Store) {
    let made = with_callback(store, "hooked", 3).await;
    let queued = enqueue(store, manual(&made, at(60))).await;
    store.schedule_delete(made.id, at(5)).await.unwrap();
    assert_eq!(run(store, queued.id).await.state, RunState::Cancelled);
    assert!(all_deliveries(store).await.is_empty());
}

pub async fn webhook_run_does_not_change_the_schedule_stats(store: &dyn Store) {
    let mut spec = hooked("hooked", 1);
    spec.policy.fire.max_instances = 1;
    let made = create(store, spec, None).await;
    let claimed = claimed_run_of(store, &made).await;
    complete(store, &claimed, at(9), succeeded()).await;
    let stats = schedule(store, made.id).await.stats;
    assert_eq!((stats.total, stats.succeeded, stats.failed), (1, 1, 0));
    assert_eq!(stats.last_run_id, Some(claimed.id));

    // The delivery runs and fails for good: the schedule neither counts it nor points to it.
    let delivery = claim_one(store, "worker-b", at(10)).await;
    assert_eq!(delivery.parent_run_id, Some(claimed.id));
    complete(
        store,
        &delivery,
        at(11),
        RunOutcome::Failed {
            error: "HTTP 410 from https://hooks.example.com/tidings".to_owned(),
            retry_at: None,
        },
    )
    .await;
    assert_eq!(run(store, delivery.id).await.state, RunState::Failed);
    assert_eq!(schedule(store, made.id).await.stats, stats);
    assert!(
        deliveries_of(store, delivery.id).await.is_empty(),
        "a delivery is never delivered itself"
    );
    assert!(
        runs_of(store, made.id)
            .await
            .iter()
            .all(|r| r.id == claimed.id)
    );

    // Nor does a queued delivery take one of the schedule's `max_instances` places.
    let second = claimed_run_of_at(store, &made, at(20)).await;
    complete(store, &second, at(21), succeeded()).await;
    let next = enqueue(store, manual(&made, at(22))).await;
    let claimed_next = claim(store, "worker-a", at(22), 10).await;
    assert!(
        claimed_next.iter().any(|r| r.id == next.id),
        "the schedule's run is claimed beside its pending delivery: {claimed_next:?}"
    );
}

/// A manual run of `schedule` due and claimed at `now`.
async fn claimed_run_of_at(store: &dyn Store, schedule: &Schedule, now: Timestamp) -> Run {
    let queued = enqueue(store, manual(schedule, now)).await;
    let claimed = claim(store, "worker-a", now, 10).await;
    claimed
        .into_iter()
        .find(|r| r.id == queued.id)
        .unwrap_or_else(|| panic!("run {} was not claimed at {now}", queued.id))
}

pub async fn run_list_by_parent_finds_only_that_runs_deliveries(store: &dyn Store) {
    let made = with_callback(store, "hooked", 3).await;
    enqueue(store, manual(&made, t0())).await;
    enqueue(store, manual(&made, t0())).await;
    let claimed = claim(store, "worker-a", at(1), 10).await;
    let [first, second] = claimed.as_slice() else {
        panic!("expected two runs claimed: {claimed:?}");
    };
    complete(store, first, at(2), succeeded()).await;
    complete(store, second, at(4), succeeded()).await;

    let of_first = deliveries_of(store, first.id).await;
    let of_second = deliveries_of(store, second.id).await;
    assert_one_delivery(&of_first, first.id, at(2));
    assert_one_delivery(&of_second, second.id, at(4));
    assert_ne!(of_first[0].id, of_second[0].id);
    assert!(deliveries_of(store, RunId(987_654)).await.is_empty());
    // The filter combines with the others.
    let failed_only = list_runs(
        store,
        RunListParams {
            parent: Some(first.id),
            states: vec![RunState::Failed],
            ..RunListParams::default()
        },
    )
    .await;
    assert!(failed_only.is_empty());
}
