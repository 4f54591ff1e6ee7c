//! `/api/stats` and `/api/stats/groups`: served from the snapshot the `aggregate` job wrote
//! (run here through `POST /api/runs` and the engine), 503 with `Retry-After` before the first
//! snapshot, 404 naming the groups that exist, the metadata, the `stale` flag, a new snapshot
//! replacing the one in memory, and the hit and miss counters.

use jiff::SignedDuration;
use serde_json::{Value, json};
use tidings_store::{FeedbackRecord, FeedbackUpsertParams};

use crate::helpers::TestApp;

fn record(id: &str, minutes_ago: i64, group: &str, channel: &str, rating: f64) -> FeedbackRecord {
    FeedbackRecord {
        external_id: id.to_owned(),
        created_at: None,
        updated_at: None,
        customer_name: None,
        customer_email: None,
        channel: Some(channel.to_owned()),
        group: Some(group.to_owned()),
        rating: Some(rating),
        sentiment_label: Some("positive".to_owned()),
        sentiment_score: Some(0.5),
        sentiment_origin: None,
        title: None,
        body: None,
        tags: vec!["staff".to_owned()],
        status: None,
        value: None,
        raw: json!({}).into(),
    }
    .created(minutes_ago)
}

trait Created {
    fn created(self, minutes_ago: i64) -> Self;
}

impl Created for FeedbackRecord {
    fn created(mut self, minutes_ago: i64) -> Self {
        let now: jiff::Timestamp = crate::helpers::START.parse().unwrap();
        self.created_at = Some(now - SignedDuration::from_mins(minutes_ago));
        self
    }
}

async fn insert(app: &TestApp, records: Vec<FeedbackRecord>) {
    app.store
        .feedback_upsert(FeedbackUpsertParams {
            source: "customer_project".to_owned(),
            records,
            now: app.now(),
        })
        .await
        .unwrap();
}

/// Queues an `aggregate` run over the API and runs it; returns the run's id.
async fn aggregate(app: &TestApp) -> i64 {
    let run = app
        .create_run(&json!({"kind": "aggregate"}))
        .await
        .json(202);
    let worked = app.work().await;
    assert_eq!(worked.len(), 1);
    assert_eq!(worked[0].state.as_str(), "succeeded", "{worked:?}");
    run["id"].as_i64().unwrap()
}

fn group<'a>(answer: &'a Value, key: &str) -> &'a Value {
    answer["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == key)
        .map_or_else(|| panic!("no group {key} in {answer:#}"), |g| &g["stats"])
}

async fn before_the_first_snapshot_stats_are_503_with_retry_after(app: TestApp) {
    for answer in [app.stats("period=24h").await, app.stats_groups("").await] {
        let answer = answer.assert_problem(503, "stats-not-ready");
        assert_eq!(answer.header("retry-after"), Some("30"));
        assert!(
            answer.body["detail"]
                .as_str()
                .unwrap()
                .contains("being computed")
        );
    }
}

async fn stats_are_served_from_the_snapshot_with_its_metadata(app: TestApp) {
    insert(
        &app,
        vec![
            record("a1", 10, "Lisbon", "email", 5.0),
            record("a2", 120, "Lisbon", "chat", 3.0),
            record("b1", 30, "Porto", "email", 1.0),
            record("old", 60 * 24 * 3, "Porto", "email", 4.0),
        ],
    )
    .await;
    let run_id = aggregate(&app).await;

    let all = app.stats("period=24h").await.json(200);
    assert_eq!(all["grouping"], "group");
    assert_eq!(all["period"], "24h");
    assert_eq!(all["all"]["count"], 3);
    assert_eq!(all["all"]["rating"]["average"], 3.0);
    assert_eq!(all["all"]["rating"]["histogram"], json!([1, 0, 1, 0, 1]));
    assert_eq!(
        all["all"]["top_tags"],
        json!([{"tag": "staff", "count": 3}])
    );
    assert_eq!(group(&all, "Lisbon")["count"], 2);
    assert_eq!(group(&all, "Porto")["count"], 1);
    assert_eq!(all["all"]["response_rate"], Value::Null);
    let snapshot = &all["snapshot"];
    assert_eq!(snapshot["run_id"], run_id);
    assert_eq!(snapshot["rows_scanned"], 4);
    assert_eq!(snapshot["without_created_at"], 0);
    assert_eq!(snapshot["groups"], 2 + 1 + 2);
    assert_eq!(snapshot["errors"], json!([]));
    assert_eq!(snapshot["zone"], "UTC");
    assert_eq!(snapshot["as_of"], crate::helpers::START);
    assert_eq!(snapshot["stale"], false);
    assert_eq!(snapshot["age_seconds"], 0);
    assert_eq!(snapshot["refresh_interval_seconds"], 900);
    let hits = snapshot["cache"]["hits"].as_u64().unwrap();
    assert!(hits >= 1);

    let porto = app
        .stats("grouping=group&group=Porto&period=7d")
        .await
        .json(200);
    assert_eq!(porto["group"], "Porto");
    assert_eq!(porto["stats"]["count"], 2);
    assert_eq!(porto["stats"]["rating"]["average"], 2.5);
    assert!(porto.get("groups").is_none() && porto.get("all").is_none());
    assert_eq!(porto["snapshot"]["cache"]["hits"], hits + 1);

    let email = app
        .stats("grouping=channel&group=email&period=1h")
        .await
        .json(200);
    assert_eq!(email["stats"]["count"], 2);
    assert_eq!(email["stats"]["previous_count"], 0);
    assert_eq!(email["stats"]["change"], 2);

    let groups = app.stats_groups("grouping=channel").await.json(200);
    assert_eq!(groups["grouping"], "channel");
    assert_eq!(groups["groups"], json!(["chat", "email"]));
    let groups = app.stats_groups("").await.json(200);
    assert_eq!(groups["groups"], json!(["Lisbon", "Porto"]));
    let sources = app.stats_groups("grouping=source").await.json(200);
    assert_eq!(sources["groups"], json!(["customer_project"]));
}

async fn a_group_not_in_the_snapshot_is_404_naming_those_that_are(app: TestApp) {
    insert(&app, vec![record("a1", 10, "Lisbon", "email", 5.0)]).await;
    aggregate(&app).await;
    let before = app.stats("").await.json(200)["snapshot"]["cache"]["misses"]
        .as_u64()
        .unwrap();
    let miss = app
        .stats("group=Faro&period=today")
        .await
        .assert_problem(404, "stats-not-found");
    assert!(
        miss.body["detail"].as_str().unwrap().contains("`Faro`"),
        "{miss}"
    );
    assert_eq!(miss.body["groups"], json!(["Lisbon"]));
    let after = app.stats("").await.json(200)["snapshot"]["cache"]["misses"]
        .as_u64()
        .unwrap();
    assert!(after > before, "the miss is counted: {before} → {after}");

    let invalid = app
        .stats("period=2h")
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(invalid.error_fields(), ["period"]);
    let invalid = app
        .stats_groups("grouping=venue")
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(invalid.error_fields(), ["grouping"]);

    let metrics = app.metrics().await.assert_status(200);
    assert!(
        metrics
            .text
            .contains("tidings_stats_requests_total{result=\"hit\"}"),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("tidings_stats_requests_total{result=\"miss\"}")
    );
}

async fn a_snapshot_older_than_two_refresh_intervals_is_stale(app: TestApp) {
    insert(&app, vec![record("a1", 10, "Lisbon", "email", 5.0)]).await;
    aggregate(&app).await;
    app.advance(SignedDuration::from_mins(30));
    let answer = app.stats("").await.json(200);
    assert_eq!(
        answer["snapshot"]["stale"], false,
        "exactly two intervals old"
    );
    assert_eq!(answer["snapshot"]["age_seconds"], 1800);
    app.advance(SignedDuration::from_secs(1));
    assert_eq!(app.stats("").await.json(200)["snapshot"]["stale"], true);
    app.state
        .set_stats_refresh_interval(std::time::Duration::from_secs(3600));
    let answer = app.stats("").await.json(200);
    assert_eq!(answer["snapshot"]["stale"], false);
    assert_eq!(answer["snapshot"]["refresh_interval_seconds"], 3600);
}

async fn a_new_snapshot_replaces_the_one_served(app: TestApp) {
    insert(&app, vec![record("a1", 10, "Lisbon", "email", 5.0)]).await;
    aggregate(&app).await;
    let first = app.stats("period=30d").await.json(200);
    assert_eq!(first["all"]["count"], 1);

    insert(&app, vec![record("a2", 20, "Faro", "email", 2.0)]).await;
    // Still the snapshot in memory until the next refresh.
    assert_eq!(app.stats("period=30d").await.json(200)["all"]["count"], 1);
    app.advance(SignedDuration::from_secs(2));
    aggregate(&app).await;
    let second = app.stats("period=30d").await.json(200);
    assert_ne!(second["snapshot"]["id"], first["snapshot"]["id"]);
    assert_eq!(second["all"]["count"], 2);
    assert_eq!(group(&second, "Faro")["count"], 1);
    assert_eq!(app.stats("group=Faro").await.json(200)["stats"]["count"], 1);
}

both_backends!(
    before_the_first_snapshot_stats_are_503_with_retry_after,
    stats_are_served_from_the_snapshot_with_its_metadata,
    a_group_not_in_the_snapshot_is_404_naming_those_that_are,
    a_snapshot_older_than_two_refresh_intervals_is_stale,
    a_new_snapshot_replaces_the_one_served,
);
