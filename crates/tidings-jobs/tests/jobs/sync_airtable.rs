//! `sync` of Airtable sources against the fake Airtable (a real local HTTP server with
//! Airtable's pagination, formula filter, rate limit and scripted faults), into a real store on
//! both backends.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Map, Value, json};
use tidings_core::{Clock, ManualClock};
use tidings_engine::{Job, JobContext, JobError};
use tidings_fake_airtable::{DEFAULT_NOW, FakeAirtable, FakeConfig, FakeRecord, Fault, FaultKind};
use tidings_jobs::{SourceDef, SyncJob};
use tidings_sources::airtable::{AirtableSettings, AirtableSource};
use tidings_store::{FeedbackListParams, RunClaimParams, RunEnqueueParams, RunId, Store};
use tidings_storetest::fixtures::{adhoc, complete, enqueue, succeeded};
use tidings_storetest::{TestBackend, TestStore};
use tokio_util::sync::CancellationToken;

/// The seeds' filter: the records created in 2025.
const YEAR_2025: &str = "YEAR({Created})=2025";
/// The environment variable the sources name for their token.
const TOKEN_ENV: &str = "FAKE_AIRTABLE_TOKEN";

/// A fake Airtable holding `records` generated records, a store, and the `sync` job over the
/// source `fb` (the 2025 records of the fake's table).
struct Setup {
    fake: FakeAirtable,
    fake_clock: ManualClock,
    test: TestStore,
    clock: Arc<ManualClock>,
    job: SyncJob,
}

/// Airtable's limits and waits, shortened or raised so that a sync of 5,200 records takes
/// about a second; the limiter itself is tested at the real rate below.
fn fast() -> AirtableSettings {
    AirtableSettings {
        requests_per_second: 200,
        penalty: Duration::from_millis(200),
        backoff: Duration::from_millis(10),
        ..AirtableSettings::default()
    }
}

fn source(fake: &FakeAirtable, table: &str) -> AirtableSource {
    AirtableSource {
        token_env: TOKEN_ENV.to_owned(),
        filter_formula: Some(YEAR_2025.to_owned()),
        api_url: fake.url(),
        ..AirtableSource::new(fake.base(), table)
    }
}

impl Setup {
    async fn new(backend: TestBackend, records: usize, settings: AirtableSettings) -> Setup {
        let fake_clock = ManualClock::new(DEFAULT_NOW);
        let fake = FakeAirtable::start(FakeConfig {
            rate_limit: settings.requests_per_second,
            penalty: Duration::from_secs(30),
            clock: Arc::new(fake_clock.clone()),
            ..FakeConfig::generated(records, 7)
        })
        .await;
        let sources = BTreeMap::from([(
            "fb".to_owned(),
            SourceDef::Airtable(source(&fake, fake.table())),
        )]);
        let job = SyncJob::with_airtable(sources, settings).with_environment(BTreeMap::from([(
            TOKEN_ENV.to_owned(),
            fake.token().to_owned(),
        )]));
        Setup {
            fake,
            fake_clock,
            test: TestStore::open(backend).await,
            clock: Arc::new(ManualClock::new(DEFAULT_NOW)),
            job,
        }
    }

    fn store(&self) -> &dyn Store {
        &*self.test.store
    }

    /// Runs `sync` of `fb` in `mode` as a claimed run at the clock's time.
    async fn run(&self, mode: &str) -> (RunId, Result<Value, JobError>) {
        run_job(&self.job, &self.test, &self.clock, "fb", mode).await
    }

    async fn sync(&self, mode: &str) -> Value {
        let (_, outcome) = self.run(mode).await;
        outcome.unwrap()
    }

    /// The cached records of `fb`: external id → body.
    async fn cached(&self) -> BTreeMap<String, Option<String>> {
        cached(self.store()).await
    }

    /// The fake's 2025 records: id → body (`Feedback`).
    fn expected(&self) -> BTreeMap<String, Option<String>> {
        let wanted: BTreeSet<String> = self
            .fake
            .ids_matching(YEAR_2025)
            .unwrap()
            .into_iter()
            .collect();
        self.fake
            .records()
            .into_iter()
            .filter(|record| wanted.contains(&record.id))
            .map(|record| {
                let body = record
                    .fields
                    .get("Feedback")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (record.id, body)
            })
            .collect()
    }

    /// Moves both clocks on, so that what changes next is modified later than what was read.
    fn later(&self) {
        self.fake_clock.advance(SignedDuration::from_mins(30));
        self.clock.advance(SignedDuration::from_mins(30));
    }
}

async fn run_job(
    job: &SyncJob,
    test: &TestStore,
    clock: &Arc<ManualClock>,
    source: &str,
    mode: &str,
) -> (RunId, Result<Value, JobError>) {
    let store = &*test.store;
    let now = clock.now();
    let queued = enqueue(
        store,
        RunEnqueueParams {
            params: json!({ "source": source, "mode": mode }),
            now,
            ..adhoc("sync", now)
        },
    )
    .await;
    // This run alone: syncs run side by side in one store below.
    let claimed = store
        .run_claim(RunClaimParams {
            instance: "sync-test".to_owned(),
            now,
            lease: SignedDuration::from_mins(5),
            limit: 1,
            kinds: Vec::new(),
            only: Some(queued.id),
        })
        .await
        .unwrap();
    let run = claimed.into_iter().next().unwrap();
    let ctx = JobContext::new(
        run.clone(),
        CancellationToken::new(),
        clock.clone(),
        test.store.clone(),
    );
    let outcome = Job::run(job, ctx).await;
    complete(store, &run, now, succeeded()).await;
    (run.id, outcome)
}

async fn cached(store: &dyn Store) -> BTreeMap<String, Option<String>> {
    let page = store
        .feedback_list(FeedbackListParams {
            source: Some("fb".to_owned()),
            limit: 10_000,
            ..FeedbackListParams::default()
        })
        .await
        .unwrap();
    assert!(page.next_cursor.is_none(), "one page holds every record");
    page.items
        .into_iter()
        .map(|feedback| (feedback.record.external_id, feedback.record.body))
        .collect()
}

fn written(summary: &Value) -> [u64; 4] {
    ["inserted", "updated", "unchanged", "deleted"].map(|key| summary[key].as_u64().unwrap())
}

fn fields(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect()
}

/// A full sync lands exactly the 2025 set; incremental syncs pick up added and edited records;
/// a full sync removes the deleted ones. After each, the cache is compared with the source.
async fn full_incremental_full_keep_the_cache_equal_to_the_source(backend: TestBackend) {
    let setup = Setup::new(backend, 5_200, fast()).await;
    let expected = setup.expected();
    assert!(
        (4_500..5_200).contains(&expected.len()),
        "most, not all, generated records are from 2025: {}",
        expected.len()
    );

    let summary = setup.sync("full").await;
    assert_eq!(summary["source"], "fb");
    assert_eq!(summary["mode"], "full");
    assert_eq!(summary["fetched"], expected.len());
    assert_eq!(written(&summary), [expected.len() as u64, 0, 0, 0]);
    assert_eq!(summary["pages"], expected.len().div_ceil(100));
    assert_eq!(summary["rate_limited"], 0);
    assert_eq!(summary["bad_records"], 0);
    assert_eq!(setup.cached().await, expected);
    let state = setup.store().source_state_get("fb").await.unwrap().unwrap();
    let watermark = state.watermark.expect("a full sync sets the watermark");

    // Added, edited, and deleted in the source.
    setup.later();
    let ids: Vec<String> = expected.keys().cloned().collect();
    setup
        .fake
        .update(
            &ids[10],
            fields(&[("Feedback", json!("Edited after the first sync"))]),
        )
        .unwrap();
    let added = setup.fake.insert(FakeRecord {
        id: String::new(),
        created_time: Some("2025-12-30T10:00:00Z".parse().unwrap()),
        fields: fields(&[
            ("Created", json!("2025-12-30T10:00:00.000Z")),
            ("Customer Name", json!("Zoë Quinn")),
            ("Feedback", json!("Added after the first sync")),
            ("Rating", json!(4)),
        ]),
    });
    assert!(setup.fake.delete(&ids[20]));

    let summary = setup.sync("incremental").await;
    assert_eq!(summary["mode"], "incremental");
    let since: jiff::Timestamp = summary["since"].as_str().unwrap().parse().unwrap();
    assert_eq!(since, watermark - SignedDuration::from_mins(5));
    let [inserted, updated, _, deleted] = written(&summary);
    assert_eq!((inserted, updated, deleted), (1, 1, 0));
    assert!(
        summary["fetched"].as_u64().unwrap() < 100,
        "an incremental sync reads what changed, not the table: {summary}"
    );
    let cache = setup.cached().await;
    assert_eq!(
        cache[&added.id].as_deref(),
        Some("Added after the first sync")
    );
    assert_eq!(
        cache[&ids[10]].as_deref(),
        Some("Edited after the first sync")
    );
    assert!(
        cache.contains_key(&ids[20]),
        "deletions wait for the full sync"
    );
    let moved = setup.store().source_state_get("fb").await.unwrap().unwrap();
    assert!(moved.watermark > Some(watermark), "the watermark advances");

    setup.later();
    let summary = setup.sync("full").await;
    assert_eq!(written(&summary)[3], 1, "the deleted record is removed");
    assert_eq!(setup.cached().await, setup.expected());

    setup.test.close().await;
}

/// A fault at page 30 of a full sync fails the run with the reason and changes nothing, while
/// readers keep seeing the previous records, whole, for as long as the sync runs; the next full
/// sync that succeeds replaces them at once.
async fn a_failed_full_sync_leaves_the_previous_records_served_whole(backend: TestBackend) {
    let settings = AirtableSettings {
        // About 1.5 s of listing, during which readers read.
        requests_per_second: 30,
        max_retries: 1,
        ..fast()
    };
    let setup = Setup::new(backend, 5_200, settings).await;
    setup.sync("full").await;
    let before = setup.cached().await;

    // The source changes a lot, then page 30 fails for good.
    setup.later();
    let ids: Vec<String> = before.keys().cloned().collect();
    for id in ids.iter().step_by(7) {
        assert!(setup.fake.delete(id));
    }
    for id in ids.iter().skip(3).step_by(11) {
        setup
            .fake
            .update(id, fields(&[("Feedback", json!("changed"))]));
    }
    for _ in 0..2 {
        setup
            .fake
            .push_fault(Fault::at_page(30, FaultKind::Status500));
    }

    let readers = CancellationToken::new();
    let reader = {
        let (store, readers, before) = (setup.test.store.clone(), readers.clone(), before.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !readers.is_cancelled() {
                assert_eq!(cached(&*store).await, before, "read {reads} saw a change");
                reads += 1;
            }
            reads
        })
    };
    let (_, outcome) = setup.run("full").await;
    readers.cancel();
    let reads = reader.await.unwrap();
    assert!(reads >= 3, "readers read during the sync ({reads} reads)");
    let Err(JobError::Retryable(error)) = outcome else {
        panic!("expected a retryable failure, got {outcome:?}");
    };
    assert!(error.contains("page 30"), "{error}");
    assert_eq!(setup.cached().await, before, "nothing changed");

    // Readers see the old set or the new one, never a mix.
    let after = setup.expected();
    assert_ne!(after, before);
    let readers = CancellationToken::new();
    let reader = {
        let store = setup.test.store.clone();
        let (readers, before, after) = (readers.clone(), before.clone(), after.clone());
        tokio::spawn(async move {
            let mut seen_new = false;
            while !readers.is_cancelled() {
                let now = cached(&*store).await;
                if now == after {
                    seen_new = true;
                } else {
                    assert!(!seen_new, "the old records came back");
                    assert_eq!(now, before, "a half-written sync was seen");
                }
            }
        })
    };
    setup.sync("full").await;
    readers.cancel();
    reader.await.unwrap();
    assert_eq!(setup.cached().await, after);
    setup.test.close().await;
}

/// A 429 in the middle of a sync is waited out (the penalty, shortened here) and the sync
/// completes; the summary counts it.
async fn a_429_mid_sync_is_waited_out(backend: TestBackend) {
    let setup = Setup::new(backend, 1_000, fast()).await;
    setup.fake.push_fault(Fault::at_page(
        4,
        FaultKind::TooManyRequests { retry_after: None },
    ));
    let summary = setup.sync("full").await;
    assert_eq!(summary["rate_limited"], 1);
    assert_eq!(setup.cached().await, setup.expected());
    setup.test.close().await;
}

/// A refused token fails the run at once, for good, saying what to fix and never showing the
/// token; so does a missing one.
async fn a_refused_or_missing_token_fails_at_once(backend: TestBackend) {
    let setup = Setup::new(backend, 300, fast()).await;
    setup.fake.push_fault(FaultKind::Unauthorized);
    let (_, outcome) = setup.run("full").await;
    let Err(JobError::Fatal(error)) = outcome else {
        panic!("expected a fatal failure, got {outcome:?}");
    };
    assert!(
        error.contains("401") && error.contains(TOKEN_ENV),
        "{error}"
    );
    assert!(!error.contains(setup.fake.token()), "{error}");
    assert_eq!(setup.fake.list_requests(), 1, "no retry");

    let without_token = SyncJob::with_airtable(
        BTreeMap::from([(
            "fb".to_owned(),
            SourceDef::Airtable(source(&setup.fake, setup.fake.table())),
        )]),
        fast(),
    )
    .with_environment(BTreeMap::new());
    let (_, outcome) = run_job(&without_token, &setup.test, &setup.clock, "fb", "full").await;
    let Err(JobError::Fatal(error)) = outcome else {
        panic!("expected a fatal failure, got {outcome:?}");
    };
    assert!(error.contains(TOKEN_ENV), "{error}");
    assert_eq!(setup.cached().await, BTreeMap::new());
    setup.test.close().await;
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tidings_storetest::TestBackend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tidings_storetest::TestBackend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    full_incremental_full_keep_the_cache_equal_to_the_source,
    a_failed_full_sync_leaves_the_previous_records_served_whole,
    a_429_mid_sync_is_waited_out,
    a_refused_or_missing_token_fails_at_once,
);

/// Two sources on two tables of one base, synced at once at Airtable's real 5 requests per
/// second: together they never send more than 5 requests in any second (measured by the fake,
/// as requests arrive) and get no 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_of_one_base_share_its_rate_limit() {
    let settings = AirtableSettings {
        page_size: 10,
        ..AirtableSettings::default()
    };
    // 60 generated records, about 54 from 2025: 6 pages per source, 12 requests in all.
    let setup = Setup::new(TestBackend::Sqlite, 60, settings.clone()).await;
    let other = SourceDef::Airtable(AirtableSource {
        // The same table under its other name: the limiter is per base, whatever the table.
        ..source(&setup.fake, setup.fake.table())
    });
    let job = SyncJob::with_airtable(
        BTreeMap::from([
            (
                "fb".to_owned(),
                SourceDef::Airtable(source(&setup.fake, setup.fake.table())),
            ),
            ("fb2".to_owned(), other),
        ]),
        settings,
    )
    .with_environment(BTreeMap::from([(
        TOKEN_ENV.to_owned(),
        setup.fake.token().to_owned(),
    )]));
    let (one, two) = tokio::join!(
        run_job(&job, &setup.test, &setup.clock, "fb", "full"),
        run_job(&job, &setup.test, &setup.clock, "fb2", "full"),
    );
    let (one, two) = (one.1.unwrap(), two.1.unwrap());
    let requests = one["requests"].as_u64().unwrap() + two["requests"].as_u64().unwrap();
    assert!(requests >= 12, "{one} {two}");
    assert_eq!(setup.fake.list_requests() as u64, requests);
    assert!(
        setup.fake.max_requests_in_any_second() <= 5,
        "{} requests within one second",
        setup.fake.max_requests_in_any_second()
    );
    assert_eq!(setup.fake.rate_limited_count(), 0);
    setup.test.close().await;
}
