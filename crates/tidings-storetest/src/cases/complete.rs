//! Completing attempts: every outcome's run state, attempt row and schedule statistics, and
//! completions refused because they come from the wrong instance or attempt.

use jiff::Timestamp;
use tidings_core::RunState;
use tidings_store::{
    Run, RunCompletion, RunId, RunOutcome, Schedule, ScheduleFireDueParams, ScheduleStats, Store,
};

use crate::fixtures::*;

/// A schedule with one run fired at `T0` and claimed by `worker-a` at `T0 + 5 s`.
async fn fired_and_claimed(store: &dyn Store) -> (Schedule, Run) {
    let made = create(store, spec("every-minute"), Some(t0())).await;
    store
        .schedule_fire_due(ScheduleFireDueParams {
            now: at(1),
            limit: 10,
        })
        .await
        .unwrap();
    let claimed = claim_one(store, "worker-a", at(5)).await;
    assert_eq!(claimed.schedule_id, Some(made.id));
    (made, claimed)
}

fn only(completed: tidings_store::RunCompleted) -> Run {
    assert!(completed.refused.is_empty(), "refused: {completed:?}");
    assert_eq!(completed.completed.len(), 1, "{completed:?}");
    completed
        .completed
        .into_iter()
        .next()
        .unwrap_or_else(|| unreachable!())
}

async fn last_attempt(store: &dyn Store, id: RunId) -> tidings_store::Attempt {
    let attempts = store.run_attempts(id).await.unwrap();
    attempts
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("run {id} has no attempts"))
}

fn assert_lease_cleared(run: &Run) {
    assert_eq!(run.lease_owner, None, "run {}", run.id);
    assert_eq!(run.lease_expires_at, None, "run {}", run.id);
}

pub async fn complete_succeeded_records_summary_and_stats(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let summary =
        serde_json::json!({ "fetched": 5123, "inserted": 12, "updated": 40, "deleted": 3 });
    let done = only(
        complete(
            store,
            &claimed,
            at(9),
            RunOutcome::Succeeded {
                summary: Some(summary.clone()),
            },
        )
        .await,
    );
    assert_eq!(done.state, RunState::Succeeded);
    assert_eq!(done.finished_at, Some(at(9)));
    assert_eq!(done.summary, Some(summary));
    assert_eq!(done.error, None);
    assert_eq!(done.attempt, 1);
    assert_lease_cleared(&done);
    assert_eq!(run(store, claimed.id).await, done);
    let attempt = last_attempt(store, claimed.id).await;
    assert_eq!(attempt.outcome, Some(RunState::Succeeded));
    assert_eq!(attempt.finished_at, Some(at(9)));
    assert_eq!(
        schedule(store, made.id).await.stats,
        ScheduleStats {
            total: 1,
            succeeded: 1,
            failed: 0,
            skipped: 0,
            missed: 0,
            last_run_at: Some(at(5)),
            last_run_id: Some(claimed.id),
            last_state: Some(RunState::Succeeded),
        }
    );
}

pub async fn complete_failed_with_retry_at_requeues_after_it(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let retry_at = at(30);
    let back = only(
        complete(
            store,
            &claimed,
            at(9),
            RunOutcome::Failed {
                error: "HTTP 503 from upstream".to_owned(),
                retry_at: Some(retry_at),
            },
        )
        .await,
    );
    assert_eq!(back.state, RunState::Queued);
    assert_eq!(back.run_after, retry_at);
    assert_eq!(back.error.as_deref(), Some("HTTP 503 from upstream"));
    assert_eq!(back.attempt, 1, "the failed attempt counts");
    assert_eq!(back.finished_at, None);
    assert_lease_cleared(&back);
    let attempt = last_attempt(store, claimed.id).await;
    assert_eq!(attempt.number, 1);
    assert_eq!(attempt.outcome, Some(RunState::Failed));
    assert_eq!(attempt.error.as_deref(), Some("HTTP 503 from upstream"));
    assert_eq!(attempt.finished_at, Some(at(9)));
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(stats.failed, 0, "not failed yet: it will be retried");
    assert_eq!(stats.last_state, None);
    assert_eq!(store.run_next_available_at().await.unwrap(), Some(retry_at));

    assert!(claim(store, "worker-a", at(29), 10).await.is_empty());
    let again = claim_one(store, "worker-b", retry_at).await;
    assert_eq!(again.id, claimed.id);
    assert_eq!(again.attempt, 2);
}

pub async fn complete_failed_without_retry_fails_the_run(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let failed = only(
        complete(
            store,
            &claimed,
            at(9),
            RunOutcome::Failed {
                error: "401 Unauthorized: check the token".to_owned(),
                retry_at: None,
            },
        )
        .await,
    );
    assert_eq!(failed.state, RunState::Failed);
    assert_eq!(failed.finished_at, Some(at(9)));
    assert_eq!(
        failed.error.as_deref(),
        Some("401 Unauthorized: check the token")
    );
    assert_lease_cleared(&failed);
    assert_eq!(
        last_attempt(store, claimed.id).await.outcome,
        Some(RunState::Failed)
    );
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(stats.failed, 1);
    assert_eq!(stats.succeeded, 0);
    assert_eq!(stats.last_run_at, Some(at(5)));
    assert_eq!(stats.last_run_id, Some(claimed.id));
    assert_eq!(stats.last_state, Some(RunState::Failed));
    assert!(claim(store, "worker-a", at(3600), 10).await.is_empty());
}

pub async fn complete_timed_out_counts_as_failed(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let retried = only(
        complete(
            store,
            &claimed,
            at(9),
            RunOutcome::TimedOut {
                error: "timed out after 1h".to_owned(),
                retry_at: Some(at(20)),
            },
        )
        .await,
    );
    assert_eq!(retried.state, RunState::Queued);
    assert_eq!(retried.run_after, at(20));
    assert_eq!(
        last_attempt(store, claimed.id).await.outcome,
        Some(RunState::TimedOut)
    );
    assert_eq!(schedule(store, made.id).await.stats.failed, 0);

    let second = claim_one(store, "worker-a", at(20)).await;
    let timed_out = only(
        complete(
            store,
            &second,
            at(25),
            RunOutcome::TimedOut {
                error: "timed out after 1h".to_owned(),
                retry_at: None,
            },
        )
        .await,
    );
    assert_eq!(timed_out.state, RunState::TimedOut);
    assert_eq!(timed_out.finished_at, Some(at(25)));
    assert_eq!(timed_out.error.as_deref(), Some("timed out after 1h"));
    assert_lease_cleared(&timed_out);
    let attempts = store.run_attempts(claimed.id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].outcome, Some(RunState::TimedOut));
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(stats.failed, 1, "timed_out counts as failed");
    assert_eq!(stats.last_state, Some(RunState::TimedOut));
    assert_eq!(stats.last_run_id, Some(claimed.id));
    assert_eq!(stats.last_run_at, Some(at(5)), "when the run first started");
}

pub async fn complete_cancelled_records_the_reason(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let cancelled = only(
        complete(
            store,
            &claimed,
            at(9),
            RunOutcome::Cancelled {
                reason: "cancelled by alice".to_owned(),
            },
        )
        .await,
    );
    assert_eq!(cancelled.state, RunState::Cancelled);
    assert_eq!(cancelled.finished_at, Some(at(9)));
    assert_eq!(cancelled.error.as_deref(), Some("cancelled by alice"));
    assert_lease_cleared(&cancelled);
    assert_eq!(
        last_attempt(store, claimed.id).await.outcome,
        Some(RunState::Cancelled)
    );
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(stats.succeeded, 0);
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.last_state, Some(RunState::Cancelled));
    assert_eq!(stats.last_run_id, Some(claimed.id));
    assert_eq!(stats.last_run_at, Some(at(5)));
}

/// After a snooze or a requeue the run is queued with its attempt not counted; claiming it
/// again starts attempt 1 again.
async fn assert_put_back_uncounted(store: &dyn Store, claimed: &Run, back: &Run, at_: Timestamp) {
    assert_eq!(back.state, RunState::Queued);
    assert_eq!(back.attempt, 0, "the attempt does not count");
    assert_eq!(back.finished_at, None);
    assert_lease_cleared(back);
    let attempts = store.run_attempts(claimed.id).await.unwrap();
    assert!(
        attempts.is_empty()
            || (attempts.len() == 1 && attempts[0].outcome == Some(RunState::Queued)),
        "the put-back attempt is deleted or marked queued: {attempts:?}"
    );
    let again = claim_one(store, "worker-b", at_).await;
    assert_eq!(again.id, claimed.id);
    assert_eq!(again.attempt, 1);
    let attempts = store.run_attempts(claimed.id).await.unwrap();
    let last = attempts.last().cloned();
    assert_eq!(
        last.map(|a| (a.number, a.instance, a.outcome)),
        Some((1, "worker-b".to_owned(), None)),
        "{attempts:?}"
    );
}

pub async fn complete_snoozed_does_not_count_the_attempt(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let until = at(35);
    let back = only(complete(store, &claimed, at(9), RunOutcome::Snoozed { until }).await);
    assert_eq!(back.run_after, until);
    if let [attempt] = store.run_attempts(claimed.id).await.unwrap().as_slice() {
        let error = attempt.error.as_deref().unwrap_or_default();
        assert!(error.starts_with("snoozed until"), "{error}");
    }
    assert!(claim(store, "worker-b", at(34), 10).await.is_empty());
    assert_put_back_uncounted(store, &claimed, &back, until).await;
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(
        (stats.succeeded, stats.failed, stats.last_state),
        (0, 0, None)
    );
}

pub async fn complete_requeued_does_not_count_the_attempt(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let back = only(
        complete(
            store,
            &claimed,
            at(9),
            RunOutcome::Requeued {
                reason: "instance shutting down".to_owned(),
            },
        )
        .await,
    );
    assert_eq!(back.run_after, at(9), "claimable again at once");
    let attempts = store.run_attempts(claimed.id).await.unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].outcome, Some(RunState::Queued));
    assert_eq!(attempts[0].error.as_deref(), Some("instance shutting down"));
    assert_put_back_uncounted(store, &claimed, &back, at(9)).await;
    let stats = schedule(store, made.id).await.stats;
    assert_eq!(
        (stats.succeeded, stats.failed, stats.last_state),
        (0, 0, None)
    );
}

/// A completion not from the lease holder, or for another attempt, or for a run that is not
/// running, is refused and changes nothing; the others in the same batch are applied.
pub async fn complete_from_wrong_instance_or_attempt_is_refused(store: &dyn Store) {
    let (made, claimed) = fired_and_claimed(store).await;
    let other_queued = enqueue(store, adhoc("http", t0())).await;
    let other = claim_one(store, "worker-b", at(6)).await;
    assert_eq!(other.id, other_queued.id);
    let queued = enqueue(store, adhoc("http", at(3600))).await;
    let before = run(store, claimed.id).await;
    let stats_before = schedule(store, made.id).await.stats;

    let wrong_instance = complete_as(store, claimed.id, "worker-z", 1, at(9), succeeded()).await;
    assert_eq!(wrong_instance.refused, [claimed.id]);
    assert!(wrong_instance.completed.is_empty());
    let wrong_attempt = complete_as(store, claimed.id, "worker-a", 2, at(9), succeeded()).await;
    assert_eq!(wrong_attempt.refused, [claimed.id]);
    let not_running = complete_as(store, queued.id, "worker-a", 0, at(9), succeeded()).await;
    assert_eq!(not_running.refused, [queued.id]);
    let unknown = complete_as(store, RunId(987_654), "worker-a", 1, at(9), succeeded()).await;
    assert_eq!(unknown.refused, [RunId(987_654)]);
    assert_eq!(run(store, claimed.id).await, before);
    assert_eq!(run(store, queued.id).await.state, RunState::Queued);
    assert_eq!(schedule(store, made.id).await.stats, stats_before);
    assert_eq!(store.run_attempts(claimed.id).await.unwrap().len(), 1);

    let batch = store
        .run_complete(vec![
            RunCompletion {
                run_id: claimed.id,
                instance: "worker-b".to_owned(),
                attempt: 1,
                finished_at: at(10),
                outcome: RunOutcome::Failed {
                    error: "not mine".to_owned(),
                    retry_at: None,
                },
            },
            RunCompletion {
                run_id: other.id,
                instance: "worker-b".to_owned(),
                attempt: 1,
                finished_at: at(10),
                outcome: succeeded(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(batch.refused, [claimed.id]);
    assert_eq!(ids(&batch.completed), [other.id]);
    assert_eq!(run(store, other.id).await.state, RunState::Succeeded);
    assert_eq!(run(store, claimed.id).await, before);

    // A second completion of a finished run is refused as well.
    let done = only(complete(store, &claimed, at(11), succeeded()).await);
    assert_eq!(done.state, RunState::Succeeded);
    let twice = complete_as(store, claimed.id, "worker-a", 1, at(12), succeeded()).await;
    assert_eq!(twice.refused, [claimed.id]);
    assert_eq!(schedule(store, made.id).await.stats.succeeded, 1);
}
