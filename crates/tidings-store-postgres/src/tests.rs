//! What only PostgreSQL has: schemas, several stores on one database racing each other, and
//! connection errors. Behaviour shared with SQLite is tested by `tidings-storetest`.
//!
//! Each test works in its own random schema on the server at `TIDINGS_TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) and drops it at the end. A server that
//! cannot be reached fails the test; it never skips.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use tidings_core::{CronExpr, CronTrigger, RetryPolicy, RunState, RunTrigger, Trigger, Zone};
use tidings_store::{
    RunClaimParams, RunEnqueueParams, RunEnqueued, RunId, ScheduleCreateParams,
    ScheduleFireDueParams, ScheduleKey, ScheduleListParams, ScheduleName, ScheduleOrigin,
    SchedulePolicy, ScheduleSpec, Store, StoreError,
};

use crate::{PostgresOptions, PostgresStore};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn database_url() -> String {
    std::env::var("TIDINGS_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn unique_schema() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one((std::process::id(), count));
    format!("tidings_test_{random:016x}")
}

/// A store on `schema`, created if missing. Panics (fails the test) when PostgreSQL cannot be
/// reached, saying how to start it.
async fn open(schema: &str, max_connections: u32) -> PostgresStore {
    let options = PostgresOptions {
        max_connections,
        schema: Some(schema.to_owned()),
    };
    PostgresStore::connect(&database_url(), options)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL tests need a server and never skip: {e}\n\
                 Start the local one with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
                 or point TIDINGS_TEST_DATABASE_URL at one (default {DEFAULT_URL})."
            )
        })
}

/// A migrated store in a new schema of its own.
async fn fresh(max_connections: u32) -> PostgresStore {
    let store = open(&unique_schema(), max_connections).await;
    store.migrate().await.expect("migrate a fresh schema");
    store
}

fn t0() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

fn spec(name: &str) -> ScheduleSpec {
    ScheduleSpec {
        name: ScheduleName::parse(name).unwrap(),
        description: None,
        trigger: Trigger::Cron(CronTrigger::new(
            CronExpr::parse("* * * * *").unwrap(),
            Zone::utc(),
        )),
        kind: "http".to_owned(),
        params: serde_json::json!({ "url": "http://127.0.0.1:9/hook" }),
        enabled: true,
        policy: SchedulePolicy::default(),
        source: None,
        tags: Vec::new(),
        callback_url: None,
    }
}

async fn create(store: &PostgresStore, spec: ScheduleSpec, next_run_at: Option<Timestamp>) {
    store
        .schedule_create(ScheduleCreateParams {
            spec,
            origin: ScheduleOrigin::Api,
            now: t0(),
            next_run_at,
        })
        .await
        .expect("schedule_create");
}

fn adhoc(kind: &str) -> RunEnqueueParams {
    RunEnqueueParams {
        schedule_id: None,
        kind: kind.to_owned(),
        params: serde_json::json!({}),
        trigger: RunTrigger::Api,
        retry: RetryPolicy::default(),
        timeout: SignedDuration::from_secs(3600),
        run_after: t0(),
        now: t0(),
        max_instances: None,
        parent_run_id: None,
    }
}

async fn enqueue(store: &PostgresStore, params: RunEnqueueParams) -> RunId {
    match store.run_enqueue(params).await.expect("run_enqueue") {
        RunEnqueued::Queued(run) => run.id,
        RunEnqueued::AtCapacity(active) => panic!("refused at capacity: {active:?}"),
    }
}

fn claim_params(instance: &str, limit: u32) -> RunClaimParams {
    RunClaimParams {
        instance: instance.to_owned(),
        now: at(1),
        lease: SignedDuration::from_secs(30),
        limit,
        kinds: Vec::new(),
        only: None,
    }
}

/// Claims with `limit` until a claim comes back empty; returns every run id claimed.
async fn claim_all(store: PostgresStore, instance: &'static str, limit: u32) -> Vec<RunId> {
    let mut claimed = Vec::new();
    loop {
        let runs = store
            .run_claim(claim_params(instance, limit))
            .await
            .expect("run_claim");
        if runs.is_empty() {
            return claimed;
        }
        assert!(runs.len() <= limit as usize, "{} > {limit}", runs.len());
        for run in runs {
            assert_eq!(run.state, RunState::Running);
            assert_eq!(run.lease_owner.as_deref(), Some(instance));
            claimed.push(run.id);
        }
    }
}

#[tokio::test]
async fn stores_on_two_schemas_do_not_see_each_other() {
    let first = fresh(2).await;
    let second = fresh(2).await;
    create(&first, spec("nightly"), Some(at(60))).await;

    let listed = second
        .schedule_list(ScheduleListParams::default())
        .await
        .unwrap();
    assert!(listed.items.is_empty(), "{listed:?}");
    let key = ScheduleKey::parse("nightly").unwrap();
    assert!(matches!(
        second.schedule_get(&key).await,
        Err(StoreError::NotFound {
            entity: "schedule",
            ..
        })
    ));
    assert_eq!(second.schedule_next_due_at().await.unwrap(), None);
    // The same name is free in the other schema.
    create(&second, spec("nightly"), Some(at(120))).await;
    assert_eq!(first.schedule_next_due_at().await.unwrap(), Some(at(60)));
    assert_eq!(second.schedule_next_due_at().await.unwrap(), Some(at(120)));

    first.drop_schema().await.unwrap();
    second.drop_schema().await.unwrap();
}

#[tokio::test]
async fn migrate_applies_once_into_the_schema() {
    let schema = unique_schema();
    let store = open(&schema, 2).await;
    let applied = store.migrate().await.unwrap();
    assert_eq!(
        applied
            .iter()
            .map(|m| (m.version, m.description.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "init"),
            (2, "api keys"),
            (3, "webhooks"),
            (4, "feedback"),
            (5, "instances"),
            (6, "feedback raw json"),
            (7, "stats"),
            (8, "sentiment origin")
        ]
    );
    assert_eq!(applied, PostgresStore::migrations());
    assert_eq!(store.migrate().await.unwrap(), []);
    let other = open(&schema, 1).await;
    assert_eq!(other.migrate().await.unwrap(), [], "another instance");
    drop(other);

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 ORDER BY table_name",
    )
    .bind(&schema)
    .fetch_all(&store.pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "api_keys",
            "feedback",
            "instances",
            "run_attempts",
            "runs",
            "schedules",
            "source_files",
            "source_state",
            "stats_current",
            "stats_rows",
            "stats_snapshots"
        ]
    );
    store.drop_schema().await.unwrap();

    let plain = PostgresStore::connect(&database_url(), PostgresOptions::default())
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
    )
    .bind(&schema)
    .fetch_one(&plain.pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "drop_schema drops it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn concurrent_migrations_of_one_schema_apply_it_once() {
    let schema = unique_schema();
    let (a, b, c) = (
        open(&schema, 1).await,
        open(&schema, 1).await,
        open(&schema, 1).await,
    );
    let (ra, rb, rc) = tokio::join!(a.migrate(), b.migrate(), c.migrate());
    let applied = [ra.unwrap(), rb.unwrap(), rc.unwrap()];
    let count: usize = applied.iter().map(Vec::len).sum();
    assert_eq!(
        count,
        PostgresStore::migrations().len(),
        "exactly one instance applies each migration: {applied:?}"
    );
    assert!(
        applied.iter().filter(|a| !a.is_empty()).count() == 1,
        "one instance applies them all: {applied:?}"
    );
    drop((b, c));
    a.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_run() {
    let first = fresh(4).await;
    let second = open(first.schema().unwrap(), 4).await;
    let mut queued = HashSet::new();
    for _ in 0..200 {
        queued.insert(enqueue(&first, adhoc("sync")).await);
    }

    let a = tokio::spawn(claim_all(first.clone(), "worker-a", 7));
    let b = tokio::spawn(claim_all(second.clone(), "worker-b", 7));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    let mut union = HashSet::new();
    for id in a.iter().chain(&b) {
        assert!(union.insert(*id), "run {id} was claimed twice");
    }
    assert_eq!(union, queued, "every queued run is claimed");
    assert!(!a.is_empty() && !b.is_empty(), "both claimers got work");
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM run_attempts")
        .fetch_one(&first.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 200, "one attempt row per claim");
    drop(second);
    first.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_respect_max_instances() {
    let first = fresh(4).await;
    let second = open(first.schema().unwrap(), 4).await;
    let mut policy = SchedulePolicy::default();
    policy.fire.max_instances = 2;
    let mut limited = spec("limited");
    limited.policy = policy;
    create(&first, limited, None).await;
    let schedule = first
        .schedule_get(&ScheduleKey::parse("limited").unwrap())
        .await
        .unwrap();
    for _ in 0..20 {
        let manual = RunEnqueueParams {
            schedule_id: Some(schedule.id),
            trigger: RunTrigger::Manual,
            ..adhoc("http")
        };
        enqueue(&first, manual).await;
    }

    // Many rounds of two claimers racing: together they never hold more than 2 runs.
    for round in 0..10 {
        let (a, b) = tokio::join!(
            first.run_claim(claim_params("worker-a", 5)),
            second.run_claim(claim_params("worker-b", 5)),
        );
        let claimed = a.unwrap().len() + b.unwrap().len();
        let running: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE state = 'running'")
            .fetch_one(&first.pool)
            .await
            .unwrap();
        assert!(running <= 2, "round {round}: {running} running");
        if round == 0 {
            assert_eq!(claimed, 2, "the two allowed runs are claimed at once");
        }
        // Free the places for the next round.
        sqlx::query("UPDATE runs SET state = 'succeeded' WHERE state = 'running'")
            .execute(&first.pool)
            .await
            .unwrap();
    }
    drop(second);
    first.drop_schema().await.unwrap();
}

/// Inserts `count` enabled per-minute schedules due at `due` in one statement.
async fn insert_due_schedules(store: &PostgresStore, count: i64, due: Timestamp) {
    let spec = spec("template");
    sqlx::query(
        "INSERT INTO schedules (name, trigger, kind, params, enabled, policy, max_instances,
                                origin, next_run_at, created_at, updated_at)
         SELECT 'bulk-' || n, $2, 'http', '{}', TRUE, $3, 1, 'api', $4, $4, $4
         FROM generate_series(1, $1) AS n",
    )
    .bind(count)
    .bind(sqlx::types::Json(&spec.trigger))
    .bind(sqlx::types::Json(&spec.policy))
    .bind(due.as_millisecond())
    .execute(&store.pool)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_firing_at_once_fire_each_occurrence_once() {
    let first = fresh(4).await;
    let second = open(first.schema().unwrap(), 4).await;
    insert_due_schedules(&first, 2_000, at(0)).await;
    let fire = |store: PostgresStore| async move {
        let mut fired = Vec::new();
        loop {
            let batch = store
                .schedule_fire_due(ScheduleFireDueParams {
                    now: at(1),
                    limit: 300,
                })
                .await
                .unwrap();
            if batch.is_empty() {
                return fired;
            }
            fired.extend(batch);
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(fire(first.clone())),
        tokio::spawn(fire(second.clone()))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let fired: HashSet<_> = a.iter().chain(&b).map(|f| f.schedule_id).collect();
    assert_eq!(
        a.len() + b.len(),
        2_000,
        "each schedule fired by one instance"
    );
    assert_eq!(fired.len(), 2_000);
    assert!(
        a.iter()
            .chain(&b)
            .all(|f| f.queued.len() == 1 && f.next_run_at == Some(at(60)))
    );
    let row =
        sqlx::query("SELECT count(*) AS runs, count(DISTINCT schedule_id) AS schedules FROM runs")
            .fetch_one(&first.pool)
            .await
            .unwrap();
    assert_eq!(row.get::<i64, _>("runs"), 2_000);
    assert_eq!(row.get::<i64, _>("schedules"), 2_000);
    drop(second);
    first.drop_schema().await.unwrap();
}

/// A burst larger than one firing chunk: every schedule fires once, in one call. (How fast is
/// measured by `tidings-bench fire`, see BENCHMARKS.md.)
#[tokio::test]
async fn ten_thousand_schedules_due_together_all_fire_in_one_call() {
    let store = fresh(4).await;
    insert_due_schedules(&store, 10_000, at(0)).await;
    let fired = store
        .schedule_fire_due(ScheduleFireDueParams {
            now: at(0),
            limit: 10_000,
        })
        .await
        .unwrap();
    assert_eq!(fired.len(), 10_000);
    assert!(fired.iter().all(|f| f.queued.len() == 1));
    let depth = store.run_queue_depth(at(0)).await.unwrap();
    assert_eq!(depth, 10_000);
    assert_eq!(store.schedule_next_due_at().await.unwrap(), Some(at(60)));
    store.drop_schema().await.unwrap();
}

#[tokio::test]
async fn unreachable_server_is_unavailable_and_the_password_stays_secret() {
    let options = PostgresOptions {
        max_connections: 1,
        schema: None,
    };
    let started = Instant::now();
    let error = PostgresStore::connect("postgres://tidings:hunter2@127.0.0.1:1/prod", options)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_unavailable(), "{error:?}");
    assert!(
        message.contains("127.0.0.1:1") && message.contains("`prod`"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{error:?}").contains("hunter2"));
    assert!(
        started.elapsed().as_secs() < 10,
        "fails fast, no retry loop"
    );
}

#[tokio::test]
async fn a_schema_name_that_is_not_an_identifier_is_refused_before_any_sql() {
    let options = PostgresOptions {
        max_connections: 1,
        schema: Some("x\"; DROP SCHEMA public CASCADE; --".to_owned()),
    };
    let error = PostgresStore::connect(&database_url(), options)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("invalid PostgreSQL schema name"),
        "{error}"
    );
}

#[tokio::test]
async fn drop_schema_refuses_a_store_without_one() {
    let store = PostgresStore::connect(&database_url(), PostgresOptions::default())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL tests need a server and never skip: {e}"));
    assert!(matches!(
        store.drop_schema().await,
        Err(StoreError::InvalidState(_))
    ));
}

/// Lock order: claimers hold queued runs and wait for their schedule; deleting a schedule
/// takes its runs first, then the schedule. Racing them (and completions, which hold running
/// runs and then lock schedules for their statistics) must end without a deadlock error and
/// leave no run queued for a deleted schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_schedules_while_claiming_and_completing_neither_deadlocks_nor_strands_runs() {
    let store = fresh(8).await;
    let mut schedules = Vec::new();
    for n in 0..40 {
        let mut many = spec(&format!("busy-{n}"));
        many.policy.fire.max_instances = 3;
        create(&store, many, None).await;
        let made = store
            .schedule_get(&ScheduleKey::parse(&format!("busy-{n}")).unwrap())
            .await
            .unwrap();
        for _ in 0..5 {
            let manual = RunEnqueueParams {
                schedule_id: Some(made.id),
                trigger: RunTrigger::Manual,
                ..adhoc("http")
            };
            enqueue(&store, manual).await;
        }
        schedules.push(made.id);
    }

    let worker = |store: PostgresStore, instance: &'static str| async move {
        for _ in 0..60 {
            let claimed = store
                .run_claim(claim_params(instance, 4))
                .await
                .unwrap_or_else(|e| panic!("{instance} run_claim: {e}"));
            let completions = claimed
                .iter()
                .map(|run| tidings_store::RunCompletion {
                    run_id: run.id,
                    instance: instance.to_owned(),
                    attempt: run.attempt,
                    finished_at: at(2),
                    outcome: tidings_store::RunOutcome::Succeeded { summary: None },
                })
                .collect();
            store
                .run_complete(completions)
                .await
                .unwrap_or_else(|e| panic!("{instance} run_complete: {e}"));
        }
    };
    let deleter = {
        let store = store.clone();
        let schedules = schedules.clone();
        async move {
            for id in schedules {
                store
                    .schedule_delete(id, at(3))
                    .await
                    .unwrap_or_else(|e| panic!("schedule_delete {id}: {e}"));
            }
        }
    };
    let (a, b, d) = tokio::join!(
        tokio::spawn(worker(store.clone(), "worker-a")),
        tokio::spawn(worker(store.clone(), "worker-b")),
        tokio::spawn(deleter),
    );
    a.unwrap();
    b.unwrap();
    d.unwrap();

    let row = sqlx::query(
        "SELECT count(*) FILTER (WHERE state = 'queued') AS queued,
                count(*) FILTER (WHERE schedule_id IS NOT NULL) AS linked,
                count(*) AS runs
         FROM runs",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap();
    assert_eq!(row.get::<i64, _>("queued"), 0, "no run left queued");
    assert_eq!(row.get::<i64, _>("linked"), 0, "every schedule is gone");
    assert_eq!(row.get::<i64, _>("runs"), 200, "runs are kept");
    store.drop_schema().await.unwrap();
}

/// The next change a feed reports, within 10 s.
async fn next_change(feed: &mut Box<dyn tidings_store::ChangeFeed>) -> tidings_store::StoreChange {
    tokio::time::timeout(std::time::Duration::from_secs(10), feed.next())
        .await
        .expect("a change within 10 s")
        .expect("the feed goes on")
}

/// Another instance's queued runs and schedule changes reach a feed; a store on another schema
/// of the same database is not heard; after its connection is killed the feed says so, comes
/// back by itself, and hears the next change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_hears_other_instances_and_survives_a_lost_connection() {
    use tidings_store::StoreChange;

    let schema = unique_schema();
    let listener = open(&schema, 2).await;
    listener.migrate().await.unwrap();
    let other = open(&schema, 2).await;
    let elsewhere = fresh(2).await;
    let mut feed = listener
        .changes()
        .await
        .unwrap()
        .expect("PostgreSQL has a feed");

    enqueue(&elsewhere, adhoc("noop")).await;
    let heard = tokio::time::timeout(std::time::Duration::from_millis(300), feed.next()).await;
    assert!(heard.is_err(), "another schema's run was heard: {heard:?}");
    enqueue(&other, adhoc("noop")).await;
    assert_eq!(next_change(&mut feed).await, StoreChange::RunsQueued);
    create(&other, spec("nightly"), Some(at(60))).await;
    assert_eq!(next_change(&mut feed).await, StoreChange::SchedulesChanged);

    // Kill the feed's connection from outside, as a PostgreSQL restart would.
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE query ILIKE 'LISTEN%' AND backend_type = 'client backend'
               AND pid <> pg_backend_pid()
               AND pid IN (SELECT pid FROM pg_stat_activity
                           WHERE state = 'idle' AND query ILIKE '%\"tidings\"%')
         ) AS t",
    )
    .fetch_one(&other.pool)
    .await
    .unwrap();
    assert!(
        killed >= 1,
        "the feed's connection was found and terminated"
    );
    assert_eq!(next_change(&mut feed).await, StoreChange::Reconnected);
    enqueue(&other, adhoc("noop")).await;
    // Others' listeners (parallel tests) were killed too; this feed hears its own schema only.
    loop {
        match next_change(&mut feed).await {
            StoreChange::RunsQueued => break,
            StoreChange::Reconnected => {}
            StoreChange::SchedulesChanged => panic!("no schedule changed"),
        }
    }
    drop(feed);
    elsewhere.drop_schema().await.unwrap();
    other.drop_schema().await.unwrap();
}

/// A claim turns bitmap scans off for its own transaction only: the pooled connection it used
/// plans the next query (a feedback filter, say) with its settings as they were, after a claim
/// that found a run (committed) and after one that found none (rolled back).
#[tokio::test]
async fn a_claim_leaves_the_connections_settings_as_they_were() {
    let store = fresh(1).await;
    let bitmap_scans = || async {
        sqlx::query_scalar::<_, String>("SHOW enable_bitmapscan")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    };
    assert_eq!(bitmap_scans().await, "on");
    let queued = enqueue(&store, adhoc("sync")).await;
    let claimed = store.run_claim(claim_params("worker", 5)).await.unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), [queued]);
    assert_eq!(bitmap_scans().await, "on", "after a claim that found a run");
    let claimed = store.run_claim(claim_params("worker", 5)).await.unwrap();
    assert!(claimed.is_empty());
    assert_eq!(bitmap_scans().await, "on", "after a claim that found none");
    store.drop_schema().await.unwrap();
}
