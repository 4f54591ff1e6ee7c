//! Claiming: due runs only, oldest first, the limit, kinds, `max_instances`, no run handed out
//! twice, attempts recorded; and heartbeats renewing leases.

use std::collections::HashSet;

use tidings_core::{FirePolicy, RunState};
use tidings_store::{
    Attempt, RunCancelParams, RunClaimParams, RunHeartbeatParams, RunId, RunOutcome,
    SchedulePolicy, ScheduleSpec, Store, StoreError,
};

use crate::fixtures::*;

/// Runs whose `run_after` has come, oldest `run_after` first (then oldest id), up to the limit;
/// each claimed run is `running` under the claimer's lease, as `run_get` then shows it.
pub async fn claim_takes_only_due_runs_oldest_first_up_to_limit(store: &dyn Store) {
    let late = enqueue(store, adhoc("http", at(180))).await;
    let early = enqueue(store, adhoc("http", at(60))).await;
    let middle_a = enqueue(store, adhoc("http", at(120))).await;
    let middle_b = enqueue(store, adhoc("http", at(120))).await;
    let future = enqueue(store, adhoc("http", at(600))).await;

    assert!(claim(store, "worker-a", at(59), 10).await.is_empty());
    let now = at(300);
    let first = claim(store, "worker-a", now, 1).await;
    assert_eq!(ids(&first), [early.id]);
    let claimed = &first[0];
    assert_eq!(claimed.state, RunState::Running);
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.started_at, Some(now));
    assert_eq!(claimed.lease_owner.as_deref(), Some("worker-a"));
    assert_eq!(claimed.lease_expires_at, Some(now + lease()));
    assert_eq!(claimed.finished_at, None);
    assert!(!claimed.cancel_requested);
    assert_eq!(&run(store, early.id).await, claimed);

    let second = claim(store, "worker-b", now, 1).await;
    assert_eq!(
        ids(&second),
        [middle_a.id],
        "equal run_after: lower id first"
    );
    let rest = claim(store, "worker-b", now, 10).await;
    assert_eq!(ids(&rest), ids(&[middle_b.clone(), late.clone()]));
    assert!(
        rest.iter()
            .all(|r| r.lease_owner.as_deref() == Some("worker-b"))
    );
    assert!(claim(store, "worker-b", now, 10).await.is_empty());
    assert_eq!(run(store, future.id).await.state, RunState::Queued);
    assert_eq!(run(store, future.id).await.attempt, 0);
}

/// Several claimers at once never get the same run, and every run is claimed.
pub async fn claim_never_hands_a_run_to_two_claimers(store: &SharedStore) {
    let mut all = Vec::new();
    for _ in 0..40 {
        all.push(enqueue(&**store, adhoc("http", t0())).await.id);
    }
    let tasks: Vec<_> = (0..8)
        .map(|worker| {
            let store = store.clone();
            tokio::spawn(async move {
                let instance = format!("worker-{worker}");
                let mut mine = Vec::new();
                loop {
                    let claimed = store
                        .run_claim(RunClaimParams {
                            instance: instance.clone(),
                            now: at(1),
                            lease: lease(),
                            limit: 3,
                            kinds: Vec::new(),
                            only: None,
                        })
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    for run in claimed {
                        assert_eq!(run.lease_owner.as_deref(), Some(instance.as_str()));
                        mine.push(run.id);
                    }
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let unique: HashSet<RunId> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a run was claimed twice");
    claimed.sort();
    assert_eq!(claimed, all, "every run is claimed once");
    for id in all {
        let attempts = store.run_attempts(id).await.unwrap();
        assert_eq!(attempts.len(), 1, "run {id}: {attempts:?}");
        assert_eq!(run(&**store, id).await.attempt, 1);
    }
}

pub async fn claim_filters_by_kind(store: &dyn Store) {
    let http = enqueue(store, adhoc("http", t0())).await;
    let sync = enqueue(store, adhoc("sync", t0())).await;
    let report = enqueue(store, adhoc("report", t0())).await;
    let claimed = store
        .run_claim(RunClaimParams {
            instance: "worker-a".to_owned(),
            now: at(1),
            lease: lease(),
            limit: 10,
            kinds: vec!["sync".to_owned(), "report".to_owned(), "cleanup".to_owned()],
            only: None,
        })
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ids(&[sync, report]));
    assert_eq!(run(store, http.id).await.state, RunState::Queued);
    let any = claim(store, "worker-b", at(1), 10).await;
    assert_eq!(ids(&any), [http.id], "no kinds means any kind");
}

/// `only` claims that one run, whatever is ahead of it in the queue, and nothing when it is not
/// due or already taken.
pub async fn claim_only_takes_the_named_run(store: &dyn Store) {
    let first = enqueue(store, adhoc("sync", t0())).await;
    let wanted = enqueue(store, adhoc("sync", t0())).await;
    let params = |instance: &str| RunClaimParams {
        instance: instance.to_owned(),
        now: at(1),
        lease: lease(),
        limit: 10,
        kinds: Vec::new(),
        only: Some(wanted.id),
    };
    let claimed = store.run_claim(params("cli")).await.unwrap();
    assert_eq!(ids(&claimed), [wanted.id]);
    assert_eq!(run(store, first.id).await.state, RunState::Queued);
    let again = store.run_claim(params("worker-b")).await.unwrap();
    assert!(again.is_empty(), "a running run is not claimed twice");
    let later = enqueue(store, adhoc("sync", at(60))).await;
    let not_due = store
        .run_claim(RunClaimParams {
            only: Some(later.id),
            ..params("cli")
        })
        .await
        .unwrap();
    assert!(not_due.is_empty(), "a run not yet due is not claimed");
}

fn max_instances(schedule_name: &str, n: u32) -> ScheduleSpec {
    ScheduleSpec {
        policy: SchedulePolicy {
            fire: FirePolicy {
                max_instances: n,
                ..FirePolicy::default()
            },
            ..SchedulePolicy::default()
        },
        ..spec(schedule_name)
    }
}

/// A schedule's runs are only claimed while fewer than `max_instances` of them are running,
/// counting the ones claimed in the same call.
pub async fn claim_respects_max_instances_of_the_schedule(store: &dyn Store) {
    let single = create(store, max_instances("single", 1), None).await;
    let a = enqueue(store, manual(&single, t0())).await;
    let b = enqueue(store, manual(&single, t0())).await;
    let pair = create(store, max_instances("pair", 2), None).await;
    let mut of_pair = Vec::new();
    for _ in 0..3 {
        of_pair.push(enqueue(store, manual(&pair, t0())).await);
    }
    let loose = enqueue(store, adhoc("http", t0())).await;

    let claimed = claim(store, "worker-a", at(1), 10).await;
    assert_eq!(
        ids(&claimed),
        ids(&[a.clone(), of_pair[0].clone(), of_pair[1].clone(), loose])
    );
    assert!(claim(store, "worker-b", at(2), 10).await.is_empty());
    assert_eq!(run(store, b.id).await.state, RunState::Queued);

    let running_a = run(store, a.id).await;
    complete(store, &running_a, at(3), succeeded()).await;
    let next = claim(store, "worker-b", at(4), 10).await;
    assert_eq!(ids(&next), [b.id], "allowed again once the first one ended");

    let running_pair = run(store, of_pair[0].id).await;
    complete(
        store,
        &running_pair,
        at(5),
        RunOutcome::Failed {
            error: "boom".to_owned(),
            retry_at: None,
        },
    )
    .await;
    let last = claim(store, "worker-b", at(6), 10).await;
    assert_eq!(ids(&last), [of_pair[2].id]);
}

/// `max_instances = 1` holds when several instances claim at the same moment.
pub async fn claim_max_instances_holds_across_concurrent_claimers(store: &SharedStore) {
    let single = create(&**store, max_instances("single", 1), None).await;
    for _ in 0..5 {
        enqueue(&**store, manual(&single, t0())).await;
    }
    let tasks: Vec<_> = (0..6)
        .map(|worker| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .run_claim(RunClaimParams {
                        instance: format!("worker-{worker}"),
                        now: at(1),
                        lease: lease(),
                        limit: 5,
                        kinds: Vec::new(),
                        only: None,
                    })
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 1, "only one run of the schedule may be running");
    assert_eq!(
        runs_in(&**store, single.id, RunState::Running).await.len(),
        1
    );
    assert_eq!(
        runs_in(&**store, single.id, RunState::Queued).await.len(),
        4
    );
}

/// Each claim adds an attempt row; a retried run keeps its first `started_at`.
pub async fn claim_records_an_attempt(store: &dyn Store) {
    let queued = enqueue(store, adhoc("http", t0())).await;
    assert!(store.run_attempts(queued.id).await.unwrap().is_empty());
    let first = claim_one(store, "worker-a", at(1)).await;
    assert_eq!(
        store.run_attempts(queued.id).await.unwrap(),
        [Attempt {
            run_id: queued.id,
            number: 1,
            instance: "worker-a".to_owned(),
            started_at: at(1),
            finished_at: None,
            outcome: None,
            error: None,
        }]
    );
    complete(
        store,
        &first,
        at(2),
        RunOutcome::Failed {
            error: "HTTP 503".to_owned(),
            retry_at: Some(at(10)),
        },
    )
    .await;
    let second = claim_one(store, "worker-b", at(10)).await;
    assert_eq!(second.attempt, 2);
    assert_eq!(
        second.started_at,
        Some(at(1)),
        "when the first attempt started"
    );
    assert_eq!(
        store.run_attempts(queued.id).await.unwrap(),
        [
            Attempt {
                run_id: queued.id,
                number: 1,
                instance: "worker-a".to_owned(),
                started_at: at(1),
                finished_at: Some(at(2)),
                outcome: Some(RunState::Failed),
                error: Some("HTTP 503".to_owned()),
            },
            Attempt {
                run_id: queued.id,
                number: 2,
                instance: "worker-b".to_owned(),
                started_at: at(10),
                finished_at: None,
                outcome: None,
                error: None,
            }
        ]
    );
    assert_store_error(
        store.run_attempts(RunId(987_654)).await,
        |e| matches!(e, StoreError::NotFound { entity: "run", .. }),
        "attempts of an unknown run",
    );
}

/// A heartbeat renews the leases the instance holds, reports the runs it does not hold as
/// lost, and the ones someone asked to cancel.
pub async fn heartbeat_renews_owned_leases_and_reports_lost_and_cancel_requested(
    store: &dyn Store,
) {
    let one = enqueue(store, adhoc("http", t0())).await;
    let two = enqueue(store, adhoc("http", t0())).await;
    let never_claimed = enqueue(store, adhoc("http", at(3600))).await;
    let claimed = claim(store, "worker-a", at(1), 10).await;
    assert_eq!(ids(&claimed), ids(&[one.clone(), two.clone()]));
    store
        .run_cancel(RunCancelParams {
            id: two.id,
            now: at(5),
            reason: "stop it".to_owned(),
        })
        .await
        .unwrap();

    let mut beat = store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-a".to_owned(),
            runs: vec![one.id, two.id, never_claimed.id, RunId(987_654)],
            now: at(10),
            lease: secs(45),
        })
        .await
        .unwrap();
    beat.renewed.sort();
    beat.lost.sort();
    assert_eq!(beat.renewed, [one.id, two.id]);
    assert_eq!(beat.lost, [never_claimed.id, RunId(987_654)]);
    assert_eq!(beat.cancel_requested, [two.id]);
    assert_eq!(run(store, one.id).await.lease_expires_at, Some(at(55)));
    assert_eq!(run(store, two.id).await.lease_expires_at, Some(at(55)));

    let stranger = store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-b".to_owned(),
            runs: vec![one.id],
            now: at(20),
            lease: lease(),
        })
        .await
        .unwrap();
    assert!(stranger.renewed.is_empty());
    assert_eq!(stranger.lost, [one.id]);
    assert!(stranger.cancel_requested.is_empty());
    assert_eq!(
        run(store, one.id).await.lease_expires_at,
        Some(at(55)),
        "someone else's heartbeat does not touch the lease"
    );

    // A finished run is lost to its old owner too.
    let running = run(store, one.id).await;
    complete(store, &running, at(30), succeeded()).await;
    let after = store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-a".to_owned(),
            runs: vec![one.id],
            now: at(31),
            lease: lease(),
        })
        .await
        .unwrap();
    assert_eq!(after.lost, [one.id]);
    assert!(after.renewed.is_empty());
}
