//! `sync` of CSV sources: real files in a temporary folder, imported into a real store on both
//! backends, one run after another as a schedule would make them, the clock moved between them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::SignedDuration;
use serde_json::{Value, json};
use tidings_core::{Clock, ManualClock};
use tidings_engine::{Job, JobContext, JobError};
use tidings_jobs::{SourceDef, SyncJob};
use tidings_sources::CsvSource;
use tidings_store::{
    FEEDBACK_PAGE_MAX, FeedbackListParams, RunEnqueueParams, RunId, SentimentOrigin, Store,
};
use tidings_storetest::fixtures::{adhoc, claim_one, complete, enqueue, run, succeeded, t0, ts};
use tidings_storetest::{TestBackend, TestStore};
use tokio_util::sync::CancellationToken;

const HEADER: &str = "ID,Created,Last Modified,Name,Rating,Feedback\n";

/// A store, a folder of CSV files configured as the source `fb`, and the `sync` job over it.
struct Setup {
    test: TestStore,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
    job: SyncJob,
}

impl Setup {
    async fn new(backend: TestBackend) -> Setup {
        let dir = tempfile::Builder::new()
            .prefix("tidings-sync-")
            .tempdir()
            .unwrap();
        let sources =
            BTreeMap::from([("fb".to_owned(), SourceDef::Csv(CsvSource::new(dir.path())))]);
        Setup {
            test: TestStore::open(backend).await,
            clock: Arc::new(ManualClock::new(t0())),
            dir,
            job: SyncJob::new(sources),
        }
    }

    fn store(&self) -> &dyn Store {
        &*self.test.store
    }

    fn write(&self, name: &str, rows: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("{HEADER}{rows}")).unwrap();
        path
    }

    /// Runs `sync` with `params` as a claimed run at the clock's time; returns the run's id too.
    async fn run(&self, params: Value) -> (RunId, Result<Value, JobError>) {
        self.run_until(params, CancellationToken::new()).await
    }

    /// As [`Setup::run`], stopping when `cancel` fires. The run is then completed (as
    /// succeeded: only its being over matters here) so that a later claim cannot pick it up.
    async fn run_until(
        &self,
        params: Value,
        cancel: CancellationToken,
    ) -> (RunId, Result<Value, JobError>) {
        let now = self.clock.now();
        let queued = enqueue(
            self.store(),
            RunEnqueueParams {
                params,
                now,
                ..adhoc("sync", now)
            },
        )
        .await;
        let run = claim_one(self.store(), "sync-test", now).await;
        assert_eq!(run.id, queued.id);
        let ctx = JobContext::new(
            run.clone(),
            cancel,
            self.clock.clone(),
            self.test.store.clone(),
        );
        let outcome = Job::run(&self.job, ctx).await;
        complete(self.store(), &run, now, succeeded()).await;
        (run.id, outcome)
    }

    async fn sync(&self, mode: &str) -> (RunId, Value) {
        let (id, outcome) = self.run(json!({ "source": "fb", "mode": mode })).await;
        (id, outcome.unwrap())
    }

    async fn count(&self) -> u64 {
        self.store().feedback_count(Some("fb")).await.unwrap()
    }

    /// The label, score and origin of the sentiment stored for `external_id`.
    async fn sentiment(&self, external_id: &str) -> (String, f64, SentimentOrigin) {
        let page = (self.store())
            .feedback_list(FeedbackListParams {
                source: Some("fb".to_owned()),
                limit: FEEDBACK_PAGE_MAX,
                ..FeedbackListParams::default()
            })
            .await
            .unwrap();
        let record = page
            .items
            .into_iter()
            .find(|f| f.record.external_id == external_id)
            .unwrap()
            .record;
        (
            record.sentiment_label.unwrap(),
            record.sentiment_score.unwrap(),
            record.sentiment_origin.unwrap(),
        )
    }

    fn later(&self) {
        self.clock.advance(SignedDuration::from_mins(5));
    }
}

/// The counts of a summary that say what was written, in a form that is easy to compare.
fn written(summary: &Value) -> [u64; 4] {
    ["inserted", "updated", "unchanged", "deleted"].map(|key| summary[key].as_u64().unwrap())
}

async fn incremental_then_full(backend: TestBackend) {
    let setup = Setup::new(backend).await;
    setup.write(
        "a.csv",
        "a1,2025-05-01T10:00:00Z,2025-05-02T10:00:00Z,Ann,5,Lovely\n\
         a2,2025-05-03T10:00:00Z,,Bob,3,Fine\n",
    );
    let b = setup.write(
        "b.csv",
        "b1,2025-05-04T10:00:00Z,2025-05-20T08:30:00Z,Cy,1,Broken again. Really bad\n\
         b2,2025-05-05T10:00:00Z,,Di,4,Good\n\
         b3,2025-05-06T10:00:00Z,,Ed,2,Meh\n",
    );

    // The first incremental sync imports both files.
    let (first_run, summary) = setup.sync("incremental").await;
    assert_eq!(summary["source"], "fb");
    assert_eq!(summary["mode"], "incremental");
    assert_eq!(summary["files"], 2);
    assert_eq!(summary["files_skipped"], 0);
    assert_eq!(summary["rows"], 5);
    assert_eq!(summary["bad_rows"], 0);
    assert_eq!(summary["bad_row_samples"], json!([]));
    assert_eq!(written(&summary), [5, 0, 0, 0]);
    assert_eq!(setup.count().await, 5);
    assert_eq!(
        run(setup.store(), first_run).await.progress,
        Some(json!({ "files_done": 2, "files": 2, "rows": 5 }))
    );
    let state = setup.store().source_state_get("fb").await.unwrap().unwrap();
    assert_eq!(state.last_incremental_at, Some(t0()));
    assert_eq!(state.last_incremental_run_id, Some(first_run));
    assert_eq!(state.last_full_at, None);
    assert_eq!(state.watermark, Some(ts("2025-05-20T08:30:00Z")));
    let file = (setup.store())
        .source_file_get("fb", &b.to_string_lossy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(file.rows, 3);
    // The files have no sentiment column: it is computed from the text.
    let (label, score, origin) = setup.sentiment("b1").await;
    assert_eq!(
        (label.as_str(), origin),
        ("negative", SentimentOrigin::Computed)
    );
    assert!(score < -0.5, "{score}");

    // Nothing changed: both files are skipped and nothing is written.
    setup.later();
    let (_, summary) = setup.sync("incremental").await;
    assert_eq!(summary["files_skipped"], 2);
    assert_eq!(summary["rows"], 0);
    assert_eq!(written(&summary), [0, 0, 0, 0]);
    assert_eq!(setup.count().await, 5);

    // Editing b.csv re-imports it alone: one row changed, one added, two as they were.
    setup.later();
    setup.write(
        "b.csv",
        "b1,2025-05-04T10:00:00Z,2025-05-21T09:00:00Z,Cy,2,Fixed now. Works great\n\
         b2,2025-05-05T10:00:00Z,,Di,4,Good\n\
         b3,2025-05-06T10:00:00Z,,Ed,2,Meh\n\
         b4,2025-05-07T10:00:00Z,,Flo,5,Great\n",
    );
    let (_, summary) = setup.sync("incremental").await;
    assert_eq!(summary["files_skipped"], 1);
    assert_eq!(summary["rows"], 4);
    assert_eq!(written(&summary), [1, 1, 2, 0]);
    assert_eq!(setup.count().await, 6);
    // The changed text got its sentiment computed again.
    let (label, score, origin) = setup.sentiment("b1").await;
    assert_eq!(
        (label.as_str(), origin),
        ("positive", SentimentOrigin::Computed)
    );
    assert!(score > 0.5, "{score}");
    let state = setup.store().source_state_get("fb").await.unwrap().unwrap();
    assert_eq!(state.watermark, Some(ts("2025-05-21T09:00:00Z")));

    // A full sync after a.csv is gone deletes its records, and reads b.csv again.
    setup.later();
    std::fs::remove_file(setup.dir.path().join("a.csv")).unwrap();
    let (full_run, summary) = setup.sync("full").await;
    assert_eq!(summary["mode"], "full");
    assert_eq!(summary["files"], 1);
    assert_eq!(summary["files_skipped"], 0);
    assert_eq!(summary["rows"], 4);
    assert_eq!(written(&summary), [0, 0, 4, 2]);
    assert_eq!(setup.count().await, 4);
    let state = setup.store().source_state_get("fb").await.unwrap().unwrap();
    let full_at = t0() + SignedDuration::from_mins(15);
    assert_eq!(state.last_full_at, Some(full_at));
    assert_eq!(state.last_full_run_id, Some(full_run));
    assert_eq!(
        state.last_incremental_at,
        Some(t0() + SignedDuration::from_mins(10))
    );
    assert_eq!(state.watermark, Some(ts("2025-05-21T09:00:00Z")));

    setup.test.close().await;
}

#[tokio::test]
async fn incremental_imports_changed_files_and_full_deletes_vanished_on_sqlite() {
    incremental_then_full(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn incremental_imports_changed_files_and_full_deletes_vanished_on_postgres() {
    incremental_then_full(TestBackend::Postgres).await;
}

async fn a_bad_file_fails_the_run(backend: TestBackend) {
    let setup = Setup::new(backend).await;
    setup.write(
        "a.csv",
        "a1,2025-05-01T10:00:00Z,,Ann,5,Lovely\na2,2025-05-03T10:00:00Z,,Bob,3,Fine\n",
    );
    // Half of its rows are bad, far more than the 1% allowed.
    let bad = setup.write(
        "b.csv",
        "b1,2025-05-04T10:00:00Z,,Cy,not a number,Broken\nb2,2025-05-05T10:00:00Z,,Di,4,Good\n",
    );

    let (_, outcome) = setup.run(json!({ "source": "fb" })).await;
    let Err(JobError::Fatal(message)) = outcome else {
        panic!("expected a fatal error, got {outcome:?}");
    };
    assert!(
        message.contains(&*bad.to_string_lossy()),
        "the message names the file: {message}"
    );
    assert!(message.contains("bad"), "{message}");
    // a.csv, imported before it, stays imported; nothing of b.csv is.
    assert_eq!(setup.count().await, 2);
    assert!(
        setup
            .store()
            .source_state_get("fb")
            .await
            .unwrap()
            .is_none()
    );

    // A full sync fails on it too, and writes nothing.
    std::fs::remove_file(setup.dir.path().join("a.csv")).unwrap();
    let (_, outcome) = setup.run(json!({ "source": "fb", "mode": "full" })).await;
    assert!(matches!(outcome, Err(JobError::Fatal(_))), "{outcome:?}");
    assert_eq!(setup.count().await, 2);

    setup.test.close().await;
}

#[tokio::test]
async fn a_file_with_too_many_bad_rows_fails_the_run_and_keeps_earlier_files_on_sqlite() {
    a_bad_file_fails_the_run(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn a_file_with_too_many_bad_rows_fails_the_run_and_keeps_earlier_files_on_postgres() {
    a_bad_file_fails_the_run(TestBackend::Postgres).await;
}

#[tokio::test]
async fn bad_rows_within_the_allowance_are_reported_in_the_summary() {
    let setup = Setup::new(TestBackend::Sqlite).await;
    let mut rows = String::from("x1,2025-05-01T10:00:00Z,,Ann,five,Bad rating\n");
    for i in 0..199 {
        rows.push_str(&format!("r{i},2025-05-01T10:00:00Z,,Bob,4,Fine\n"));
    }
    let path = setup.write("a.csv", &rows);
    let (_, summary) = setup.sync("incremental").await;
    assert_eq!(summary["rows"], 200);
    assert_eq!(summary["bad_rows"], 1);
    let sample = &summary["bad_row_samples"][0];
    assert_eq!(sample["file"], *path.to_string_lossy());
    assert_eq!(sample["line"], 2);
    assert!(
        sample["problems"][0].as_str().unwrap().contains("Rating"),
        "{sample}"
    );
    assert_eq!(setup.count().await, 199);
    setup.test.close().await;
}

#[tokio::test]
async fn an_empty_folder_fails_the_run() {
    let setup = Setup::new(TestBackend::Sqlite).await;
    let (_, outcome) = setup.run(json!({ "source": "fb" })).await;
    assert_eq!(
        outcome,
        Err(JobError::Fatal(format!(
            "no CSV files at {}",
            setup.dir.path().display()
        )))
    );
    setup.test.close().await;
}

#[tokio::test]
async fn a_cancelled_sync_stops_before_the_next_file() {
    let setup = Setup::new(TestBackend::Sqlite).await;
    setup.write("a.csv", "a1,2025-05-01T10:00:00Z,,Ann,5,Lovely\n");
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (_, outcome) = setup.run_until(json!({ "source": "fb" }), cancel).await;
    assert_eq!(
        outcome,
        Err(JobError::Cancel("cancelled after 0 of 1 files".to_owned()))
    );
    assert_eq!(setup.count().await, 0);
    setup.test.close().await;
}

#[test]
fn params_name_a_configured_source_and_a_known_mode() {
    let job = SyncJob::new(BTreeMap::from([
        ("b".to_owned(), SourceDef::Csv(CsvSource::new("b.csv"))),
        ("a".to_owned(), SourceDef::Csv(CsvSource::new("a.csv"))),
    ]));
    let error = job.validate(&json!({ "source": "x" })).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("source"));
    assert_eq!(
        error.message,
        "unknown source `x`; configured sources: a, b"
    );

    let error = (job.validate(&json!({ "source": "a", "mode": "sometimes" }))).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("mode"));

    let error = job
        .validate(&json!({ "source": "a", "extra": 1 }))
        .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("extra"));

    let error = job.validate(&json!({})).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("source"));

    job.validate(&json!({ "source": "a" })).unwrap();
    job.validate(&json!({ "source": "b", "mode": "full" }))
        .unwrap();

    let none = SyncJob::new(BTreeMap::new());
    let error = none.validate(&json!({ "source": "a" })).unwrap_err();
    assert_eq!(
        error.message,
        "no sources are configured; add one under [sources.NAME] in tidings.toml"
    );
}

/// The sample export shipped with tidings imports whole with the default settings.
#[tokio::test]
async fn imports_the_shipped_sample_export() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/feedback.csv"
    ));
    let test = TestStore::open(TestBackend::Sqlite).await;
    let job = SyncJob::new(BTreeMap::from([(
        "sample".to_owned(),
        SourceDef::Csv(CsvSource::new(path)),
    )]));
    enqueue(
        &*test.store,
        RunEnqueueParams {
            params: json!({ "source": "sample", "mode": "full" }),
            ..adhoc("sync", t0())
        },
    )
    .await;
    let run = claim_one(&*test.store, "sync-test", t0()).await;
    let ctx = JobContext::new(
        run,
        CancellationToken::new(),
        Arc::new(ManualClock::new(t0())),
        test.store.clone(),
    );
    let started = std::time::Instant::now();
    let summary = Job::run(&job, ctx).await.unwrap();
    eprintln!(
        "imported samples/feedback.csv in {:?}: {summary}",
        started.elapsed()
    );
    assert_eq!(summary["bad_rows"], 0, "{summary}");
    assert_eq!(summary["inserted"], 5200, "{summary}");
    assert_eq!(
        test.store.feedback_count(Some("sample")).await.unwrap(),
        5200
    );
    test.close().await;
}
