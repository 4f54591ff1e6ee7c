//! Firing: one run per occurrence under its fire key, `next_run_at` advanced in the same
//! transaction, misfires recorded as one `missed` row, coalescing, catch-up, `max_instances`
//! skips, `once` triggers and disabled schedules.

use jiff::{SignedDuration, Timestamp};
use tidings_core::{FirePolicy, Occurrences, OnceTrigger, RunState, RunTrigger, Trigger};
use tidings_store::{
    Run, ScheduleFireDueParams, ScheduleFired, SchedulePolicy, ScheduleSpec, ScheduleUpdateParams,
    Store,
};

use crate::fixtures::*;

async fn fire(store: &dyn Store, now: Timestamp) -> Vec<ScheduleFired> {
    fire_limit(store, now, 100).await
}

async fn fire_limit(store: &dyn Store, now: Timestamp, limit: u32) -> Vec<ScheduleFired> {
    store
        .schedule_fire_due(ScheduleFireDueParams { now, limit })
        .await
        .unwrap_or_else(|e| panic!("schedule_fire_due at {now}: {e}"))
}

fn with_fire_policy(schedule_name: &str, fire: FirePolicy) -> ScheduleSpec {
    ScheduleSpec {
        policy: SchedulePolicy {
            fire,
            ..SchedulePolicy::default()
        },
        ..spec(schedule_name)
    }
}

fn queued_runs(fired: &[ScheduleFired]) -> usize {
    fired.iter().map(|f| f.queued.len()).sum()
}

/// An occurrence on time queues exactly one run carrying the schedule's kind, params and
/// policies, and moves `next_run_at` to the following occurrence.
pub async fn fire_on_time_occurrence_queues_one_run_and_advances(store: &dyn Store) {
    let made = create(store, spec("every-minute"), Some(t0())).await;
    let now = t0() + SignedDuration::from_millis(250);
    let fired = fire(store, now).await;
    assert_eq!(fired.len(), 1, "{fired:?}");
    let fired = &fired[0];
    assert_eq!(fired.schedule_id, made.id);
    assert_eq!(fired.skipped, 0);
    assert_eq!(fired.missed, None);
    assert_eq!(fired.next_run_at, Some(at(60)));
    assert_eq!(fired.queued.len(), 1);
    let queued = &fired.queued[0];
    assert_eq!(queued.schedule_id, Some(made.id));
    assert_eq!(queued.trigger, RunTrigger::Schedule);
    assert_eq!(queued.state, RunState::Queued);
    assert_eq!(queued.scheduled_for, Some(t0()));
    assert_eq!(queued.run_after, t0());
    assert_eq!(queued.attempt, 0);
    assert_eq!(queued.kind, made.kind);
    assert_eq!(queued.params, made.params);
    assert_eq!(queued.retry, made.policy.retry);
    assert_eq!(queued.timeout, made.policy.timeout);
    assert_eq!(queued.created_at, now);
    assert_eq!(queued.started_at, None);
    assert_eq!(queued.finished_at, None);
    assert_eq!(queued.lease_owner, None);
    assert_eq!(queued.lease_expires_at, None);
    assert!(!queued.cancel_requested);
    assert_eq!(queued.error, None);
    assert_eq!(queued.summary, None);
    assert_eq!(queued.occurrences, None);
    assert_eq!(&run(store, queued.id).await, queued);

    let after = schedule(store, made.id).await;
    assert_eq!(after.next_run_at, Some(at(60)));
    assert_eq!(after.stats.total, 1);
    assert_eq!(store.schedule_next_due_at().await.unwrap(), Some(at(60)));
    assert!(fire(store, now).await.is_empty(), "nothing more is due");
    assert_eq!(runs_of(store, made.id).await.len(), 1);
}

pub async fn fire_twice_at_same_instant_creates_one_run(store: &dyn Store) {
    let made = create(store, spec("every-minute"), Some(t0())).await;
    let first = fire(store, at(30)).await;
    let second = fire(store, at(30)).await;
    assert_eq!(queued_runs(&first), 1);
    assert_eq!(queued_runs(&second), 0, "{second:?}");
    let runs = runs_of(store, made.id).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].scheduled_for, Some(t0()));
    assert_eq!(schedule(store, made.id).await.stats.total, 1);
}

/// The fire key `(schedule_id, scheduled_for)` is unique: an occurrence whose run exists (the
/// schedule was edited back onto it) is not queued again nor counted, and the schedule still
/// advances.
pub async fn fire_key_is_unique_per_occurrence(store: &dyn Store) {
    let fire_policy = FirePolicy {
        max_instances: 10,
        ..FirePolicy::default()
    };
    let made = create(
        store,
        with_fire_policy("every-minute", fire_policy),
        Some(t0()),
    )
    .await;
    assert_eq!(queued_runs(&fire(store, at(5)).await), 1);
    store
        .schedule_update(ScheduleUpdateParams {
            id: made.id,
            spec: with_fire_policy("every-minute", fire_policy),
            now: at(10),
            next_run_at: Some(t0()),
        })
        .await
        .unwrap();
    let again = fire(store, at(20)).await;
    assert_eq!(queued_runs(&again), 0, "{again:?}");
    let runs = runs_of(store, made.id).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let after = schedule(store, made.id).await;
    assert_eq!(after.stats.total, 1);
    assert_eq!(after.next_run_at, Some(at(60)));
}

/// Several schedulers firing at the same instants (instances sharing a database) create exactly
/// one run per occurrence between them.
pub async fn fire_from_concurrent_tasks_creates_one_run_per_occurrence(store: &SharedStore) {
    let fire_policy = FirePolicy {
        max_instances: 10,
        ..FirePolicy::default()
    };
    let mut schedules = Vec::new();
    for i in 0..5 {
        let made = create(
            &**store,
            with_fire_policy(&format!("s{i}"), fire_policy),
            Some(t0()),
        )
        .await;
        schedules.push(made.id);
    }
    for minute in 0..3 {
        let now = at(minute * 60 + 1);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .schedule_fire_due(ScheduleFireDueParams { now, limit: 100 })
                        .await
                })
            })
            .collect();
        let mut queued = 0;
        for task in tasks {
            let fired = task.await.unwrap().unwrap();
            queued += queued_runs(&fired);
        }
        assert_eq!(queued, 5, "minute {minute}: one run per schedule reported");
    }
    for id in schedules {
        let runs = runs_of(&**store, id).await;
        let mut occurrences: Vec<_> = runs.iter().filter_map(|r| r.scheduled_for).collect();
        occurrences.sort();
        assert_eq!(occurrences, [t0(), at(60), at(120)], "schedule {id}");
        let after = schedule(&**store, id).await;
        assert_eq!(after.stats.total, 3);
        assert_eq!(after.next_run_at, Some(at(180)));
    }
}

/// A per-minute schedule a day overdue writes one `missed` row for the whole backlog and runs
/// the latest occurrence within grace.
pub async fn fire_past_grace_records_one_missed_row(store: &dyn Store) {
    let due = ts("2025-05-31T12:00:00Z");
    let made = create(store, spec("every-minute"), Some(due)).await;
    let now = at(30);
    let fired = fire(store, now).await;
    // 1441 occurrences from 05-31 12:00 to 06-01 12:00: 12:00 runs; 11:56–11:59 are within the
    // 5-minute grace but coalesced; all 1440 others are recorded missed.
    let missed = Occurrences {
        count: 1440,
        first: due,
        last: ts("2025-06-01T11:59:00Z"),
    };
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].missed, Some(missed));
    assert_eq!(fired[0].skipped, 0);
    assert_eq!(fired[0].queued.len(), 1);
    assert_eq!(fired[0].queued[0].scheduled_for, Some(t0()));
    assert_eq!(fired[0].next_run_at, Some(at(60)));

    let runs = runs_of(store, made.id).await;
    assert_eq!(
        runs.len(),
        2,
        "one queued run and one missed record: {runs:?}"
    );
    let records = runs_in(store, made.id, RunState::Missed).await;
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.scheduled_for, Some(due));
    assert_eq!(record.occurrences, Some(missed));
    assert_eq!(record.finished_at, Some(now));
    assert_eq!(record.trigger, RunTrigger::Schedule);
    assert_eq!(record.attempt, 0);
    assert_eq!(record.started_at, None);
    assert_eq!(
        record.error.as_deref(),
        Some(
            "missed: 1440 occurrence(s) from 2025-05-31T12:00:00Z to 2025-06-01T11:59:00Z were \
             not run (tidings was not running or was late by more than the misfire grace, or \
             they were coalesced)"
        )
    );
    assert_eq!(runs_in(store, made.id, RunState::Queued).await.len(), 1);

    let after = schedule(store, made.id).await;
    assert_eq!(after.stats.missed, 1440);
    assert_eq!(after.stats.total, 1);
    assert_eq!(after.stats.skipped, 0);
    assert_eq!(after.next_run_at, Some(at(60)));
    // A missed record is history, not work.
    assert_eq!(store.run_queue_depth(at(3600)).await.unwrap(), 1);
}

/// Without coalescing each due occurrence within grace runs, up to `max_catch_up`; the older
/// ones are missed.
pub async fn fire_without_coalesce_runs_each_due_occurrence_up_to_max_catch_up(store: &dyn Store) {
    let fire_policy = FirePolicy {
        coalesce: false,
        max_catch_up: 3,
        max_instances: 10,
        ..FirePolicy::default()
    };
    let made = create(
        store,
        with_fire_policy("catch-up", fire_policy),
        Some(at(-180)),
    )
    .await;
    let fired = fire(store, at(30)).await;
    assert_eq!(fired.len(), 1);
    let mut occurrences: Vec<_> = fired[0]
        .queued
        .iter()
        .filter_map(|r| r.scheduled_for)
        .collect();
    occurrences.sort();
    assert_eq!(occurrences, [at(-120), at(-60), t0()]);
    for queued in &fired[0].queued {
        assert_eq!(Some(queued.run_after), queued.scheduled_for);
    }
    assert_eq!(
        fired[0].missed,
        Some(Occurrences {
            count: 1,
            first: at(-180),
            last: at(-180),
        })
    );
    assert_eq!(runs_in(store, made.id, RunState::Queued).await.len(), 3);
    assert_eq!(runs_in(store, made.id, RunState::Missed).await.len(), 1);
    let after = schedule(store, made.id).await;
    assert_eq!(after.stats.total, 3);
    assert_eq!(after.stats.missed, 1);
    assert_eq!(after.next_run_at, Some(at(60)));
}

/// An occurrence that finds `max_instances` runs queued or running is recorded `skipped`,
/// naming a run that is still active.
pub async fn fire_at_max_instances_records_skipped_naming_the_active_run(store: &dyn Store) {
    let made = create(store, spec("one-at-a-time"), Some(t0())).await;
    let active = enqueue(store, manual(&made, at(-10))).await;

    let fired = fire(store, at(10)).await;
    assert_eq!(fired.len(), 1);
    assert!(fired[0].queued.is_empty());
    assert_eq!(fired[0].skipped, 1);
    assert_eq!(fired[0].missed, None);
    assert_eq!(fired[0].next_run_at, Some(at(60)));
    let skipped = runs_in(store, made.id, RunState::Skipped).await;
    assert_eq!(skipped.len(), 1);
    let record = &skipped[0];
    assert_eq!(record.scheduled_for, Some(t0()));
    assert_eq!(record.finished_at, Some(at(10)));
    assert_eq!(
        record.occurrences,
        Some(Occurrences {
            count: 1,
            first: t0(),
            last: t0(),
        })
    );
    assert_eq!(
        record.error.as_deref(),
        Some(
            format!(
                "skipped: max_instances (1) reached; run {} is still queued",
                active.id
            )
            .as_str()
        )
    );
    let after = schedule(store, made.id).await;
    assert_eq!(after.stats.skipped, 1);
    assert_eq!(after.stats.total, 1, "only the manual run was created");

    let running = claim_one(store, "worker-a", at(20)).await;
    assert_eq!(running.id, active.id);
    let fired = fire(store, at(65)).await;
    assert_eq!(fired[0].skipped, 1);
    let skipped = runs_in(store, made.id, RunState::Skipped).await;
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[1].scheduled_for, Some(at(60)));
    assert_eq!(
        skipped[1].error.as_deref(),
        Some(
            format!(
                "skipped: max_instances (1) reached; run {} is still running",
                active.id
            )
            .as_str()
        )
    );
    assert_eq!(schedule(store, made.id).await.stats.skipped, 2);

    // Once the run ends, the next occurrence runs again.
    complete(store, &running, at(70), succeeded()).await;
    let fired = fire(store, at(121)).await;
    assert_eq!(fired[0].queued.len(), 1);
    assert_eq!(fired[0].skipped, 0);
}

pub async fn fire_once_trigger_fires_once_then_has_no_next(store: &dyn Store) {
    let made = create(
        store,
        ScheduleSpec {
            trigger: Trigger::Once(OnceTrigger::new(t0())),
            ..spec("launch")
        },
        Some(t0()),
    )
    .await;
    let fired = fire(store, at(1)).await;
    assert_eq!(queued_runs(&fired), 1);
    assert_eq!(fired[0].next_run_at, None);
    let after = schedule(store, made.id).await;
    assert_eq!(after.next_run_at, None);
    assert_eq!(store.schedule_next_due_at().await.unwrap(), None);
    assert!(fire(store, at(86_400)).await.is_empty());
    assert_eq!(runs_of(store, made.id).await.len(), 1);
}

pub async fn fire_never_fires_disabled_schedules(store: &dyn Store) {
    let made = create(
        store,
        ScheduleSpec {
            enabled: false,
            ..spec("paused")
        },
        Some(t0()),
    )
    .await;
    assert!(fire(store, at(3600)).await.is_empty());
    assert!(runs_of(store, made.id).await.is_empty());
    let after = schedule(store, made.id).await;
    assert_eq!(after.next_run_at, Some(t0()), "left as it was");
    assert_eq!(after.stats.total, 0);
    assert_eq!(after.stats.missed, 0);
}

/// Only schedules already due are fired, the most overdue first, at most `limit` per call.
pub async fn fire_takes_due_schedules_most_overdue_first_up_to_limit(store: &dyn Store) {
    let third = create(store, spec("third"), Some(at(120))).await;
    let first = create(store, spec("first"), Some(t0())).await;
    let second = create(store, spec("second"), Some(at(60))).await;
    let future = create(store, spec("future"), Some(at(3600))).await;
    let now = at(150);
    let fired = fire_limit(store, now, 2).await;
    let mut fired_ids: Vec<_> = fired.iter().map(|f| f.schedule_id).collect();
    fired_ids.sort();
    let mut expected = vec![first.id, second.id];
    expected.sort();
    assert_eq!(fired_ids, expected);
    let rest = fire_limit(store, now, 2).await;
    let rest_ids: Vec<_> = rest.iter().map(|f| f.schedule_id).collect();
    assert_eq!(rest_ids, [third.id]);
    assert!(fire_limit(store, now, 2).await.is_empty());
    assert!(runs_of(store, future.id).await.is_empty());
    assert_eq!(schedule(store, future.id).await.next_run_at, Some(at(3600)));
}

/// The queued runs of a firing are real rows: listable and claimable.
pub async fn fired_runs_are_claimable_at_their_occurrence(store: &dyn Store) {
    let made = create(store, spec("every-minute"), Some(at(60))).await;
    assert!(fire(store, at(59)).await.is_empty(), "not due yet");
    let fired = fire(store, at(60)).await;
    let queued: &Run = &fired[0].queued[0];
    assert!(claim(store, "worker-a", at(59), 10).await.is_empty());
    let claimed = claim_one(store, "worker-a", at(61)).await;
    assert_eq!(claimed.id, queued.id);
    assert_eq!(claimed.schedule_id, Some(made.id));
}
