//! `/api/schedules`: create (tidings' fields and seed 004's), read, list, change, enable,
//! disable, delete, run now, history and preview; and a schedule created over the API that
//! fires on the (manual) clock.

use std::collections::BTreeSet;

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::helpers::{BODY_LIMIT, START, TestApp};

/// Seed 004's cron example, with the job kind tidings needs.
fn seed_cron() -> Value {
    json!({
        "name": "daily-sales-import",
        "kind": "noop",
        "project_name": "sales_project",
        "schedule_type": "cron",
        "cron_expression": "0 0 * * *",
        "timezone": "America/New_York",
        "enabled": true
    })
}

/// Seed 004's interval example, with the job kind tidings needs.
fn seed_interval() -> Value {
    json!({
        "name": "hourly-customer-import",
        "kind": "noop",
        "project_name": "customer_project",
        "schedule_type": "interval",
        "interval_seconds": 7200,
        "timezone": "UTC",
        "enabled": true,
        "callback_url": "https://webhook.example.com/notify"
    })
}

/// A noop schedule every two hours.
fn every_two_hours(name: &str) -> Value {
    json!({"name": name, "interval": "2h", "kind": "noop"})
}

async fn create(app: &TestApp, body: Value) -> Value {
    app.create_schedule(&body).await.json(201)
}

async fn create_in_tidings_shape(app: TestApp) {
    let answer = app
        .create_schedule(&json!({
            "name": "weekday-digest",
            "description": "Morning digest of new feedback",
            "cron": "30 6 * * 1-5",
            "timezone": "Europe/Paris",
            "kind": "noop",
            "params": {"sleep_ms": 0},
            "tags": ["digest", "mail"],
            "source": "zendesk",
            "max_instances": 2,
            "misfire_grace": "10m",
            "max_attempts": 3,
            "backoff": 30,
            "timeout": "5m"
        }))
        .await
        .assert_status(201);
    assert_eq!(answer.content_type(), "application/json");
    let s = &answer.body;
    assert!(s["id"].as_i64().unwrap() > 0, "{answer}");
    assert_eq!(s["name"], "weekday-digest");
    assert_eq!(s["description"], "Morning digest of new feedback");
    assert_eq!(s["trigger"]["type"], "cron");
    assert_eq!(s["trigger"]["expr"], "30 6 * * 1-5");
    assert_eq!(s["trigger"]["zone"], "Europe/Paris");
    assert!(
        s["trigger"]["explain"]
            .as_str()
            .unwrap()
            .contains("Europe/Paris"),
        "{answer}"
    );
    assert_eq!(s["kind"], "noop");
    assert_eq!(s["params"], json!({"sleep_ms": 0}));
    assert_eq!(s["enabled"], true);
    assert_eq!(s["origin"], "api");
    assert_eq!(s["source"], "zendesk");
    assert_eq!(s["tags"], json!(["digest", "mail"]));
    // Friday 12:00 UTC: the next weekday 06:30 in Paris (UTC+1) is Monday's.
    assert_eq!(s["next_run_at"], "2025-03-10T05:30:00Z");
    assert_eq!(s["stats"]["total"], 0);
    assert_eq!(s["stats"]["last_run_at"], Value::Null);
    assert_eq!(s["created_at"], START);
    // The seed's names of the same values.
    assert_eq!(s["schedule_type"], "cron");
    assert_eq!(s["cron_expression"], "30 6 * * 1-5");
    assert_eq!(s["timezone"], "Europe/Paris");
    assert_eq!(s["project_name"], "zendesk");
    assert_eq!(s["total_runs"], 0);
    // The policy as given.
    let policy = s["policy"].to_string();
    for given in ["\"max_instances\":2", "\"max_attempts\":3"] {
        assert!(policy.contains(given), "{given} not in {policy}");
    }
}

/// Seed 004's example bodies, as its curl commands send them (plus `kind`), under `/api`.
async fn create_in_seed_004_shape(app: TestApp) {
    let cron = app.create_schedule(&seed_cron()).await.assert_status(201);
    let s = &cron.body;
    assert_eq!(s["name"], "daily-sales-import");
    assert_eq!(s["schedule_type"], "cron");
    assert_eq!(s["cron_expression"], "0 0 * * *");
    assert_eq!(s["interval_seconds"], Value::Null);
    assert_eq!(s["timezone"], "America/New_York");
    assert_eq!(s["project_name"], "sales_project");
    assert_eq!(s["source"], "sales_project");
    assert_eq!(s["enabled"], true);
    // Midnight in New York (UTC-5 until the 9th).
    assert_eq!(s["next_run_at"], "2025-03-08T05:00:00Z");
    for counter in ["total_runs", "successful_runs", "failed_runs"] {
        assert_eq!(s[counter], 0, "{counter}: {cron}");
    }
    assert_eq!(s["last_run_at"], Value::Null);

    let interval = app
        .create_schedule(&seed_interval())
        .await
        .assert_status(201);
    let s = &interval.body;
    assert_eq!(s["schedule_type"], "interval");
    assert_eq!(s["interval_seconds"], 7200);
    assert_eq!(s["cron_expression"], Value::Null);
    assert_eq!(s["timezone"], "UTC");
    assert_eq!(s["callback_url"], "https://webhook.example.com/notify");
    assert_eq!(s["next_run_at"], "2025-03-07T14:00:00Z");
}

/// The seed's other examples: list by project, run now, history, disable.
async fn seed_004_examples_work_end_to_end(app: TestApp) {
    create(&app, seed_cron()).await;
    let interval = create(&app, seed_interval()).await;
    let id = &interval["id"];

    let listed = app
        .list_schedules("project=customer_project&enabled=true")
        .await
        .json(200);
    let names: Vec<&str> = names(&listed);
    assert_eq!(names, ["hourly-customer-import"]);

    let run = app.run_schedule(id).await.json(202);
    assert_eq!(run["schedule_id"], *id);
    app.work().await;
    let history = app.history(id, "").await.json(200);
    assert_eq!(history["items"][0]["id"], run["id"]);
    assert_eq!(history["items"][0]["state"], "succeeded");

    let disabled = app.disable(id).await.json(200);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["total_runs"], 1);
    assert_eq!(disabled["successful_runs"], 1);
}

/// Seed 004's bodies exactly as its curl commands send them: a project and no job kind. They
/// sync that project's source; a project that is not a configured source is refused under the
/// name the client sent, with the sources there are.
async fn seed_bodies_as_written_sync_their_project(app: TestApp) {
    let mut body = seed_interval();
    body.as_object_mut().unwrap().remove("kind");
    let created = app.create_schedule(&body).await.json(201);
    assert_eq!(created["kind"], "sync");
    assert_eq!(created["params"], json!({"source": "customer_project"}));
    assert_eq!(created["project_name"], "customer_project");

    let run = app.run_schedule(&created["id"]).await.json(202);
    app.work().await;
    let history = app.history(&created["id"], "").await.json(200);
    let ran = &history["items"][0];
    assert_eq!(ran["id"], run["id"]);
    assert_eq!(ran["state"], "succeeded", "{history}");
    assert_eq!(ran["summary"]["inserted"], 5200, "{history}");
    assert_eq!(ran["summary"]["bad_rows"], 0, "{history}");

    let mut unknown = seed_cron();
    let fields = unknown.as_object_mut().unwrap();
    fields.remove("kind");
    fields.insert("project_name".to_owned(), json!("marketing_project"));
    let answer = app
        .create_schedule(&unknown)
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["project_name"]);
    let message = answer.error_message("project_name");
    assert!(
        message.contains("unknown source `marketing_project`")
            && message.contains("customer_project, sales_project"),
        "{answer}"
    );
}

async fn a_taken_name_is_a_conflict(app: TestApp) {
    create(&app, every_two_hours("twice")).await;
    let answer = app
        .create_schedule(&every_two_hours("twice"))
        .await
        .assert_problem(409, "conflict");
    assert!(
        answer.body["detail"].as_str().unwrap().contains("twice"),
        "{answer}"
    );
}

async fn invalid_values_are_each_named(app: TestApp) {
    let answer = app
        .create_schedule(&json!({
            "name": "9 lives",
            "cron": "61 * * * *",
            "timezone": "Mars/Olympus_Mons",
            "kind": "noop",
            "params": {"sleep_ms": "a while"}
        }))
        .await
        .assert_problem(422, "invalid-request");
    let fields: BTreeSet<&str> = answer.error_fields().into_iter().collect();
    assert_eq!(
        fields,
        BTreeSet::from(["name", "cron", "timezone", "params.sleep_ms"]),
        "{answer}"
    );
    assert_eq!(answer.body["detail"], "4 fields are invalid");

    // The seed's names are the ones reported when the seed's names were sent.
    let answer = app
        .create_schedule(&json!({
            "name": "seed-shaped",
            "kind": "noop",
            "schedule_type": "cron",
            "cron_expression": "0 0 * *",
            "project_name": "sales_project"
        }))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["cron_expression"]);

    // Policy numbers, once the trigger is valid.
    let answer = app
        .create_schedule(&json!({
            "name": "no-room", "interval": "2h", "kind": "noop",
            "max_instances": 0, "max_attempts": 0, "callback_url": "ftp://example.com"
        }))
        .await
        .assert_problem(422, "invalid-request");
    let fields: BTreeSet<&str> = answer.error_fields().into_iter().collect();
    assert_eq!(
        fields,
        BTreeSet::from(["max_instances", "max_attempts", "callback_url"]),
        "{answer}"
    );

    // A seed `schedule_type` without its field.
    let answer = app
        .create_schedule(&json!({"name": "half", "kind": "noop", "schedule_type": "cron"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["cron_expression"]);

    // Wrong JSON types name the field.
    let answer = app
        .create_schedule(
            &json!({"name": "typed", "interval": "2h", "kind": "noop", "enabled": "yes"}),
        )
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["enabled"]);
}

async fn an_unknown_field_is_named(app: TestApp) {
    let answer = app
        .create_schedule(
            &json!({"name": "colourful", "interval": "2h", "kind": "noop", "colour": "blue"}),
        )
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["colour"]);
    assert!(
        answer.error_message("colour").contains("expected one of"),
        "{answer}"
    );
}

/// Seed 004's rule, as `[scheduler] min_interval = "1h"`: intervals below it, and cron
/// expressions firing more often, are refused saying so.
async fn schedules_more_frequent_than_min_interval_are_refused(app: TestApp) {
    let answer = app
        .create_schedule(&json!({"name": "half-hourly", "interval_seconds": 1800, "kind": "noop"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["interval_seconds"]);
    assert!(
        answer
            .error_message("interval_seconds")
            .contains("shorter than the minimum interval of 3600 s"),
        "{answer}"
    );

    let answer = app
        .create_schedule(&json!({"name": "every-minute", "cron": "* * * * *", "kind": "noop"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["cron"]);
    let message = answer.error_message("cron");
    assert!(
        message.contains("60 s apart") && message.contains("minimum interval of 3600 s"),
        "{answer}"
    );

    // Exactly the minimum is fine.
    create(
        &app,
        json!({"name": "hourly", "interval_seconds": 3600, "kind": "noop"}),
    )
    .await;
}

async fn bodies_that_are_not_json_are_refused(app: TestApp) {
    let malformed = app
        .send(
            "POST",
            "/api/schedules",
            "/api/schedules",
            Some(b"{\"name\": \"broken\",".to_vec()),
            Some("application/json"),
        )
        .await
        .assert_problem(400, "malformed-request");
    assert!(!malformed.body["detail"].as_str().unwrap().is_empty());

    let untyped = app
        .send(
            "POST",
            "/api/schedules",
            "/api/schedules",
            Some(serde_json::to_vec(&every_two_hours("untyped")).unwrap()),
            None,
        )
        .await
        .assert_problem(400, "malformed-request");
    assert!(
        untyped.body["detail"]
            .as_str()
            .unwrap()
            .contains("Content-Type: application/json"),
        "{untyped}"
    );

    let mut big = every_two_hours("big");
    big["description"] = json!("x".repeat(BODY_LIMIT));
    app.create_schedule(&big)
        .await
        .assert_problem(413, "body-too-large");
    // Nothing was created by any of them.
    assert_eq!(
        names(&app.list_schedules("").await.json(200)),
        Vec::<&str>::new()
    );
}

async fn a_schedule_is_found_by_id_and_by_name(app: TestApp) {
    let created = create(&app, seed_cron()).await;
    let by_id = app.get_schedule(&created["id"]).await.json(200);
    assert_eq!(by_id, created);
    let by_name = app.get_schedule("daily-sales-import").await.json(200);
    assert_eq!(by_name, created);

    let answer = app
        .get_schedule("no-such-schedule")
        .await
        .assert_problem(404, "not-found");
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("no-such-schedule"),
        "{answer}"
    );
    app.get_schedule(999_999)
        .await
        .assert_problem(404, "not-found");
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

fn sorted(mut names: Vec<&str>) -> Vec<&str> {
    names.sort_unstable();
    names
}

async fn lists_filter_by_enabled_kind_source_tag_and_text(app: TestApp) {
    create(
        &app,
        json!({"name": "alpha", "description": "Morning DIGEST", "interval": "2h", "kind": "noop",
               "source": "zendesk", "tags": ["mail"]}),
    )
    .await;
    create(
        &app,
        json!({"name": "beta", "interval": "3h", "kind": "http",
               "params": {"url": "https://example.com/hook"},
               "source": "typeform", "tags": ["nps"], "enabled": false}),
    )
    .await;
    create(
        &app,
        json!({"name": "gamma-digest", "interval": "4h", "kind": "noop",
               "project_name": "typeform", "tags": ["mail", "nps"]}),
    )
    .await;

    for (query, expected) in [
        ("", vec!["alpha", "beta", "gamma-digest"]),
        ("enabled=true", vec!["alpha", "gamma-digest"]),
        ("enabled=false", vec!["beta"]),
        ("kind=http", vec!["beta"]),
        ("kind=noop", vec!["alpha", "gamma-digest"]),
        ("source=typeform", vec!["beta", "gamma-digest"]),
        ("project=typeform", vec!["beta", "gamma-digest"]),
        ("tag=nps", vec!["beta", "gamma-digest"]),
        ("tag=mail&enabled=true", vec!["alpha", "gamma-digest"]),
        ("text=digest", vec!["alpha", "gamma-digest"]),
        ("origin=api", vec!["alpha", "beta", "gamma-digest"]),
        ("origin=config", vec![]),
        ("source=nowhere", vec![]),
    ] {
        let page = app.list_schedules(query).await.json(200);
        assert_eq!(sorted(names(&page)), expected, "?{query}");
        assert_eq!(page.get("next_cursor"), None, "?{query}");
    }

    for (query, field) in [
        ("origin=manual", "origin"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("enabled=maybe", "enabled"),
        ("colour=blue", "colour"),
    ] {
        let answer = app
            .list_schedules(query)
            .await
            .assert_problem(422, "invalid-request");
        assert_eq!(answer.error_fields(), [field], "?{query}");
    }
}

async fn lists_page_with_a_cursor(app: TestApp) {
    for n in 1..=5 {
        create(&app, every_two_hours(&format!("schedule-{n}"))).await;
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut query = "limit=2".to_owned();
    loop {
        let page = app.list_schedules(&query).await.json(200);
        pages += 1;
        let items = names(&page);
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.into_iter().map(str::to_owned));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(cursor) => query = format!("limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 10, "the cursor never ends");
    }
    assert_eq!(pages, 3);
    // Newest first, each once.
    assert_eq!(
        seen,
        [
            "schedule-5",
            "schedule-4",
            "schedule-3",
            "schedule-2",
            "schedule-1"
        ]
    );

    // Seed 004's offset gives the same pages.
    let page = app.list_schedules("limit=2&offset=2").await.json(200);
    assert_eq!(names(&page), ["schedule-3", "schedule-2"]);
    let page = app.list_schedules("offset=9").await.json(200);
    assert_eq!(names(&page), Vec::<&str>::new());
}

async fn put_and_patch_change_only_what_is_given_and_keep_stats(app: TestApp) {
    let created = create(&app, seed_interval()).await;
    let id = created["id"].clone();
    app.run_schedule(&id).await.assert_status(202);
    app.work().await;
    let before = app.get_schedule(&id).await.json(200);
    assert_eq!(before["stats"]["total"], 1);
    assert_eq!(before["stats"]["succeeded"], 1);

    let patched = app
        .patch_schedule(
            &id,
            &json!({"description": "Customer import", "tags": ["crm"]}),
        )
        .await
        .json(200);
    assert_eq!(patched["description"], "Customer import");
    assert_eq!(patched["tags"], json!(["crm"]));
    for unchanged in [
        "name",
        "interval_seconds",
        "kind",
        "project_name",
        "callback_url",
        "next_run_at",
        "stats",
        "created_at",
    ] {
        assert_eq!(patched[unchanged], before[unchanged], "{unchanged}");
    }

    // PUT, as seed 004's clients send it: the fields given, the rest kept.
    let put = app
        .put_schedule(&id, &json!({"interval_seconds": 10800, "enabled": true}))
        .await
        .json(200);
    assert_eq!(put["interval_seconds"], 10800);
    assert_eq!(put["description"], "Customer import");
    assert_eq!(put["stats"], before["stats"]);
    assert_eq!(put["total_runs"], 1);
    // A new interval counts from now.
    assert_eq!(put["next_run_at"], "2025-03-07T15:00:00Z");

    // By name too; a rename onto a taken name is a conflict; invalid changes are named.
    create(&app, every_two_hours("taken")).await;
    app.patch_schedule("hourly-customer-import", &json!({"name": "taken"}))
        .await
        .assert_problem(409, "conflict");
    let answer = app
        .patch_schedule(&id, &json!({"interval_seconds": 60}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["interval_seconds"]);
    app.patch_schedule("no-such-schedule", &json!({"description": "x"}))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(app.get_schedule(&id).await.json(200), put);
}

async fn disabling_removes_the_next_run_and_enabling_brings_it_back(app: TestApp) {
    let created = create(&app, every_two_hours("toggled")).await;
    assert_eq!(created["next_run_at"], "2025-03-07T14:00:00Z");

    let disabled = app.disable("toggled").await.json(200);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["next_run_at"], Value::Null);
    assert_eq!(app.get_schedule("toggled").await.json(200), disabled);
    // A disabled schedule does not fire.
    assert!(
        app.advance_fire_and_work(SignedDuration::from_hours(3))
            .await
            .is_empty()
    );

    let enabled = app.enable("toggled").await.json(200);
    assert_eq!(enabled["enabled"], true);
    // From its next occurrence after now (15:00): the one missed while disabled is not replayed.
    assert_eq!(enabled["next_run_at"], "2025-03-07T16:00:00Z");
    app.enable("no-such-schedule")
        .await
        .assert_problem(404, "not-found");
    app.disable("no-such-schedule")
        .await
        .assert_problem(404, "not-found");
}

async fn a_deleted_schedule_is_gone(app: TestApp) {
    let created = create(&app, every_two_hours("doomed")).await;
    let answer = app.delete_schedule("doomed").await.assert_status(204);
    assert!(answer.text.is_empty(), "{answer}");
    app.get_schedule(&created["id"])
        .await
        .assert_problem(404, "not-found");
    app.delete_schedule("doomed")
        .await
        .assert_problem(404, "not-found");
}

async fn run_now_queues_a_manual_run_until_max_instances(app: TestApp) {
    let created = create(&app, seed_cron()).await;
    let run = app.run_schedule("daily-sales-import").await.json(202);
    assert_eq!(run["schedule_id"], created["id"]);
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["state"], "queued");
    assert_eq!(run["kind"], "noop");

    // max_instances is 1 and the first run is still queued.
    let answer = app
        .run_schedule("daily-sales-import")
        .await
        .assert_problem(409, "conflict");
    let runs = answer.body["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{answer}");
    assert_eq!(runs[0]["id"], run["id"]);
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("max_instances"),
        "{answer}"
    );

    // Once it ran, another may be queued.
    app.work().await;
    app.run_schedule("daily-sales-import")
        .await
        .assert_status(202);
    app.run_schedule("no-such-schedule")
        .await
        .assert_problem(404, "not-found");
}

async fn history_lists_a_schedules_runs_newest_first(app: TestApp) {
    let created = create(&app, every_two_hours("busy")).await;
    let first = app.run_schedule("busy").await.json(202);
    app.work().await;
    let second = app.run_schedule("busy").await.json(202);

    let history = app.history("busy", "").await.json(200);
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(items[0]["id"], second["id"]);
    assert_eq!(items[0]["state"], "queued");
    assert_eq!(items[1]["id"], first["id"]);
    assert_eq!(items[1]["state"], "succeeded");

    let page = app.history(&created["id"], "limit=1").await.json(200);
    assert_eq!(page["items"][0]["id"], second["id"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = app
        .history("busy", &format!("limit=1&cursor={cursor}"))
        .await
        .json(200);
    assert_eq!(page["items"][0]["id"], first["id"]);
    assert_eq!(page.get("next_cursor"), None);

    app.history("no-such-schedule", "")
        .await
        .assert_problem(404, "not-found");
    let answer = app
        .history("busy", "limit=0")
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["limit"]);
}

/// 02:30 in New York does not exist on 2025-03-09: the preview says so, and when it runs.
async fn preview_lists_fire_times_with_dst_notes(app: TestApp) {
    create(
        &app,
        json!({"name": "half-past-two", "cron": "30 2 * * *", "timezone": "America/New_York", "kind": "noop"}),
    )
    .await;
    let preview = app.preview("half-past-two", "count=3").await.json(200);
    assert_eq!(preview["name"], "half-past-two");
    assert_eq!(preview["enabled"], true);
    assert_eq!(preview["next_run_at"], "2025-03-08T07:30:00Z");
    let fires = preview["fires"].as_array().unwrap();
    assert_eq!(fires.len(), 3, "{preview}");
    assert_eq!(fires[0]["at"], "2025-03-08T07:30:00Z");
    assert_eq!(fires[0]["local"], "2025-03-08T02:30:00-05:00");
    assert_eq!(fires[0]["dst"], Value::Null);
    assert_eq!(fires[1]["at"], "2025-03-09T07:00:00Z");
    assert_eq!(fires[1]["local"], "2025-03-09T03:00:00-04:00");
    let note = fires[1]["dst"].as_str().unwrap();
    assert!(note.contains("does not exist on 2025-03-09"), "{note}");
    assert!(note.contains("03:00"), "{note}");
    assert_eq!(fires[2]["at"], "2025-03-10T06:30:00Z");

    let later = app
        .preview("half-past-two", "count=1&after=2025-03-09T12:00:00Z")
        .await
        .json(200);
    assert_eq!(later["fires"][0]["at"], "2025-03-10T06:30:00Z");
    // Ten by default.
    let default = app.preview("half-past-two", "").await.json(200);
    assert_eq!(default["fires"].as_array().unwrap().len(), 10);

    for (query, field) in [
        ("count=0", "count"),
        ("count=1001", "count"),
        ("after=yesterday", "after"),
    ] {
        let answer = app
            .preview("half-past-two", query)
            .await
            .assert_problem(422, "invalid-request");
        assert_eq!(answer.error_fields(), [field], "?{query}");
    }
    app.preview("no-such-schedule", "")
        .await
        .assert_problem(404, "not-found");
}

/// A schedule created over the API is fired by the scheduler and run by a worker, and its
/// history and statistics show it.
async fn a_schedule_created_over_the_api_fires(app: TestApp) {
    let created = create(&app, seed_interval()).await;
    let next_run_at = created["next_run_at"].as_str().unwrap().to_owned();
    assert_eq!(next_run_at, "2025-03-07T14:00:00Z");

    // Not yet due.
    assert!(
        app.advance_fire_and_work(SignedDuration::from_mins(119))
            .await
            .is_empty()
    );
    let ran = app
        .advance_fire_and_work(SignedDuration::from_mins(1))
        .await;
    assert_eq!(ran.len(), 1, "{ran:?}");

    let history = app.history("hourly-customer-import", "").await.json(200);
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    let run = &items[0];
    assert_eq!(run["trigger"], "schedule");
    assert_eq!(run["state"], "succeeded");
    assert_eq!(run["scheduled_for"], next_run_at.as_str());
    assert_eq!(run["schedule_id"], created["id"]);
    assert_eq!(run["attempt"], 1);
    assert_eq!(run["started_at"], next_run_at.as_str());
    assert_eq!(run["finished_at"], next_run_at.as_str());

    let schedule = app.get_schedule("hourly-customer-import").await.json(200);
    let stats = &schedule["stats"];
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["succeeded"], 1);
    assert_eq!(stats["failed"], 0);
    assert_eq!(stats["last_run_at"], next_run_at.as_str());
    assert_eq!(stats["last_state"], "succeeded");
    assert_eq!(stats["last_run_id"], run["id"]);
    assert_eq!(schedule["total_runs"], 1);
    assert_eq!(schedule["successful_runs"], 1);
    assert_eq!(schedule["last_run_at"], next_run_at.as_str());
    assert_eq!(schedule["next_run_at"], "2025-03-07T16:00:00Z");
}

both_backends!(
    create_in_tidings_shape,
    create_in_seed_004_shape,
    seed_004_examples_work_end_to_end,
    seed_bodies_as_written_sync_their_project,
    a_taken_name_is_a_conflict,
    invalid_values_are_each_named,
    an_unknown_field_is_named,
    schedules_more_frequent_than_min_interval_are_refused,
    bodies_that_are_not_json_are_refused,
    a_schedule_is_found_by_id_and_by_name,
    lists_filter_by_enabled_kind_source_tag_and_text,
    lists_page_with_a_cursor,
    put_and_patch_change_only_what_is_given_and_keep_stats,
    disabling_removes_the_next_run_and_enabling_brings_it_back,
    a_deleted_schedule_is_gone,
    run_now_queues_a_manual_run_until_max_instances,
    history_lists_a_schedules_runs_newest_first,
    preview_lists_fire_times_with_dst_notes,
    a_schedule_created_over_the_api_fires,
);
