//! `POST /api/cron/preview`: what an expression means and when it fires, DST included.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn an_expression_is_explained_with_its_fire_times(app: TestApp) {
    let answer = app
        .cron_preview(&json!({
            "expression": "30 2 * * *",
            "timezone": "America/New_York",
            "after": "2025-03-08T00:00:00Z",
            "count": 3
        }))
        .await
        .assert_status(200);
    assert_eq!(answer.content_type(), "application/json");
    let preview = &answer.body;
    assert_eq!(preview["expression"], "30 2 * * *");
    assert_eq!(preview["timezone"], "America/New_York");
    for text in ["explain", "days", "dst"] {
        assert!(
            !preview[text].as_str().unwrap().is_empty(),
            "{text}: {answer}"
        );
    }
    let fires = preview["fires"].as_array().unwrap();
    let at: Vec<&str> = fires.iter().map(|f| f["at"].as_str().unwrap()).collect();
    assert_eq!(
        at,
        [
            "2025-03-08T07:30:00Z",
            "2025-03-09T07:00:00Z",
            "2025-03-10T06:30:00Z"
        ]
    );
    assert_eq!(fires[1]["local"], "2025-03-09T03:00:00-04:00");
    let note = fires[1]["dst"].as_str().unwrap();
    assert!(note.contains("does not exist on 2025-03-09"), "{note}");
    assert_eq!(fires[0]["dst"], Value::Null);
}

async fn defaults_are_utc_ten_fires_after_now(app: TestApp) {
    let preview = app
        .cron_preview(&json!({"expression": "@daily"}))
        .await
        .json(200);
    assert_eq!(preview["timezone"], "UTC");
    let fires = preview["fires"].as_array().unwrap();
    assert_eq!(fires.len(), 10);
    // After the clock's now (2025-03-07T12:00:00Z).
    assert_eq!(fires[0]["at"], "2025-03-08T00:00:00Z");
    assert_eq!(fires[0]["local"], "2025-03-08T00:00:00+00:00");
}

async fn each_invalid_input_is_named(app: TestApp) {
    let answer = app
        .cron_preview(&json!({
            "expression": "61 * * *",
            "timezone": "Mars/Olympus_Mons",
            "after": "tomorrow",
            "count": 0
        }))
        .await
        .assert_problem(422, "invalid-request");
    let fields: BTreeSet<&str> = answer.error_fields().into_iter().collect();
    assert_eq!(
        fields,
        BTreeSet::from(["expression", "timezone", "after", "count"]),
        "{answer}"
    );
    for (body, field) in [
        (json!({"expression": "* * * * * * * *"}), "expression"),
        (
            json!({"expression": "@daily", "timezone": "Nowhere"}),
            "timezone",
        ),
        (
            json!({"expression": "@daily", "after": "2025-03-08"}),
            "after",
        ),
        (json!({"expression": "@daily", "count": 1001}), "count"),
        (json!({"expression": "@daily", "zone": "UTC"}), "zone"),
        (json!({"timezone": "UTC"}), "expression"),
    ] {
        let answer = app
            .cron_preview(&body)
            .await
            .assert_problem(422, "invalid-request");
        assert_eq!(answer.error_fields(), [field], "{body}");
    }
}

both_backends!(
    an_expression_is_explained_with_its_fire_times,
    defaults_are_utc_ten_fires_after_now,
    each_invalid_input_is_named,
);
