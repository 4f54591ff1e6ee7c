//! Schedules: create, get by id or name, unique names, update keeping statistics, delete keeping
//! history, list filters and pagination, the next due instant.

use tidings_core::{FirePolicy, IntervalTrigger, OnceTrigger, RetryPolicy, RunState, Trigger};
use tidings_store::{
    RunCancelParams, RunHeartbeatParams, RunOutcome, ScheduleCreateParams, ScheduleId, ScheduleKey,
    ScheduleListParams, ScheduleOrigin, SchedulePolicy, ScheduleSpec, ScheduleStats,
    ScheduleUpdateParams, Store, StoreError,
};

use crate::fixtures::*;

/// Everything given at creation comes back, by id and by name, with zeroed statistics.
pub async fn schedule_create_then_get_by_id_and_by_name(store: &dyn Store) {
    let full = ScheduleSpec {
        description: Some("Pulls the feedback table every morning".to_owned()),
        trigger: cron("30 7 * * 1-5", "Europe/Berlin"),
        kind: "sync".to_owned(),
        params: serde_json::json!({ "source": "airtable-main", "mode": "incremental", "n": [1, 2] }),
        policy: SchedulePolicy {
            fire: FirePolicy {
                misfire_grace: None,
                coalesce: false,
                max_catch_up: 7,
                max_instances: 3,
            },
            retry: RetryPolicy {
                max_attempts: 5,
                backoff: secs(2),
                max_backoff: secs(600),
            },
            timeout: secs(90),
            run_on_start: true,
        },
        source: Some("airtable-main".to_owned()),
        tags: vec!["airtable".to_owned(), "morning".to_owned()],
        callback_url: Some("https://example.com/hook".to_owned()),
        ..spec("sync:airtable-main.incremental")
    };
    let next = ts("2025-06-02T05:30:00Z");
    let created = store
        .schedule_create(ScheduleCreateParams {
            spec: full.clone(),
            origin: ScheduleOrigin::Config,
            now: t0(),
            next_run_at: Some(next),
        })
        .await
        .unwrap();
    assert_eq!(created.name, full.name);
    assert_eq!(created.description, full.description);
    assert_eq!(created.trigger, full.trigger);
    assert_eq!(created.kind, "sync");
    assert_eq!(created.params, full.params);
    assert!(created.enabled);
    assert_eq!(created.policy, full.policy);
    assert_eq!(created.origin, ScheduleOrigin::Config);
    assert_eq!(created.source, full.source);
    assert_eq!(created.tags, full.tags);
    assert_eq!(created.callback_url, full.callback_url);
    assert_eq!(created.next_run_at, Some(next));
    assert_eq!(created.stats, ScheduleStats::default());
    assert_eq!(created.created_at, t0());
    assert_eq!(created.updated_at, t0());

    let by_id = store
        .schedule_get(&ScheduleKey::Id(created.id))
        .await
        .unwrap();
    assert_eq!(by_id, created);
    let by_name = store
        .schedule_get(&ScheduleKey::Name(full.name.clone()))
        .await
        .unwrap();
    assert_eq!(by_name, created);

    // The other trigger kinds and a minimal spec round-trip too.
    let interval =
        Trigger::Interval(IntervalTrigger::new(900, ts("2025-01-01T00:00:00Z")).unwrap());
    let once = Trigger::Once(OnceTrigger::new(ts("2025-07-04T09:00:00.250Z")));
    for (schedule_name, trigger) in [("every-15-min", interval), ("launch-day", once)] {
        let made = create(
            store,
            ScheduleSpec {
                trigger: trigger.clone(),
                enabled: false,
                ..spec(schedule_name)
            },
            None,
        )
        .await;
        let got = store.schedule_get(&ScheduleKey::Id(made.id)).await.unwrap();
        assert_eq!(got.trigger, trigger);
        assert!(!got.enabled);
        assert_eq!(got.next_run_at, None);
        assert_eq!(got.description, None);
        assert_eq!(got.source, None);
        assert!(got.tags.is_empty());
        assert_eq!(got, made);
    }
}

/// Unknown ids and names are `NotFound` for the entity `schedule`.
pub async fn schedule_get_unknown_is_not_found(store: &dyn Store) {
    let err = assert_store_error(
        store
            .schedule_get(&ScheduleKey::Id(ScheduleId(987_654)))
            .await,
        |e| {
            matches!(
                e,
                StoreError::NotFound {
                    entity: "schedule",
                    ..
                }
            )
        },
        "get unknown id",
    );
    assert!(err.to_string().contains("987654"), "{err}");
    let err = assert_store_error(
        store.schedule_get(&ScheduleKey::Name(name("nobody"))).await,
        |e| {
            matches!(
                e,
                StoreError::NotFound {
                    entity: "schedule",
                    ..
                }
            )
        },
        "get unknown name",
    );
    assert!(err.to_string().contains("nobody"), "{err}");
}

pub async fn schedule_create_with_taken_name_is_conflict(store: &dyn Store) {
    let first = create(store, spec("nightly-report"), Some(at(60))).await;
    let err = assert_store_error(
        store
            .schedule_create(ScheduleCreateParams {
                spec: ScheduleSpec {
                    kind: "report".to_owned(),
                    ..spec("nightly-report")
                },
                origin: ScheduleOrigin::Cli,
                now: at(10),
                next_run_at: None,
            })
            .await,
        |e| matches!(e, StoreError::Conflict(_)),
        "duplicate name",
    );
    assert_eq!(
        err.to_string(),
        "a schedule named `nightly-report` already exists"
    );
    assert_eq!(schedule(store, first.id).await, first);
    let all = store
        .schedule_list(ScheduleListParams::default())
        .await
        .unwrap();
    assert_eq!(all.items, vec![first]);
}

/// An update replaces the spec and `next_run_at` but keeps statistics, `created_at` and the
/// schedule's runs; renaming onto a taken name is a conflict; an unknown id is not found.
pub async fn schedule_update_replaces_spec_and_keeps_stats(store: &dyn Store) {
    let original = create(store, spec("hourly-import"), Some(t0())).await;
    create(store, spec("taken"), None).await;
    // Give it history: one fired run that succeeded.
    store
        .schedule_fire_due(tidings_store::ScheduleFireDueParams {
            now: at(1),
            limit: 10,
        })
        .await
        .unwrap();
    let claimed = claim_one(store, "worker-a", at(2)).await;
    complete(store, &claimed, at(3), succeeded()).await;
    let before = schedule(store, original.id).await;
    assert_eq!(before.stats.total, 1);
    assert_eq!(before.stats.succeeded, 1);

    let replacement = ScheduleSpec {
        description: Some("now hourly at :15".to_owned()),
        trigger: cron("15 * * * *", "UTC"),
        kind: "sync".to_owned(),
        params: serde_json::json!({ "source": "csv-drop" }),
        enabled: false,
        tags: vec!["csv".to_owned()],
        source: Some("csv-drop".to_owned()),
        ..spec("hourly-import-v2")
    };
    let updated = store
        .schedule_update(ScheduleUpdateParams {
            id: original.id,
            spec: replacement.clone(),
            now: at(100),
            next_run_at: None,
        })
        .await
        .unwrap();
    assert_eq!(updated.id, original.id);
    assert_eq!(updated.name, replacement.name);
    assert_eq!(updated.description, replacement.description);
    assert_eq!(updated.trigger, replacement.trigger);
    assert_eq!(updated.kind, "sync");
    assert_eq!(updated.params, replacement.params);
    assert!(!updated.enabled);
    assert_eq!(updated.tags, replacement.tags);
    assert_eq!(updated.source, replacement.source);
    assert_eq!(updated.next_run_at, None);
    assert_eq!(
        updated.origin,
        ScheduleOrigin::Api,
        "origin is not editable"
    );
    assert_eq!(updated.stats, before.stats, "statistics survive an update");
    assert_eq!(updated.created_at, t0());
    assert_eq!(updated.updated_at, at(100));
    assert_eq!(schedule(store, original.id).await, updated);
    assert_eq!(
        store
            .schedule_get(&ScheduleKey::Name(name("hourly-import-v2")))
            .await
            .unwrap()
            .id,
        original.id
    );
    assert_store_error(
        store
            .schedule_get(&ScheduleKey::Name(name("hourly-import")))
            .await,
        |e| matches!(e, StoreError::NotFound { .. }),
        "old name after rename",
    );
    assert_eq!(
        runs_of(store, original.id).await.len(),
        1,
        "runs stay linked"
    );

    let err = assert_store_error(
        store
            .schedule_update(ScheduleUpdateParams {
                id: original.id,
                spec: spec("taken"),
                now: at(200),
                next_run_at: None,
            })
            .await,
        |e| matches!(e, StoreError::Conflict(_)),
        "rename onto a taken name",
    );
    assert_eq!(err.to_string(), "a schedule named `taken` already exists");
    assert_eq!(schedule(store, original.id).await, updated);

    assert_store_error(
        store
            .schedule_update(ScheduleUpdateParams {
                id: ScheduleId(987_654),
                spec: spec("ghost"),
                now: at(200),
                next_run_at: None,
            })
            .await,
        |e| {
            matches!(
                e,
                StoreError::NotFound {
                    entity: "schedule",
                    ..
                }
            )
        },
        "update unknown id",
    );
}

/// Deleting a schedule cancels its queued runs, flags its running ones, and keeps every run
/// with `schedule_id` cleared.
pub async fn schedule_delete_cancels_queued_runs_and_keeps_them_unlinked(store: &dyn Store) {
    let doomed = create(
        store,
        ScheduleSpec {
            policy: SchedulePolicy {
                fire: FirePolicy {
                    max_instances: 5,
                    ..FirePolicy::default()
                },
                ..SchedulePolicy::default()
            },
            ..spec("doomed")
        },
        None,
    )
    .await;
    let kept = create(store, spec("kept"), None).await;
    let finished = enqueue(store, manual(&doomed, at(0))).await;
    let finished_claimed = claim_one(store, "worker-a", at(1)).await;
    assert_eq!(finished_claimed.id, finished.id);
    complete(store, &finished_claimed, at(2), succeeded()).await;
    let running = enqueue(store, manual(&doomed, at(3))).await;
    let running_claimed = claim_one(store, "worker-a", at(4)).await;
    assert_eq!(running_claimed.id, running.id);
    let queued = enqueue(store, manual(&doomed, at(60))).await;
    let other = enqueue(store, manual(&kept, at(60))).await;

    store.schedule_delete(doomed.id, at(10)).await.unwrap();

    assert_store_error(
        store.schedule_get(&ScheduleKey::Id(doomed.id)).await,
        |e| {
            matches!(
                e,
                StoreError::NotFound {
                    entity: "schedule",
                    ..
                }
            )
        },
        "get deleted schedule",
    );
    let queued = run(store, queued.id).await;
    assert_eq!(queued.state, RunState::Cancelled);
    assert_eq!(queued.finished_at, Some(at(10)));
    assert_eq!(queued.error.as_deref(), Some("schedule deleted"));
    assert_eq!(queued.schedule_id, None);

    let running = run(store, running.id).await;
    assert_eq!(running.state, RunState::Running);
    assert!(running.cancel_requested);
    assert_eq!(running.schedule_id, None);
    let beat = store
        .run_heartbeat(RunHeartbeatParams {
            instance: "worker-a".to_owned(),
            runs: vec![running.id],
            now: at(11),
            lease: lease(),
        })
        .await
        .unwrap();
    assert_eq!(beat.cancel_requested, vec![running.id]);
    let cancelled = complete(
        store,
        &running,
        at(12),
        RunOutcome::Cancelled {
            reason: "schedule deleted".to_owned(),
        },
    )
    .await;
    assert_eq!(cancelled.completed.len(), 1, "{cancelled:?}");
    assert_eq!(cancelled.completed[0].state, RunState::Cancelled);

    let done = run(store, finished.id).await;
    assert_eq!(done.state, RunState::Succeeded);
    assert_eq!(done.schedule_id, None);

    assert_eq!(run(store, other.id).await.schedule_id, Some(kept.id));
    assert_eq!(schedule(store, kept.id).await.stats.total, 1);

    assert_store_error(
        store.schedule_delete(doomed.id, at(20)).await,
        |e| {
            matches!(
                e,
                StoreError::NotFound {
                    entity: "schedule",
                    ..
                }
            )
        },
        "delete twice",
    );
    // Its name is free again.
    create(store, spec("doomed"), None).await;
    // Cancelling the run it left queued is now a finished-run error, not a crash.
    assert_store_error(
        store
            .run_cancel(RunCancelParams {
                id: queued.id,
                now: at(30),
                reason: "again".to_owned(),
            })
            .await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "cancel a run its schedule's deletion cancelled",
    );
}

/// Schedules made for the list cases: (name, enabled, kind, source, tags, description, origin).
async fn list_fixture(store: &dyn Store) {
    type Row = (
        &'static str,
        bool,
        &'static str,
        Option<&'static str>,
        &'static [&'static str],
        Option<&'static str>,
        ScheduleOrigin,
    );
    let rows: [Row; 6] = [
        (
            "airtable-full",
            true,
            "sync",
            Some("airtable-main"),
            &["airtable", "critical"],
            Some("Full refresh of the Airtable cache"),
            ScheduleOrigin::Config,
        ),
        (
            "airtable-incremental",
            true,
            "sync",
            Some("airtable-main"),
            &["airtable"],
            None,
            ScheduleOrigin::Default,
        ),
        (
            "csv-import",
            false,
            "sync",
            Some("csv-drop"),
            &["csv"],
            Some("Imports dropped CSV files"),
            ScheduleOrigin::Api,
        ),
        (
            "daily-report",
            true,
            "report",
            None,
            &["critical", "email"],
            Some("Mails the NIGHTLY summary"),
            ScheduleOrigin::Api,
        ),
        (
            "Nightly-cleanup",
            false,
            "cleanup",
            None,
            &[],
            None,
            ScheduleOrigin::Cli,
        ),
        (
            "ping",
            true,
            "http",
            None,
            &["critical-path"],
            Some("pings a URL"),
            ScheduleOrigin::Api,
        ),
    ];
    for (schedule_name, enabled, kind, source, tags, description, origin) in rows {
        store
            .schedule_create(ScheduleCreateParams {
                spec: ScheduleSpec {
                    enabled,
                    kind: kind.to_owned(),
                    source: source.map(str::to_owned),
                    tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                    description: description.map(str::to_owned),
                    ..spec(schedule_name)
                },
                origin,
                now: t0(),
                next_run_at: enabled.then(|| at(60)),
            })
            .await
            .unwrap();
    }
}

async fn names(store: &dyn Store, params: ScheduleListParams) -> Vec<String> {
    let page = store.schedule_list(params).await.unwrap();
    assert_eq!(page.next_cursor, None, "one page expected");
    page.items.iter().map(|s| s.name.to_string()).collect()
}

/// Each filter alone and together; results newest first.
pub async fn schedule_list_filters(store: &dyn Store) {
    list_fixture(store).await;
    let all = ScheduleListParams::default();
    assert_eq!(
        names(store, all.clone()).await,
        [
            "ping",
            "Nightly-cleanup",
            "daily-report",
            "csv-import",
            "airtable-incremental",
            "airtable-full"
        ]
    );
    let enabled = ScheduleListParams {
        enabled: Some(true),
        ..all.clone()
    };
    assert_eq!(
        names(store, enabled.clone()).await,
        [
            "ping",
            "daily-report",
            "airtable-incremental",
            "airtable-full"
        ]
    );
    let disabled = ScheduleListParams {
        enabled: Some(false),
        ..all.clone()
    };
    assert_eq!(
        names(store, disabled).await,
        ["Nightly-cleanup", "csv-import"]
    );
    let sync = ScheduleListParams {
        kind: Some("sync".to_owned()),
        ..all.clone()
    };
    assert_eq!(
        names(store, sync).await,
        ["csv-import", "airtable-incremental", "airtable-full"]
    );
    let source = ScheduleListParams {
        source: Some("airtable-main".to_owned()),
        ..all.clone()
    };
    assert_eq!(
        names(store, source).await,
        ["airtable-incremental", "airtable-full"]
    );
    // A tag matches whole tags only: `critical-path` does not carry `critical`.
    let tag = ScheduleListParams {
        tag: Some("critical".to_owned()),
        ..all.clone()
    };
    assert_eq!(names(store, tag).await, ["daily-report", "airtable-full"]);
    let partial_tag = ScheduleListParams {
        tag: Some("crit".to_owned()),
        ..all.clone()
    };
    assert!(names(store, partial_tag).await.is_empty());
    // Text: case-insensitive substring of the name or the description.
    let text = ScheduleListParams {
        text: Some("nIgHtLy".to_owned()),
        ..all.clone()
    };
    assert_eq!(
        names(store, text).await,
        ["Nightly-cleanup", "daily-report"]
    );
    let text_in_description = ScheduleListParams {
        text: Some("csv files".to_owned()),
        ..all.clone()
    };
    assert_eq!(names(store, text_in_description).await, ["csv-import"]);
    let origin = ScheduleListParams {
        origin: Some(ScheduleOrigin::Api),
        ..all.clone()
    };
    assert_eq!(
        names(store, origin).await,
        ["ping", "daily-report", "csv-import"]
    );
    let combined = ScheduleListParams {
        enabled: Some(true),
        kind: Some("sync".to_owned()),
        tag: Some("critical".to_owned()),
        ..all.clone()
    };
    assert_eq!(names(store, combined).await, ["airtable-full"]);
    let nothing = ScheduleListParams {
        kind: Some("sync".to_owned()),
        origin: Some(ScheduleOrigin::Cli),
        ..all
    };
    assert!(names(store, nothing).await.is_empty());
}

/// Pages follow each other newest first with no duplicate and no gap; the last page has no
/// cursor, also when it is exactly full; a filter applies on every page; a malformed cursor is
/// `InvalidState`; limit 0 means the default (50).
pub async fn schedule_list_pages_without_duplicates_or_gaps(store: &dyn Store) {
    let mut created = Vec::new();
    for i in 0..7 {
        let made = create(
            store,
            ScheduleSpec {
                enabled: i % 2 == 0,
                ..spec(&format!("s{i}"))
            },
            None,
        )
        .await;
        created.push(made.id);
    }
    let newest_first: Vec<ScheduleId> = created.iter().rev().copied().collect();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut params = ScheduleListParams {
        limit: 3,
        ..ScheduleListParams::default()
    };
    loop {
        let page = store.schedule_list(params.clone()).await.unwrap();
        sizes.push(page.items.len());
        seen.extend(page.items.iter().map(|s| s.id));
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(seen, newest_first);

    let exact = store
        .schedule_list(ScheduleListParams {
            limit: 7,
            ..ScheduleListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 7);
    assert_eq!(exact.next_cursor, None, "an exactly full last page");

    let defaulted = store
        .schedule_list(ScheduleListParams::default())
        .await
        .unwrap();
    assert_eq!(defaulted.items.len(), 7, "limit 0 is the default, not zero");

    // Enabled ones (s0, s2, s4, s6) two at a time.
    let first = store
        .schedule_list(ScheduleListParams {
            enabled: Some(true),
            limit: 2,
            ..ScheduleListParams::default()
        })
        .await
        .unwrap();
    let second = store
        .schedule_list(ScheduleListParams {
            enabled: Some(true),
            limit: 2,
            cursor: first.next_cursor.clone(),
            ..ScheduleListParams::default()
        })
        .await
        .unwrap();
    let page_names = |items: &[tidings_store::Schedule]| -> Vec<String> {
        items.iter().map(|s| s.name.to_string()).collect()
    };
    assert_eq!(page_names(&first.items), ["s6", "s4"]);
    assert!(first.next_cursor.is_some());
    assert_eq!(page_names(&second.items), ["s2", "s0"]);
    assert_eq!(second.next_cursor, None);

    let err = assert_store_error(
        store
            .schedule_list(ScheduleListParams {
                cursor: Some("not a cursor!".to_owned()),
                ..ScheduleListParams::default()
            })
            .await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "malformed cursor",
    );
    assert!(err.to_string().starts_with("invalid cursor"), "{err}");
}

/// The scheduler's timer looks at enabled schedules only.
pub async fn schedule_next_due_at_ignores_disabled(store: &dyn Store) {
    assert_eq!(store.schedule_next_due_at().await.unwrap(), None);
    create(
        store,
        ScheduleSpec {
            enabled: false,
            ..spec("disabled-but-early")
        },
        Some(at(60)),
    )
    .await;
    assert_eq!(store.schedule_next_due_at().await.unwrap(), None);
    create(store, spec("no-more-occurrences"), None).await;
    create(store, spec("later"), Some(at(600))).await;
    create(store, spec("sooner"), Some(at(300))).await;
    assert_eq!(store.schedule_next_due_at().await.unwrap(), Some(at(300)));
}
