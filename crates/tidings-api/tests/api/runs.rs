//! `/api/runs`: list with filters, read with attempts, cancel, and ad-hoc runs of any kind.

use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn id(run: &Value) -> i64 {
    run["id"].as_i64().unwrap()
}

/// Runs of every trigger and several states, made at different times:
/// - 12:00 `manual` noop of `imports`, succeeded;
/// - 14:00 `schedule` noop of `imports`, succeeded;
/// - 14:00 `api` http run calling a route that does not exist, failed;
/// - 14:00 `api` noop run, queued.
struct Made {
    manual: i64,
    scheduled: i64,
    failed: i64,
    queued: i64,
}

async fn make_runs(app: &TestApp) -> Made {
    app.create_schedule(&json!({"name": "imports", "interval": "2h", "kind": "noop"}))
        .await
        .assert_status(201);
    let manual = id(&app.run_schedule("imports").await.json(202));
    app.work().await;
    let ran = app
        .advance_fire_and_work(SignedDuration::from_hours(2))
        .await;
    assert_eq!(ran.len(), 1);
    let scheduled = ran[0].id.0;
    let failed = id(&app
        .create_run(&json!({
            "kind": "http",
            "params": {"url": format!("{}/api/nowhere", app.address)},
            "max_attempts": 1
        }))
        .await
        .json(202));
    let worked = app.work().await;
    assert_eq!(worked.len(), 1);
    assert_eq!(worked[0].state.as_str(), "failed", "{worked:?}");
    let queued = id(&app.create_run(&json!({"kind": "noop"})).await.json(202));
    Made {
        manual,
        scheduled,
        failed,
        queued,
    }
}

async fn runs_are_listed_newest_first_with_filters(app: TestApp) {
    let made = make_runs(&app).await;
    let all = vec![made.queued, made.failed, made.scheduled, made.manual];
    for (query, expected) in [
        ("", all.clone()),
        ("schedule=imports", vec![made.scheduled, made.manual]),
        ("kind=http", vec![made.failed]),
        ("kind=noop", vec![made.queued, made.scheduled, made.manual]),
        ("state=succeeded", vec![made.scheduled, made.manual]),
        ("state=failed,queued", vec![made.queued, made.failed]),
        ("state=failed, timed_out", vec![made.failed]),
        ("trigger=manual", vec![made.manual]),
        ("trigger=schedule", vec![made.scheduled]),
        ("trigger=api", vec![made.queued, made.failed]),
        (
            "from=2025-03-07T13:00:00Z",
            vec![made.queued, made.failed, made.scheduled],
        ),
        ("to=2025-03-07T13:00:00Z", vec![made.manual]),
        (
            "from=2025-03-07T12:00:00Z&to=2025-03-07T14:00:00Z",
            vec![made.manual],
        ),
        ("kind=noop&trigger=api", vec![made.queued]),
    ] {
        let query = query.replace(' ', "%20");
        let page = app.list_runs(&query).await.json(200);
        assert_eq!(ids(&page), expected, "?{query}");
    }
    // By the schedule's id as well as its name.
    let schedule = app.get_schedule("imports").await.json(200);
    let page = app
        .list_runs(&format!("schedule={}", schedule["id"]))
        .await
        .json(200);
    assert_eq!(ids(&page), [made.scheduled, made.manual]);

    // Pages.
    let first = app.list_runs("limit=3").await.json(200);
    assert_eq!(ids(&first), all[..3]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .list_runs(&format!("limit=3&cursor={cursor}"))
        .await
        .json(200);
    assert_eq!(ids(&rest), all[3..]);
    assert_eq!(rest.get("next_cursor"), None);

    let run = &app.list_runs("kind=http").await.json(200)["items"][0];
    assert_eq!(run["state"], "failed");
    assert_eq!(run["trigger"], "api");
    assert_eq!(run["max_attempts"], 1);
    assert!(run["error"].as_str().unwrap().contains("404"), "{run}");
}

async fn invalid_run_filters_are_named(app: TestApp) {
    for (query, fields) in [
        ("state=lost", vec!["state"]),
        ("state=queued,lost", vec!["state"]),
        ("trigger=cron", vec!["trigger"]),
        ("from=yesterday", vec!["from"]),
        ("to=2025-03-07", vec!["to"]),
        ("limit=0", vec!["limit"]),
        ("colour=blue", vec!["colour"]),
        (
            "state=lost&trigger=cron&from=soon&limit=5000",
            vec!["state", "trigger", "from", "limit"],
        ),
    ] {
        let answer = app
            .list_runs(query)
            .await
            .assert_problem(422, "invalid-request");
        assert_eq!(answer.error_fields(), fields, "?{query}");
    }
    app.list_runs("schedule=no-such-schedule")
        .await
        .assert_problem(404, "not-found");
}

async fn a_run_is_read_with_its_attempts(app: TestApp) {
    let made = make_runs(&app).await;
    let run = app.get_run(made.manual).await.json(200);
    assert_eq!(run["id"], made.manual);
    assert_eq!(run["state"], "succeeded");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["started_at"], "2025-03-07T12:00:00Z");
    assert_eq!(run["duration_seconds"], 0.0);
    assert_eq!(run["summary"], json!({}));
    let attempts = run["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{run}");
    assert_eq!(attempts[0]["number"], 1);
    assert_eq!(attempts[0]["instance"], "api-test");
    assert_eq!(attempts[0]["outcome"], "succeeded");
    assert_eq!(run["deliveries"], json!([]));

    let failed = app.get_run(made.failed).await.json(200);
    assert_eq!(failed["attempts"][0]["outcome"], "failed");
    assert!(
        failed["attempts"][0]["error"].as_str().is_some(),
        "{failed}"
    );

    let queued = app.get_run(made.queued).await.json(200);
    assert_eq!(queued["attempts"], json!([]));
    assert_eq!(queued["started_at"], Value::Null);

    app.get_run(999_999).await.assert_problem(404, "not-found");
    app.get_run("latest").await.assert_problem(404, "not-found");
}

async fn cancelling_a_queued_run_cancels_it_and_a_finished_one_is_a_conflict(app: TestApp) {
    let queued = id(&app.create_run(&json!({"kind": "noop"})).await.json(202));
    let cancelled = app
        .cancel_run(queued, Some(&json!({"reason": "not needed after all"})))
        .await
        .json(202);
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["error"], "not needed after all");
    // It is not run.
    assert!(app.work().await.is_empty());
    assert_eq!(app.get_run(queued).await.json(200)["state"], "cancelled");

    // Without a body, the default reason.
    let other = id(&app.create_run(&json!({"kind": "noop"})).await.json(202));
    let cancelled = app.cancel_run(other, None).await.json(202);
    assert_eq!(cancelled["error"], "cancelled over the API");

    let answer = app
        .cancel_run(queued, None)
        .await
        .assert_problem(409, "conflict");
    assert!(!answer.body["detail"].as_str().unwrap().is_empty());
    let done = id(&app.create_run(&json!({"kind": "noop"})).await.json(202));
    app.work().await;
    app.cancel_run(done, None)
        .await
        .assert_problem(409, "conflict");
    app.cancel_run(999_999, None)
        .await
        .assert_problem(404, "not-found");
}

async fn an_ad_hoc_run_is_queued_then_runs(app: TestApp) {
    let answer = app
        .create_run(&json!({"kind": "noop", "params": {"sleep_ms": 0}}))
        .await
        .assert_status(202);
    assert_eq!(answer.content_type(), "application/json");
    let run = answer.body;
    assert_eq!(run["kind"], "noop");
    assert_eq!(run["trigger"], "api");
    assert_eq!(run["state"], "queued");
    assert_eq!(run["schedule_id"], Value::Null);
    assert_eq!(run["params"], json!({"sleep_ms": 0}));
    assert_eq!(run["run_after"], "2025-03-07T12:00:00Z");

    let ran = app.work().await;
    assert_eq!(ran.len(), 1);
    let done = app.get_run(&run["id"]).await.json(200);
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["attempt"], 1);

    // Retry settings as given.
    let retried = app
        .create_run(&json!({"kind": "noop", "max_attempts": 4, "backoff": "1m", "timeout": 30}))
        .await
        .json(202);
    assert_eq!(retried["max_attempts"], 4);
}

async fn an_ad_hoc_run_of_an_unknown_kind_or_with_invalid_params_is_refused(app: TestApp) {
    let answer = app
        .create_run(&json!({"kind": "teleport"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["kind"]);
    assert!(
        answer.error_message("kind").contains("teleport"),
        "{answer}"
    );

    let answer = app
        .create_run(&json!({"kind": "noop", "params": {"sleep_ms": "a while"}}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["params.sleep_ms"]);

    let answer = app
        .create_run(&json!({"kind": "http", "params": {"url": "not a url"}}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["params.url"]);

    let answer = app
        .create_run(&json!({"kind": "noop", "max_attempts": 0, "backoff": "soon", "timeout": "-"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(
        answer.error_fields(),
        ["max_attempts", "backoff", "timeout"]
    );

    let answer = app
        .create_run(&json!({"params": {}}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["kind"]);

    // Nothing was queued.
    assert_eq!(ids(&app.list_runs("").await.json(200)), Vec::<i64>::new());
}

async fn a_batch_of_runs_is_queued_in_order_then_runs(app: TestApp) {
    let runs: Vec<Value> = (0..250)
        .map(|i| match i % 3 {
            0 => json!({"kind": "noop", "params": {"sleep_ms": 0}}),
            1 => json!({"kind": "noop", "max_attempts": 5, "backoff": "2m", "timeout": 20}),
            _ => json!({"kind": "noop"}),
        })
        .collect();
    let answer = app.create_runs(&json!({ "runs": runs })).await.json(202);
    assert_eq!(answer["count"], 250);
    let queued = answer["runs"].as_array().unwrap();
    assert_eq!(queued.len(), 250);
    for (i, run) in queued.iter().enumerate() {
        assert_eq!(run["kind"], "noop");
        assert_eq!(run["trigger"], "api");
        assert_eq!(run["state"], "queued");
        assert_eq!(run["schedule_id"], Value::Null);
        assert_eq!(run["run_after"], "2025-03-07T12:00:00Z");
        match i % 3 {
            0 => assert_eq!(run["params"], json!({"sleep_ms": 0})),
            1 => assert_eq!(run["max_attempts"], 5),
            _ => assert_eq!(run["params"], json!({})),
        }
    }
    let ids: Vec<i64> = queued.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "in the order given"
    );
    // Each is a run like any other.
    assert_eq!(
        app.get_run(&queued[7]["id"]).await.json(200)["state"],
        "queued"
    );

    let mut ran = 0;
    while ran < 250 {
        let worked = app.work().await.len();
        assert!(worked > 0, "the queued runs are claimable");
        ran += worked;
    }
    assert_eq!(ran, 250);
    let last = app.get_run(&queued[249]["id"]).await.json(200);
    assert_eq!(last["state"], "succeeded");
}

async fn a_batch_with_a_bad_run_queues_nothing_and_names_every_problem(app: TestApp) {
    let answer = app
        .create_runs(&json!({ "runs": [
            {"kind": "noop"},
            {"kind": "teleport"},
            {"kind": "noop", "max_attempts": 0},
            {"kind": "http", "params": {"url": "not a url"}},
            {"kind": "noop", "backoff": "soon"},
        ]}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(
        answer.error_fields(),
        [
            "runs[1].kind",
            "runs[2].max_attempts",
            "runs[3].params.url",
            "runs[4].backoff"
        ]
    );
    assert!(
        answer.error_message("runs[1].kind").contains("teleport"),
        "{answer}"
    );

    let answer = app
        .create_runs(&json!({ "runs": [] }))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["runs"]);
    let too_many: Vec<Value> = (0..1_001).map(|_| json!({"kind": "x"})).collect();
    let answer = app
        .create_runs(&json!({ "runs": too_many }))
        .await
        .assert_problem(422, "invalid-request");
    assert!(
        answer.error_message("runs").contains("1001 runs given"),
        "{answer}"
    );
    app.create_runs(&json!({"run": [{"kind": "noop"}]}))
        .await
        .assert_problem(422, "invalid-request");

    // Nothing was queued.
    assert_eq!(ids(&app.list_runs("").await.json(200)), Vec::<i64>::new());
}

both_backends!(
    a_batch_of_runs_is_queued_in_order_then_runs,
    a_batch_with_a_bad_run_queues_nothing_and_names_every_problem,
    runs_are_listed_newest_first_with_filters,
    invalid_run_filters_are_named,
    a_run_is_read_with_its_attempts,
    cancelling_a_queued_run_cancels_it_and_a_finished_one_is_a_conflict,
    an_ad_hoc_run_is_queued_then_runs,
    an_ad_hoc_run_of_an_unknown_kind_or_with_invalid_params_is_refused,
);
