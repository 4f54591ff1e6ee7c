use std::time::{Duration, Instant};

use serde_json::json;
use tidings_engine::JobError;
use tokio_util::sync::CancellationToken;

use crate::{builtin, run_job};

#[tokio::test]
async fn returns_an_empty_summary_at_once() {
    let summary = run_job(&builtin(), "noop", json!({}), CancellationToken::new()).await;
    assert_eq!(summary, Ok(json!({})));
}

#[tokio::test]
async fn sleeps_as_long_as_asked() {
    let started = Instant::now();
    let summary = run_job(
        &builtin(),
        "noop",
        json!({ "sleep_ms": 30 }),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(summary, Ok(json!({ "slept_ms": 30 })));
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[tokio::test]
async fn a_cancelled_run_stops_sleeping() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let outcome = run_job(&builtin(), "noop", json!({ "sleep_ms": 3_600_000 }), cancel).await;
    assert_eq!(
        outcome,
        Err(JobError::Cancel(
            "cancelled during a 3600000 ms sleep".to_owned()
        ))
    );
}
