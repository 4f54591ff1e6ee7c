//! For operators: `/api/status`, `/readyz`, `/healthz`, `/metrics`; and what every answer
//! carries: a request id, gzip when asked for.

use jiff::Timestamp;
use serde_json::json;
use tidings_api::SchedulerState;

use crate::helpers::{START, TestApp, TestBackend};

async fn status_says_what_the_instance_is_doing(app: TestApp) {
    app.create_schedule(&json!({"name": "later", "interval": "3h", "kind": "noop"}))
        .await
        .assert_status(201);
    app.create_schedule(&json!({"name": "sooner", "interval": "2h", "kind": "noop"}))
        .await
        .assert_status(201);
    app.create_schedule(
        &json!({"name": "off", "interval": "1h", "kind": "noop", "enabled": false}),
    )
    .await
    .assert_status(201);
    app.create_run(&json!({"kind": "noop"}))
        .await
        .assert_status(202);

    let answer = app
        .with_key(tidings_store::ApiKeyRole::Read)
        .status()
        .await
        .assert_status(200);
    let status = &answer.body;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["instance"], "api-test");
    assert_eq!(status["started_at"], START);
    let store = match app.backend {
        TestBackend::Sqlite => "sqlite",
        TestBackend::Postgres => "postgres",
    };
    assert_eq!(status["store"], store);
    assert_eq!(status["database"], format!("{:?} (test)", app.backend));
    assert_eq!(status["scheduler"], json!({"state": "starting"}));
    assert_eq!(status["schedules"]["total"], 3);
    assert_eq!(status["schedules"]["enabled"], 2);
    let upcoming: Vec<&str> = status["schedules"]["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(upcoming, ["sooner", "later"]);
    assert_eq!(
        status["schedules"]["upcoming"][0]["next_run_at"],
        "2025-03-07T14:00:00Z"
    );
    assert_eq!(status["queue_depth"], 1);
    assert_eq!(status["running"], json!([]));
    assert_eq!(status["instances"], json!([]), "the engine was not started");

    // Another instance registered, and this one: both listed, this one marked.
    let since: Timestamp = START.parse().unwrap();
    let store = app.engine.store();
    store
        .instance_register(tidings_store::Instance {
            id: "elsewhere-1".to_owned(),
            host: "other-host".to_owned(),
            pid: 7,
            version: "0.1.0".to_owned(),
            started_at: since - jiff::SignedDuration::from_hours(1),
            last_seen_at: since,
        })
        .await
        .unwrap();
    store
        .instance_register(app.engine.instance())
        .await
        .unwrap();
    let status = app.status().await.json(200);
    let instances: Vec<(&str, bool)> = status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["this"].as_bool().unwrap()))
        .collect();
    assert_eq!(instances, [("elsewhere-1", false), ("api-test", true)]);
    assert_eq!(status["instances"][0]["host"], "other-host");

    app.state.set_scheduler(SchedulerState::Running { since });
    let status = app.status().await.json(200);
    assert_eq!(
        status["scheduler"],
        json!({"state": "running", "since": START})
    );
}

async fn readyz_waits_for_the_scheduler(app: TestApp) {
    let answer = app.without_key().readyz().await.assert_status(503);
    assert_eq!(
        answer.body,
        json!({"status": "unavailable", "store": "ok", "scheduler": "starting"})
    );

    app.state
        .set_scheduler(SchedulerState::Running { since: app.now() });
    let answer = app.without_key().readyz().await.assert_status(200);
    assert_eq!(
        answer.body,
        json!({"status": "ready", "store": "ok", "scheduler": "ok"})
    );

    app.state.set_scheduler(SchedulerState::Failed {
        reason: "the declared schedules are invalid".to_owned(),
    });
    let answer = app.without_key().readyz().await.assert_status(503);
    assert_eq!(
        answer.body["scheduler"],
        "failed to start: the declared schedules are invalid"
    );
    app.state.set_scheduler(SchedulerState::Stopping);
    let answer = app.without_key().readyz().await.assert_status(503);
    assert_eq!(answer.body["scheduler"], "stopping");
}

async fn healthz_answers_without_a_key(app: TestApp) {
    let answer = app.without_key().healthz().await.assert_status(200);
    assert_eq!(answer.content_type(), "application/json");
    assert_eq!(answer.body, json!({"status": "ok"}));
}

async fn metrics_count_requests_by_route(app: TestApp) {
    app.list_schedules("").await.assert_status(200);
    app.get_schedule("absent").await.assert_status(404);
    let answer = app.without_key().metrics().await.assert_status(200);
    assert_eq!(answer.content_type(), "text/plain; version=0.0.4");
    let text = &answer.text;
    let counted = |route: &str, status: &str| {
        text.lines().any(|line| {
            line.starts_with("tidings_http_requests_total{")
                && line.contains("method=\"GET\"")
                && line.contains(&format!("route=\"{route}\""))
                && line.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(counted("/api/schedules", "200"), "{text}");
    assert!(counted("/api/schedules/{id}", "404"), "{text}");
    assert!(
        text.contains("tidings_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

async fn every_answer_carries_a_request_id(app: TestApp) {
    let first = app.list_schedules("").await.assert_status(200);
    let second = app.list_schedules("").await.assert_status(200);
    let (a, b) = (
        first.header("x-request-id").unwrap(),
        second.header("x-request-id").unwrap(),
    );
    assert_eq!(a.len(), 36, "a UUID: {a}");
    assert_ne!(a, b);

    let traced = app.with_header("x-request-id", "support-ticket-4711");
    let answer = traced.list_schedules("").await.assert_status(200);
    assert_eq!(answer.header("x-request-id"), Some("support-ticket-4711"));
    // Refusals too.
    let answer = traced
        .without_key()
        .list_schedules("")
        .await
        .assert_status(401);
    assert_eq!(answer.header("x-request-id"), Some("support-ticket-4711"));
    let answer = app.without_key().healthz().await;
    assert!(answer.header("x-request-id").is_some(), "{answer}");
}

async fn big_answers_are_gzipped_when_asked(app: TestApp) {
    for n in 0..30 {
        app.create_schedule(&json!({
            "name": format!("feedback-source-{n:02}"),
            "description": "Pulls new responses and files them",
            "interval": "2h",
            "kind": "noop",
            "tags": ["feedback", "sync"]
        }))
        .await
        .assert_status(201);
    }
    let plain = app.list_schedules("").await.assert_status(200);
    assert_eq!(plain.header("content-encoding"), None);

    let gzipped = app
        .with_header("accept-encoding", "gzip")
        .list_schedules("")
        .await
        .assert_status(200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    // Decoded, it is the same page.
    assert_eq!(gzipped.body, plain.body);
    assert_eq!(gzipped.body["items"].as_array().unwrap().len(), 30);
}

both_backends!(
    status_says_what_the_instance_is_doing,
    readyz_waits_for_the_scheduler,
    healthz_answers_without_a_key,
    metrics_count_requests_by_route,
    every_answer_carries_a_request_id,
    big_answers_are_gzipped_when_asked,
);
