//! Enqueueing runs outside a schedule's trigger (manual, API, startup), with the
//! `max_instances` check done in the same transaction.

use tidings_core::{RetryPolicy, RunState, RunTrigger};
use tidings_store::{RunEnqueueParams, RunEnqueued, RunOutcome, Store};

use crate::fixtures::*;

pub async fn enqueue_queues_a_run_and_counts_it_in_stats(store: &dyn Store) {
    let made = create(store, spec("nightly"), None).await;
    let params = RunEnqueueParams {
        params: serde_json::json!({ "mode": "full" }),
        retry: RetryPolicy {
            max_attempts: 7,
            ..RetryPolicy::default()
        },
        timeout: secs(120),
        trigger: RunTrigger::Startup,
        ..manual(&made, at(30))
    };
    let queued = enqueue(store, params.clone()).await;
    assert_eq!(queued.schedule_id, Some(made.id));
    assert_eq!(queued.kind, made.kind);
    assert_eq!(queued.params, params.params);
    assert_eq!(queued.trigger, RunTrigger::Startup);
    assert_eq!(queued.scheduled_for, None);
    assert_eq!(queued.state, RunState::Queued);
    assert_eq!(queued.attempt, 0);
    assert_eq!(queued.retry, params.retry);
    assert_eq!(queued.timeout, secs(120));
    assert_eq!(queued.run_after, at(30));
    assert_eq!(queued.created_at, t0());
    assert_eq!(queued.started_at, None);
    assert_eq!(queued.finished_at, None);
    assert_eq!(queued.lease_owner, None);
    assert!(!queued.cancel_requested);
    assert_eq!(queued.error, None);
    assert_eq!(queued.occurrences, None);
    assert_eq!(run(store, queued.id).await, queued);
    assert_eq!(schedule(store, made.id).await.stats.total, 1);

    let adhoc_run = enqueue(store, adhoc("http", t0())).await;
    assert_eq!(adhoc_run.schedule_id, None);
    assert_eq!(adhoc_run.trigger, RunTrigger::Api);
    assert_eq!(schedule(store, made.id).await.stats.total, 1);
    // Two manual runs of one schedule are two rows: the fire key only binds occurrences.
    enqueue(store, manual(&made, at(30))).await;
    assert_eq!(schedule(store, made.id).await.stats.total, 2);
    assert_eq!(runs_of(store, made.id).await.len(), 2);
}

/// At capacity the enqueue is refused with the schedule's queued and running runs; finished
/// runs and records do not count.
pub async fn enqueue_at_capacity_lists_the_active_runs(store: &dyn Store) {
    let made = create(store, spec("sync"), None).await;
    let capped = |run_after| RunEnqueueParams {
        max_instances: Some(2),
        ..manual(&made, run_after)
    };
    let first = enqueue(store, capped(t0())).await;
    let second = enqueue(store, capped(at(600))).await;
    let running = claim_one(store, "worker-a", at(1)).await;
    assert_eq!(running.id, first.id);

    let refused = store.run_enqueue(capped(at(2))).await.unwrap();
    let RunEnqueued::AtCapacity(active) = refused else {
        panic!("expected AtCapacity, got {refused:?}");
    };
    let mut active = active;
    active.sort_by_key(|r| r.id);
    assert_eq!(active, [running.clone(), run(store, second.id).await]);
    assert_eq!(active[0].state, RunState::Running);
    assert_eq!(active[1].state, RunState::Queued);
    assert_eq!(
        schedule(store, made.id).await.stats.total,
        2,
        "a refusal creates nothing"
    );
    assert_eq!(runs_of(store, made.id).await.len(), 2);

    // Without a cap the same request goes through.
    enqueue(store, manual(&made, at(2))).await;

    complete(
        store,
        &running,
        at(3),
        RunOutcome::Failed {
            error: "boom".to_owned(),
            retry_at: None,
        },
    )
    .await;
    let RunEnqueued::AtCapacity(active) = store.run_enqueue(capped(at(4))).await.unwrap() else {
        panic!("the second and third runs are still queued");
    };
    assert_eq!(active.len(), 2);
    store
        .run_cancel(tidings_store::RunCancelParams {
            id: second.id,
            now: at(5),
            reason: "not needed".to_owned(),
        })
        .await
        .unwrap();
    let accepted = enqueue(store, capped(at(6))).await;
    assert_eq!(accepted.state, RunState::Queued);
    assert_eq!(schedule(store, made.id).await.stats.total, 4);
}
