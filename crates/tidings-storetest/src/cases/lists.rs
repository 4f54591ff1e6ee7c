//! Run lists (filters, newest first, cursor pages) and the counters the workers and the status
//! page read: the next available instant, the queue depth, progress reports.

use std::collections::HashSet;

use tidings_core::{RunState, RunTrigger};
use tidings_store::{
    RunEnqueueParams, RunId, RunListParams, RunOutcome, ScheduleFireDueParams, ScheduleSpec, Store,
    StoreError,
};

use crate::fixtures::*;

async fn listed(store: &dyn Store, params: RunListParams) -> Vec<RunId> {
    let page = store.run_list(params).await.unwrap();
    assert_eq!(page.next_cursor, None, "one page expected");
    page.items.iter().map(|r| r.id).collect()
}

/// Every filter alone and combined; results newest first.
pub async fn run_list_filters(store: &dyn Store) {
    let later = at(10_000);
    let alpha = create(
        store,
        ScheduleSpec {
            kind: "sync".to_owned(),
            ..spec("alpha")
        },
        Some(t0()),
    )
    .await;
    let beta = create(store, spec("beta"), None).await;
    let fired = store
        .schedule_fire_due(ScheduleFireDueParams {
            now: at(1),
            limit: 10,
        })
        .await
        .unwrap();
    let r1 = fired[0].queued[0].id;
    let r2 = enqueue(
        store,
        RunEnqueueParams {
            now: at(100),
            ..manual(&alpha, later)
        },
    )
    .await
    .id;
    let r3 = enqueue(
        store,
        RunEnqueueParams {
            now: at(200),
            ..adhoc("http", at(200))
        },
    )
    .await
    .id;
    let r4 = enqueue(
        store,
        RunEnqueueParams {
            now: at(300),
            trigger: RunTrigger::Startup,
            ..adhoc("report", later)
        },
    )
    .await
    .id;
    let r5 = enqueue(
        store,
        RunEnqueueParams {
            now: at(400),
            ..manual(&beta, later)
        },
    )
    .await
    .id;
    let claimed = claim(store, "worker-a", at(500), 10).await;
    assert_eq!(ids(&claimed), [r1, r3]);
    let first = run(store, r1).await;
    complete(store, &first, at(501), succeeded()).await;
    store
        .run_cancel(tidings_store::RunCancelParams {
            id: r5,
            now: at(502),
            reason: "no".to_owned(),
        })
        .await
        .unwrap();

    let all = RunListParams::default();
    assert_eq!(listed(store, all.clone()).await, [r5, r4, r3, r2, r1]);
    let by_schedule = RunListParams {
        schedule_id: Some(alpha.id),
        ..all.clone()
    };
    assert_eq!(listed(store, by_schedule).await, [r2, r1]);
    let by_kind = RunListParams {
        kind: Some("http".to_owned()),
        ..all.clone()
    };
    assert_eq!(listed(store, by_kind).await, [r5, r3]);
    let queued = RunListParams {
        states: vec![RunState::Queued],
        ..all.clone()
    };
    assert_eq!(listed(store, queued).await, [r4, r2]);
    let several_states = RunListParams {
        states: vec![RunState::Running, RunState::Cancelled, RunState::Succeeded],
        ..all.clone()
    };
    assert_eq!(listed(store, several_states).await, [r5, r3, r1]);
    for (trigger, expected) in [
        (RunTrigger::Schedule, vec![r1]),
        (RunTrigger::Manual, vec![r5, r2]),
        (RunTrigger::Api, vec![r3]),
        (RunTrigger::Startup, vec![r4]),
    ] {
        let by_trigger = RunListParams {
            trigger: Some(trigger),
            ..all.clone()
        };
        assert_eq!(listed(store, by_trigger).await, expected, "{trigger}");
    }
    let from = RunListParams {
        created_from: Some(at(200)),
        ..all.clone()
    };
    assert_eq!(listed(store, from).await, [r5, r4, r3], "from is inclusive");
    let to = RunListParams {
        created_to: Some(at(200)),
        ..all.clone()
    };
    assert_eq!(listed(store, to).await, [r2, r1], "to is exclusive");
    let range = RunListParams {
        created_from: Some(at(100)),
        created_to: Some(at(300)),
        ..all.clone()
    };
    assert_eq!(listed(store, range).await, [r3, r2]);
    let combined = RunListParams {
        kind: Some("sync".to_owned()),
        states: vec![RunState::Queued],
        schedule_id: Some(alpha.id),
        ..all.clone()
    };
    assert_eq!(listed(store, combined).await, [r2]);
    let nothing = RunListParams {
        schedule_id: Some(beta.id),
        trigger: Some(RunTrigger::Schedule),
        ..all
    };
    assert!(listed(store, nothing).await.is_empty());
}

/// Pages follow each other newest first with no duplicate and no gap, filtered or not; the last
/// page has no cursor even when exactly full; limit 0 is the default of 50; a malformed cursor
/// is `InvalidState`.
pub async fn run_list_pages_without_duplicates_or_gaps(store: &dyn Store) {
    let mut created = Vec::new();
    for i in 0..25 {
        let kind = if i % 2 == 0 { "http" } else { "sync" };
        created.push(enqueue(store, adhoc(kind, t0())).await.id);
    }
    let newest_first: Vec<RunId> = created.iter().rev().copied().collect();

    let pages = |params: RunListParams| async move {
        let mut params = params;
        let mut sizes = Vec::new();
        let mut seen = Vec::new();
        loop {
            let page = store.run_list(params.clone()).await.unwrap();
            sizes.push(page.items.len());
            seen.extend(page.items.iter().map(|r| r.id));
            match page.next_cursor {
                Some(cursor) => params.cursor = Some(cursor),
                None => return (sizes, seen),
            }
            assert!(sizes.len() < 20, "pagination does not end");
        }
    };
    let (sizes, seen) = pages(RunListParams {
        limit: 10,
        ..RunListParams::default()
    })
    .await;
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(seen, newest_first);

    let (sizes, seen) = pages(RunListParams {
        limit: 25,
        ..RunListParams::default()
    })
    .await;
    assert_eq!(sizes, [25], "an exactly full page is the last");
    assert_eq!(seen, newest_first);

    let (sizes, seen) = pages(RunListParams {
        kind: Some("http".to_owned()),
        limit: 5,
        ..RunListParams::default()
    })
    .await;
    assert_eq!(sizes, [5, 5, 3]);
    let http: Vec<RunId> = newest_first.iter().copied().step_by(2).collect();
    assert_eq!(seen, http);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 13);

    let err = assert_store_error(
        store
            .run_list(RunListParams {
                cursor: Some("??".to_owned()),
                ..RunListParams::default()
            })
            .await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "malformed cursor",
    );
    assert!(err.to_string().starts_with("invalid cursor"), "{err}");

    for _ in 0..30 {
        enqueue(store, adhoc("http", t0())).await;
    }
    let defaulted = store.run_list(RunListParams::default()).await.unwrap();
    assert_eq!(defaulted.items.len(), 50, "limit 0 means 50");
    assert!(defaulted.next_cursor.is_some());
    let rest = store
        .run_list(RunListParams {
            cursor: defaulted.next_cursor,
            ..RunListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 5);
    assert_eq!(rest.next_cursor, None);
}

/// What the workers' timer and the status page read: only queued runs count.
pub async fn run_next_available_at_and_queue_depth_count_queued_runs(store: &dyn Store) {
    assert_eq!(store.run_next_available_at().await.unwrap(), None);
    assert_eq!(store.run_queue_depth(at(3600)).await.unwrap(), 0);
    enqueue(store, adhoc("http", at(300))).await;
    let soonest = enqueue(store, adhoc("http", at(60))).await;
    enqueue(store, adhoc("http", at(600))).await;
    assert_eq!(store.run_next_available_at().await.unwrap(), Some(at(60)));
    assert_eq!(store.run_queue_depth(t0()).await.unwrap(), 0);
    assert_eq!(
        store.run_queue_depth(at(60)).await.unwrap(),
        1,
        "run_after <= now"
    );
    assert_eq!(store.run_queue_depth(at(400)).await.unwrap(), 2);
    assert_eq!(store.run_queue_depth(at(600)).await.unwrap(), 3);

    let claimed = claim_one(store, "worker-a", at(60)).await;
    assert_eq!(claimed.id, soonest.id);
    assert_eq!(store.run_next_available_at().await.unwrap(), Some(at(300)));
    assert_eq!(store.run_queue_depth(at(400)).await.unwrap(), 1);
    // Retried later: queued again, counted again from its new run_after.
    complete(
        store,
        &claimed,
        at(61),
        RunOutcome::Failed {
            error: "boom".to_owned(),
            retry_at: Some(at(90)),
        },
    )
    .await;
    assert_eq!(store.run_next_available_at().await.unwrap(), Some(at(90)));
    assert_eq!(store.run_queue_depth(at(90)).await.unwrap(), 1);
    assert_eq!(store.run_queue_depth(at(600)).await.unwrap(), 3);
}

pub async fn run_progress_is_stored_without_changing_state(store: &dyn Store) {
    let queued = enqueue(store, adhoc("sync", t0())).await;
    assert_eq!(queued.progress, None);
    let claimed = claim_one(store, "worker-a", at(1)).await;
    let first = serde_json::json!({ "fetched": 300, "of": 5123 });
    store.run_progress(queued.id, first.clone()).await.unwrap();
    let seen = run(store, queued.id).await;
    assert_eq!(seen.progress, Some(first));
    assert_eq!(
        seen,
        tidings_store::Run {
            progress: seen.progress.clone(),
            ..claimed.clone()
        },
        "nothing but progress changed"
    );
    let second = serde_json::json!({ "fetched": 5123, "of": 5123, "phase": "upsert" });
    store.run_progress(queued.id, second.clone()).await.unwrap();
    assert_eq!(run(store, queued.id).await.progress, Some(second));
    assert_eq!(run(store, queued.id).await.state, RunState::Running);
}

pub async fn run_get_unknown_is_not_found(store: &dyn Store) {
    let err = assert_store_error(
        store.run_get(RunId(987_654)).await,
        |e| matches!(e, StoreError::NotFound { entity: "run", .. }),
        "get an unknown run",
    );
    assert!(err.to_string().contains("987654"), "{err}");
}
