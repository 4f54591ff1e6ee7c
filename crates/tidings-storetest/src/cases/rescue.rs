//! Rescuing runs whose lease expired (their instance died): retried after the backoff while
//! attempts remain, failed when none do, cancelled when a cancel was asked; the lost attempt
//! says so, and the old owner's late completion is refused.

use jiff::{SignedDuration, Timestamp};
use tidings_core::{FirePolicy, RetryPolicy, RunState};
use tidings_store::{
    Run, RunCancelParams, RunHeartbeatParams, RunRescueParams, SchedulePolicy, ScheduleSpec, Store,
};

use crate::fixtures::*;

async fn rescue(store: &dyn Store, now: Timestamp, limit: u32) -> Vec<Run> {
    store
        .run_rescue_expired(RunRescueParams { now, limit })
        .await
        .unwrap_or_else(|e| panic!("run_rescue_expired at {now}: {e}"))
}

const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    backoff: SignedDuration::from_secs(10),
    max_backoff: SignedDuration::from_secs(3600),
};

/// `run_after` is `now + retry.delay(attempt, run id)`: `backoff · 2^(attempt-1)` within ±20 %.
fn assert_backoff(rescued: &Run, now: Timestamp, attempt: u32) {
    let waited = rescued.run_after.duration_since(now);
    let base = RETRY.backoff.as_secs_f64() * f64::from(1_u32 << (attempt - 1));
    let secs = waited.as_secs_f64();
    assert!(
        secs >= base * 0.8 - 0.001 && secs <= base * 1.2 + 0.001,
        "attempt {attempt}: waited {secs}s, expected {base}s ± 20 %"
    );
    let expected = now + RETRY.delay(attempt, rescued.id.0 as u64);
    let off = rescued.run_after.duration_since(expected).abs();
    assert!(
        off <= SignedDuration::from_millis(1),
        "run_after {} differs from now + retry.delay = {expected}",
        rescued.run_after
    );
}

/// The lost attempt ended `failed` at `now`, saying whose lease expired when.
async fn assert_lost_attempt(
    store: &dyn Store,
    rescued: &Run,
    number: u32,
    now: Timestamp,
    expired_at: Timestamp,
) {
    let attempts = store.run_attempts(rescued.id).await.unwrap();
    let attempt = attempts
        .iter()
        .find(|a| a.number == number)
        .unwrap_or_else(|| panic!("no attempt {number}: {attempts:?}"));
    assert_eq!(attempt.outcome, Some(RunState::Failed));
    assert_eq!(attempt.finished_at, Some(now));
    assert_eq!(
        attempt.error.as_deref(),
        Some(
            format!(
                "worker lost: lease held by {} expired at {expired_at}",
                attempt.instance
            )
            .as_str()
        )
    );
}

/// A run whose lease expired is queued again after its backoff while attempts remain, and
/// fails once they are used up; leases only count as expired strictly after their instant.
pub async fn rescue_requeues_with_backoff_then_fails_when_attempts_run_out(store: &dyn Store) {
    let queued = enqueue(
        store,
        tidings_store::RunEnqueueParams {
            retry: RETRY,
            ..adhoc("sync", t0())
        },
    )
    .await;
    let mut now = at(1);
    for attempt in 1..=3 {
        let claimed = claim_one(store, &format!("worker-{attempt}"), now).await;
        assert_eq!(claimed.attempt, attempt);
        let expires = now + lease();
        assert!(
            rescue(store, expires, 10).await.is_empty(),
            "not yet expired"
        );
        now = expires + secs(1);
        let rescued = rescue(store, now, 10).await;
        assert_eq!(ids(&rescued), [queued.id]);
        let rescued = &rescued[0];
        assert_eq!(&run(store, queued.id).await, rescued);
        assert_eq!(rescued.attempt, attempt, "the lost attempt counts");
        assert_eq!(rescued.lease_owner, None);
        assert_eq!(rescued.lease_expires_at, None);
        let error = rescued.error.as_deref().unwrap_or_default();
        assert!(error.contains("worker lost"), "{error}");
        assert_lost_attempt(store, rescued, attempt, now, expires).await;
        if attempt < 3 {
            assert_eq!(rescued.state, RunState::Queued);
            assert_eq!(rescued.finished_at, None);
            assert_backoff(rescued, now, attempt);
            now = rescued.run_after;
        } else {
            assert_eq!(rescued.state, RunState::Failed);
            assert_eq!(rescued.finished_at, Some(now));
        }
    }
    assert!(rescue(store, now + secs(3600), 10).await.is_empty());
    assert_eq!(store.run_attempts(queued.id).await.unwrap().len(), 3);
}

/// With no attempts left the rescued run fails and the schedule's statistics say so.
pub async fn rescue_fails_the_run_when_no_attempts_remain(store: &dyn Store) {
    let made = create(
        store,
        ScheduleSpec {
            policy: SchedulePolicy {
                retry: RetryPolicy {
                    max_attempts: 1,
                    ..RetryPolicy::default()
                },
                ..SchedulePolicy::default()
            },
            ..spec("no-retry")
        },
        None,
    )
    .await;
    let queued = enqueue(store, manual(&made, t0())).await;
    claim_one(store, "worker-a", at(1)).await;
    let rescued = rescue(store, at(60), 10).await;
    assert_eq!(ids(&rescued), [queued.id]);
    assert_eq!(rescued[0].state, RunState::Failed);
    assert_eq!(rescued[0].finished_at, Some(at(60)));
    assert_lost_attempt(store, &rescued[0], 1, at(60), at(1) + lease()).await;
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(stats.failed, 1);
    assert_eq!(stats.last_state, Some(RunState::Failed));
    assert_eq!(stats.last_run_id, Some(queued.id));
    assert_eq!(stats.last_run_at, Some(at(1)));
    // Its schedule may run again: the failed run no longer counts against max_instances.
    enqueue(store, manual(&made, at(61))).await;
    claim_one(store, "worker-b", at(61)).await;
}

pub async fn rescue_cancels_when_cancel_was_requested(store: &dyn Store) {
    let queued = enqueue(store, adhoc("sync", t0())).await;
    claim_one(store, "worker-a", at(1)).await;
    let flagged = store
        .run_cancel(RunCancelParams {
            id: queued.id,
            now: at(2),
            reason: "cancelled by alice".to_owned(),
        })
        .await
        .unwrap();
    assert!(flagged.cancel_requested);
    let rescued = rescue(store, at(60), 10).await;
    assert_eq!(ids(&rescued), [queued.id]);
    assert_eq!(rescued[0].state, RunState::Cancelled);
    assert_eq!(rescued[0].finished_at, Some(at(60)));
    assert_eq!(rescued[0].lease_owner, None);
    assert_lost_attempt(store, &rescued[0], 1, at(60), at(1) + lease()).await;
    assert!(claim(store, "worker-b", at(3600), 10).await.is_empty());
}

/// The instance that lost the lease can neither complete the run nor renew it, before or
/// after another instance claims it again.
pub async fn rescued_run_refuses_late_completion_by_its_old_owner(store: &dyn Store) {
    let queued = enqueue(
        store,
        tidings_store::RunEnqueueParams {
            retry: RETRY,
            ..adhoc("sync", t0())
        },
    )
    .await;
    let old = claim_one(store, "worker-a", at(1)).await;
    let rescued = rescue(store, at(40), 10).await;
    assert_eq!(rescued.len(), 1);
    let late = complete(store, &old, at(41), succeeded()).await;
    assert_eq!(late.refused, [queued.id]);
    assert!(late.completed.is_empty());
    assert_eq!(run(store, queued.id).await, rescued[0]);
    let beat = store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-a".to_owned(),
            runs: vec![queued.id],
            now: at(41),
            lease: lease(),
        })
        .await
        .unwrap();
    assert_eq!(beat.lost, [queued.id]);

    let new = claim_one(store, "worker-b", rescued[0].run_after).await;
    assert_eq!(new.attempt, 2);
    let later = complete(store, &old, at(100), succeeded()).await;
    assert_eq!(later.refused, [queued.id], "old owner, old attempt");
    let wrong = complete_as(store, queued.id, "worker-a", 2, at(100), succeeded()).await;
    assert_eq!(wrong.refused, [queued.id], "old owner, current attempt");
    assert_eq!(
        run(store, queued.id).await.lease_owner.as_deref(),
        Some("worker-b")
    );
    let done = complete(store, &new, at(101), succeeded()).await;
    assert_eq!(ids(&done.completed), [queued.id]);
    assert_eq!(done.completed[0].state, RunState::Succeeded);
}

/// Only expired leases are rescued, at most `limit` per call; heartbeats keep a lease alive.
pub async fn rescue_takes_only_expired_leases_up_to_limit(store: &dyn Store) {
    let policy = SchedulePolicy {
        fire: FirePolicy {
            max_instances: 10,
            ..FirePolicy::default()
        },
        ..SchedulePolicy::default()
    };
    let made = create(
        store,
        ScheduleSpec {
            policy,
            ..spec("busy")
        },
        None,
    )
    .await;
    for _ in 0..4 {
        enqueue(store, manual(&made, t0())).await;
    }
    let claimed = claim(store, "worker-a", at(1), 10).await;
    assert_eq!(claimed.len(), 4);
    // The last one is kept alive by a heartbeat.
    let kept = claimed[3].id;
    store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-a".to_owned(),
            runs: vec![kept],
            now: at(20),
            lease: lease(),
        })
        .await
        .unwrap();
    let first = rescue(store, at(40), 2).await;
    assert_eq!(first.len(), 2);
    let second = rescue(store, at(40), 2).await;
    assert_eq!(second.len(), 1);
    assert!(rescue(store, at(40), 2).await.is_empty());
    let mut rescued = ids(&first);
    rescued.extend(ids(&second));
    rescued.sort();
    assert!(!rescued.contains(&kept));
    assert_eq!(run(store, kept).await.state, RunState::Running);
    assert_eq!(runs_in(store, made.id, RunState::Queued).await.len(), 3);
}
