//! `/api/sources`, `/api/cache/status` and the sync routes: queueing a sync (and refusing a
//! second while one waits), seed 000's `update-full`/`update-incremental` aliases, and the
//! cache's status before and after a sync, with the next scheduled syncs.

use jiff::SignedDuration;
use serde_json::{Value, json};
use tidings_store::ApiKeyRole;

use crate::helpers::{SAMPLE_RECORDS, SOURCES, STALE_AFTER, TestApp, TestBackend};

fn source<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {status:#}"))
}

async fn sources_are_listed_with_their_records(app: TestApp) {
    let listed = app.list_sources().await.json(200);
    let items = listed["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, SOURCES);
    assert_eq!(items[0]["kind"], "csv");
    assert!(
        items[0]["location"]
            .as_str()
            .unwrap()
            .ends_with("feedback.csv")
    );
    assert_eq!(items[0]["records"], 0);
    assert_eq!(items[0]["default"], true);
    assert_eq!(items[1]["default"], false);
    assert!(items[0]["last_full_at"].is_null());

    app.sync_now("customer_project", "full").await;
    let listed = app.list_sources().await.json(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items[0]["records"], SAMPLE_RECORDS);
    assert_eq!(items[0]["last_full_at"], json!(app.now()));
    assert!(items[0]["watermark"].is_string());
    assert_eq!(items[1]["records"], 0);
    app.with_key(ApiKeyRole::Read)
        .list_sources()
        .await
        .assert_status(200);
}

async fn a_sync_is_queued_and_a_second_refused_while_it_waits(app: TestApp) {
    let run = app
        .sync_source("customer_project", "mode=full")
        .await
        .json(202);
    assert_eq!(run["kind"], "sync");
    assert_eq!(run["state"], "queued");
    assert_eq!(run["trigger"], "api");
    assert_eq!(
        run["params"],
        json!({"source": "customer_project", "mode": "full"})
    );
    // The same route as POST /api/runs answers: the run can be read there.
    app.get_run(&run["id"]).await.assert_status(200);

    let conflict = app
        .sync_source("customer_project", "")
        .await
        .assert_problem(409, "conflict");
    assert_eq!(conflict.body["runs"][0]["id"], run["id"]);
    assert!(
        conflict.body["detail"]
            .as_str()
            .unwrap()
            .contains("customer_project"),
        "{conflict}"
    );
    // Another source is not held up; no mode is incremental.
    let other = app.sync_source("sales_project", "").await.json(202);
    assert_eq!(other["params"]["mode"], "incremental");

    let unknown = app
        .sync_source("billing", "mode=full")
        .await
        .assert_problem(404, "not-found");
    let detail = unknown.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("billing") && detail.contains("customer_project, sales_project"),
        "{unknown}"
    );
    let bad = app
        .sync_source("customer_project", "mode=everything")
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(bad.error_fields(), ["mode"]);
    app.with_key(ApiKeyRole::Read)
        .sync_source("customer_project", "mode=full")
        .await
        .assert_problem(403, "forbidden");

    // Once it has run, another may be queued.
    let ran = app.work().await;
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(
        ran.iter().all(|r| r.state.as_str() == "succeeded"),
        "{ran:?}"
    );
    app.sync_source("customer_project", "mode=incremental")
        .await
        .assert_status(202);
}

async fn cache_status_shows_records_last_syncs_and_next_syncs(app: TestApp) {
    // Seed 000's schedules: incremental hourly 9–18 on weekdays, full on Sundays at 23:59, New
    // York time.
    let full = app
        .create_schedule(&json!({
            "name": "customer-full",
            "cron": "59 23 * * 0",
            "timezone": "America/New_York",
            "kind": "sync",
            "params": {"source": "customer_project", "mode": "full"},
        }))
        .await
        .json(201);
    let incremental = app
        .create_schedule(&json!({
            "name": "customer-incremental",
            "cron": "0 9-18 * * 1-5",
            "timezone": "America/New_York",
            "kind": "sync",
            "params": {"source": "customer_project"},
        }))
        .await
        .json(201);
    // A disabled schedule says nothing about what runs next.
    app.create_schedule(&json!({
        "name": "customer-full-disabled",
        "cron": "0 0 * * *",
        "kind": "sync",
        "enabled": false,
        "params": {"source": "customer_project", "mode": "full"},
    }))
    .await
    .json(201);

    let before = app.cache_status().await.json(200);
    assert_eq!(before["total_records"], 0);
    assert_eq!(before["status"], "stale");
    assert_eq!(before["syncing"], false);
    assert!(before["last_updated_at"].is_null());
    assert_eq!(before["generated_at"], json!(app.now()));
    let customer = source(&before, "customer_project");
    assert_eq!(customer["records"], 0);
    assert_eq!(customer["status"], "never_synced");
    assert_eq!(customer["stale"], true);
    assert!(customer["last_full"].is_null());
    assert!(customer["last_incremental"].is_null());
    assert_eq!(customer["next_full_at"], full["next_run_at"]);
    assert_eq!(customer["next_incremental_at"], incremental["next_run_at"]);
    // Friday 2025-03-07 12:00 UTC is 07:00 in New York: the next incremental is at 09:00
    // EST, the full on Sunday 23:59 EDT (after the spring-forward).
    assert_eq!(customer["next_incremental_at"], "2025-03-07T14:00:00Z");
    assert_eq!(customer["next_full_at"], "2025-03-10T03:59:00Z");
    let sales = source(&before, "sales_project");
    assert!(sales["next_full_at"].is_null());

    // Queued: syncing, with its run.
    let run = app.update_full().await.json(202);
    let queued = app.cache_status().await.json(200);
    assert_eq!(queued["syncing"], true);
    let customer = source(&queued, "customer_project");
    assert_eq!(customer["syncing"], true);
    assert_eq!(customer["sync_run_id"], run["id"]);
    assert_eq!(source(&queued, "sales_project")["syncing"], false);

    app.advance(SignedDuration::from_mins(1));
    let ran = app.work().await;
    assert_eq!(ran.len(), 1);
    let after = app.cache_status().await.json(200);
    assert_eq!(after["total_records"], SAMPLE_RECORDS);
    assert_eq!(after["last_updated_at"], json!(app.now()));
    assert_eq!(after["syncing"], false);
    // One source is fresh; the other has never synced.
    assert_eq!(after["status"], "stale");
    let customer = source(&after, "customer_project");
    assert_eq!(customer["records"], SAMPLE_RECORDS);
    assert_eq!(customer["status"], "fresh");
    assert_eq!(customer["stale"], false);
    assert_eq!(customer["syncing"], false);
    assert!(customer["sync_run_id"].is_null());
    assert_eq!(customer["last_full"]["run_id"], run["id"]);
    assert_eq!(customer["last_full"]["state"], "succeeded");
    assert_eq!(customer["last_full"]["summary"]["inserted"], SAMPLE_RECORDS);
    assert_eq!(customer["last_full"]["finished_at"], json!(app.now()));
    assert!(customer["last_incremental"].is_null());
    assert!(customer["last_error"].is_null());
    assert!(customer["watermark"].is_string());
    assert_eq!(customer["last_updated_at"], json!(app.now()));

    // The other source synced too: the whole cache is fresh, totals add up.
    app.sync_now("sales_project", "incremental").await;
    let both = app.cache_status().await.json(200);
    assert_eq!(both["status"], "fresh");
    assert_eq!(both["total_records"], 2 * SAMPLE_RECORDS);
    let sales = source(&both, "sales_project");
    assert_eq!(sales["last_incremental"]["state"], "succeeded");
    assert!(sales["last_full"].is_null());

    // Past stale_after without a sync: stale again.
    app.advance(SignedDuration::try_from(STALE_AFTER).unwrap() + SignedDuration::from_secs(1));
    let later = app.cache_status().await.json(200);
    assert_eq!(later["status"], "stale");
    assert_eq!(source(&later, "customer_project")["stale"], true);
    assert_eq!(source(&later, "customer_project")["status"], "stale");
}

async fn a_sync_that_did_not_succeed_is_the_last_error(app: TestApp) {
    app.sync_now("customer_project", "full").await;
    // A full sync queued over /api/runs and cancelled before it ran.
    let failing = app
        .create_run(&json!({
            "kind": "sync",
            "params": {"source": "customer_project", "mode": "full"},
            "max_attempts": 1
        }))
        .await
        .json(202);
    let cancelled = app.cancel_run(&failing["id"], None).await.json(202);
    assert_eq!(cancelled["state"], "cancelled");
    let status = app.cache_status().await.json(200);
    let customer = source(&status, "customer_project");
    // The latest full sync that ended was cancelled; the cache is still fresh from the one
    // before.
    assert_eq!(customer["last_full"]["run_id"], failing["id"]);
    assert_eq!(customer["last_full"]["state"], "cancelled");
    assert_eq!(customer["last_error"], "cancelled over the API");
    assert_eq!(customer["stale"], false);
    assert_eq!(customer["records"], SAMPLE_RECORDS);
}

async fn the_seed_aliases_sync_the_default_source(app: TestApp) {
    let full = app.update_full().await.json(202);
    assert_eq!(
        full["params"],
        json!({"source": "customer_project", "mode": "full"})
    );
    // Queued already: the incremental alias is refused with it.
    let conflict = app
        .update_incremental()
        .await
        .assert_problem(409, "conflict");
    assert_eq!(conflict.body["runs"][0]["id"], full["id"]);
    app.work().await;
    let incremental = app.update_incremental().await.json(202);
    assert_eq!(
        incremental["params"],
        json!({"source": "customer_project", "mode": "incremental"})
    );
    app.with_key(ApiKeyRole::Read)
        .update_full()
        .await
        .assert_problem(403, "forbidden");
}

async fn the_aliases_follow_default_source(app: TestApp) {
    let full = app.update_full().await.json(202);
    assert_eq!(full["params"]["source"], "sales_project");
    let listed = app.list_sources().await.json(200);
    assert_eq!(listed["items"][1]["default"], true);
}

async fn without_sources_the_aliases_say_to_configure_one(app: TestApp) {
    let answer = app.update_full().await.assert_problem(404, "not-found");
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("[sources.NAME]"),
        "{answer}"
    );
    app.update_incremental()
        .await
        .assert_problem(404, "not-found");
    let status = app.cache_status().await.json(200);
    assert_eq!(status["status"], "unconfigured");
    assert_eq!(status["sources"], json!([]));
    assert_eq!(app.list_sources().await.json(200)["items"], json!([]));
}

both_backends!(
    sources_are_listed_with_their_records,
    a_sync_is_queued_and_a_second_refused_while_it_waits,
    cache_status_shows_records_last_syncs_and_next_syncs,
    a_sync_that_did_not_succeed_is_the_last_error,
    the_seed_aliases_sync_the_default_source,
);

mod configured {
    use super::*;
    use crate::helpers::run_configured;

    fn sales_by_default(config: &mut tidings_api::ApiConfig) {
        config.default_source = Some("sales_project".to_owned());
    }

    fn no_sources(config: &mut tidings_api::ApiConfig) {
        config.sources.clear();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_aliases_follow_default_source_sqlite() {
        run_configured(
            TestBackend::Sqlite,
            sales_by_default,
            the_aliases_follow_default_source,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_aliases_follow_default_source_postgres() {
        run_configured(
            TestBackend::Postgres,
            sales_by_default,
            the_aliases_follow_default_source,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_sources_the_aliases_say_to_configure_one_sqlite() {
        run_configured(
            TestBackend::Sqlite,
            no_sources,
            without_sources_the_aliases_say_to_configure_one,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_sources_the_aliases_say_to_configure_one_postgres() {
        run_configured(
            TestBackend::Postgres,
            no_sources,
            without_sources_the_aliases_say_to_configure_one,
        )
        .await;
    }
}
