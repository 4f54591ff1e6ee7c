//! The built-in job kinds, run as the engine runs them: through the registry, with a
//! `JobContext` over a real (SQLite) store, against real local HTTP servers; and webhook
//! deliveries end to end through the engine (`webhook`); CSV syncs into both backends (`sync`).

// Test support (the server, `run_job`) is outside `#[test]` functions, where clippy's
// allow-unwrap-in-tests does not reach: a failed setup is a failed test, and `unwrap` says so.
#![allow(clippy::unwrap_used)]

mod aggregate;
mod http;
mod noop;
mod params;
mod server;
mod sync;
mod sync_airtable;
mod webhook;

use std::sync::Arc;

use serde_json::Value;
use tidings_core::ManualClock;
use tidings_engine::{JobContext, JobError, JobRegistry};
use tidings_store::RunEnqueueParams;
use tidings_storetest::fixtures::{adhoc, claim_one, enqueue, t0};
use tidings_storetest::{TestBackend, TestStore};
use tokio_util::sync::CancellationToken;

/// The registry `tidings serve` starts with.
fn builtin() -> JobRegistry {
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry, tidings_jobs::WebhookSettings::default());
    registry
}

/// Runs a `kind` job with `params` from `registry` once, as a claimed run in a fresh store,
/// stopping when `cancel` fires.
async fn run_job(
    registry: &JobRegistry,
    kind: &str,
    params: Value,
    cancel: CancellationToken,
) -> Result<Value, JobError> {
    let job = registry.get(kind).expect("a registered kind");
    let test = TestStore::open(TestBackend::Sqlite).await;
    let queued = enqueue(
        &*test.store,
        RunEnqueueParams {
            params,
            ..adhoc(kind, t0())
        },
    )
    .await;
    let run = claim_one(&*test.store, "jobs-test", t0()).await;
    assert_eq!(run.id, queued.id);
    let ctx = JobContext::new(
        run,
        cancel,
        Arc::new(ManualClock::new(t0())),
        test.store.clone(),
    );
    let outcome = job.run(ctx).await;
    test.close().await;
    outcome
}

#[test]
fn register_builtin_adds_every_kind() {
    assert_eq!(builtin().kinds(), ["aggregate", "http", "noop", "webhook"]);
}
