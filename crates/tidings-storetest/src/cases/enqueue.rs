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

/// A batch of ad-hoc runs is queued in the order given, each as `run_enqueue` would queue it,
/// across the backends' insert chunks; claims take them oldest first. A batch holding a
/// schedule's run is refused whole.
pub async fn enqueue_batch_queues_adhoc_runs_in_order_or_none(store: &dyn Store) {
    assert!(
        store
            .run_enqueue_batch(Vec::new())
            .await
            .unwrap()
            .is_empty()
    );

    let runs: Vec<RunEnqueueParams> = (0..2_500)
        .map(|i| RunEnqueueParams {
            params: serde_json::json!({ "n": i }),
            retry: RetryPolicy {
                max_attempts: 1 + i % 3,
                ..RetryPolicy::default()
            },
            timeout: secs(60 + i64::from(i % 7)),
            ..adhoc(
                if i % 2 == 0 { "http" } else { "noop" },
                at(i64::from(i % 5)),
            )
        })
        .collect();
    let queued = store.run_enqueue_batch(runs.clone()).await.unwrap();
    assert_eq!(queued.len(), runs.len());
    for (given, run) in runs.iter().zip(&queued) {
        assert_eq!(run.schedule_id, None);
        assert_eq!(run.kind, given.kind);
        assert_eq!(run.params, given.params);
        assert_eq!(run.trigger, RunTrigger::Api);
        assert_eq!(run.state, RunState::Queued);
        assert_eq!(run.attempt, 0);
        assert_eq!(run.retry, given.retry);
        assert_eq!(run.timeout, given.timeout);
        assert_eq!(run.run_after, given.run_after);
        assert_eq!(run.created_at, t0());
    }
    assert!(queued.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(run(store, queued[1_234].id).await, queued[1_234]);

    // The first claim takes the earliest due, in the order given among equals.
    let claimed = claim(store, "worker", at(10), 3).await;
    let due_first: Vec<_> = queued
        .iter()
        .filter(|run| run.run_after == at(0))
        .take(3)
        .map(|run| run.id)
        .collect();
    assert_eq!(
        claimed.iter().map(|run| run.id).collect::<Vec<_>>(),
        due_first
    );

    // A schedule's run in the batch: nothing is queued.
    let made = create(store, spec("nightly"), None).await;
    let before = store
        .run_list(tidings_store::RunListParams {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let refused = store
        .run_enqueue_batch(vec![adhoc("noop", t0()), manual(&made, t0())])
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("ad-hoc runs only"),
        "{refused}"
    );
    let after = store
        .run_list(tidings_store::RunListParams {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(before, after, "a refused batch queues nothing");
}
