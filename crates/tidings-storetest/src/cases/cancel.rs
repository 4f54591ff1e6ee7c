//! Cancelling: a queued run at once, a running one by asking its worker, a finished one not at
//! all.

use tidings_core::RunState;
use tidings_store::{
    RunCancelParams, RunHeartbeatParams, RunId, RunOutcome, ScheduleFireDueParams, Store,
    StoreError,
};

use crate::fixtures::*;

fn cancel_params(id: RunId, seconds: i64) -> RunCancelParams {
    RunCancelParams {
        id,
        now: at(seconds),
        reason: "cancelled by alice".to_owned(),
    }
}

pub async fn cancel_queued_run_cancels_it_at_once(store: &dyn Store) {
    let queued = enqueue(store, adhoc("sync", t0())).await;
    assert_eq!(store.run_queue_depth(at(1)).await.unwrap(), 1);
    let cancelled = store.run_cancel(cancel_params(queued.id, 5)).await.unwrap();
    assert_eq!(cancelled.state, RunState::Cancelled);
    assert_eq!(cancelled.finished_at, Some(at(5)));
    assert_eq!(cancelled.error.as_deref(), Some("cancelled by alice"));
    assert_eq!(cancelled.attempt, 0);
    assert_eq!(run(store, queued.id).await, cancelled);
    assert_eq!(store.run_queue_depth(at(10)).await.unwrap(), 0);
    assert_eq!(store.run_next_available_at().await.unwrap(), None);
    assert!(claim(store, "worker-a", at(10), 10).await.is_empty());
}

pub async fn cancel_running_run_requests_cancellation(store: &dyn Store) {
    let queued = enqueue(store, adhoc("sync", t0())).await;
    let claimed = claim_one(store, "worker-a", at(1)).await;
    let flagged = store.run_cancel(cancel_params(queued.id, 5)).await.unwrap();
    assert_eq!(flagged.state, RunState::Running, "its worker stops it");
    assert!(flagged.cancel_requested);
    assert_eq!(flagged.finished_at, None);
    assert_eq!(flagged.lease_owner.as_deref(), Some("worker-a"));
    assert_eq!(run(store, queued.id).await, flagged);
    let beat = store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-a".to_owned(),
            runs: vec![queued.id],
            now: at(6),
            lease: lease(),
        })
        .await
        .unwrap();
    assert_eq!(beat.renewed, [queued.id]);
    assert_eq!(beat.cancel_requested, [queued.id]);
    let done = complete(
        store,
        &claimed,
        at(7),
        RunOutcome::Cancelled {
            reason: "cancelled by alice".to_owned(),
        },
    )
    .await;
    assert_eq!(done.completed.len(), 1, "{done:?}");
    assert_eq!(done.completed[0].state, RunState::Cancelled);
    assert_eq!(done.completed[0].finished_at, Some(at(7)));
}

/// Finished runs and records cannot be cancelled: `InvalidState("run N already <state>")`.
pub async fn cancel_finished_run_is_invalid_state(store: &dyn Store) {
    let succeeded_run = enqueue(store, adhoc("sync", t0())).await;
    let claimed = claim_one(store, "worker-a", at(1)).await;
    complete(store, &claimed, at(2), succeeded()).await;
    let err = assert_store_error(
        store.run_cancel(cancel_params(succeeded_run.id, 5)).await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "cancel a succeeded run",
    );
    assert_eq!(
        err.to_string(),
        format!("run {} already succeeded", succeeded_run.id)
    );
    assert_eq!(
        run(store, succeeded_run.id).await.state,
        RunState::Succeeded
    );

    let cancelled = enqueue(store, adhoc("sync", t0())).await;
    store
        .run_cancel(cancel_params(cancelled.id, 5))
        .await
        .unwrap();
    let err = assert_store_error(
        store.run_cancel(cancel_params(cancelled.id, 6)).await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "cancel twice",
    );
    assert_eq!(
        err.to_string(),
        format!("run {} already cancelled", cancelled.id)
    );
    assert_eq!(run(store, cancelled.id).await.finished_at, Some(at(5)));

    // A missed record (a per-minute schedule an hour overdue).
    let made = create(store, spec("every-minute"), Some(at(-3600))).await;
    store
        .schedule_fire_due(ScheduleFireDueParams {
            now: at(10),
            limit: 10,
        })
        .await
        .unwrap();
    let missed = runs_in(store, made.id, RunState::Missed).await;
    assert_eq!(missed.len(), 1);
    let err = assert_store_error(
        store.run_cancel(cancel_params(missed[0].id, 11)).await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "cancel a missed record",
    );
    assert_eq!(
        err.to_string(),
        format!("run {} already missed", missed[0].id)
    );

    assert_store_error(
        store.run_cancel(cancel_params(RunId(987_654), 5)).await,
        |e| matches!(e, StoreError::NotFound { entity: "run", .. }),
        "cancel an unknown run",
    );
}
