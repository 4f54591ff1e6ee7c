//! `airtable` and `csv-import`: full syncs through the real `sync` job, run by the engine the
//! way `tidings sync` runs one (`Engine::run_enqueue` + `Engine::work_run`), into a fresh store.
//!
//! - `airtable`: the fake Airtable (a real local HTTP server) at Airtable's own limits — 5
//!   requests per second per base and a 30 s penalty after going over — read with the default
//!   [`AirtableSettings`]. Wall time of the whole sync, pages, requests, 429s and the most
//!   requests the fake saw within any one second, against the physical bound.
//! - `csv-import`: one large CSV (the sample generator's records, repeated) imported by a full
//!   sync; first each phase timed on its own (list + checksum, read + parse + map, the
//!   one-transaction write) into a fresh store, then the whole job end to end into another.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jiff::SignedDuration;
use serde_json::{Value, json};
use tidings_core::{Clock, RetryPolicy, RunState, SystemClock};
use tidings_engine::{Engine, EngineConfig, JobRegistry};
use tidings_fake_airtable::{FakeAirtable, FakeConfig};
use tidings_jobs::{SourceDef, SyncJob};
use tidings_sources::CsvSource;
use tidings_sources::airtable::{AirtableSettings, AirtableSource};
use tidings_store::{FeedbackReplaceParams, Store};
use tokio_util::sync::CancellationToken;

use crate::{BenchStore, Db, sample_data};

/// The seeds' filter: the records created in 2025.
const YEAR_2025: &str = "YEAR({Created})=2025";
/// The environment variable the source names for its token (given to the job directly).
const TOKEN_ENV: &str = "BENCH_AIRTABLE_TOKEN";
/// The source's name in the store.
const SOURCE: &str = "bench";

/// An engine whose registry holds `job` (and the built-in jobs).
fn engine_with(store: Arc<dyn Store>, job: SyncJob) -> Engine {
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry, tidings_jobs::WebhookSettings::default());
    registry.register(job);
    Engine::new(
        store,
        Arc::new(SystemClock),
        registry,
        EngineConfig {
            instance: format!("bench-{}", std::process::id()),
            ..EngineConfig::default()
        },
    )
}

/// Runs a full `sync` of [`SOURCE`] in the foreground; its summary and wall seconds.
async fn full_sync(engine: &Engine) -> Result<(Value, f64)> {
    let started = Instant::now();
    let run = engine
        .run_enqueue(
            "sync",
            json!({ "source": SOURCE, "mode": "full" }),
            RetryPolicy::default(),
            SignedDuration::from_mins(30),
        )
        .await?;
    let done = engine
        .work_run(run.id, CancellationToken::new())
        .await?
        .context("the sync run could not be claimed")?;
    let seconds = started.elapsed().as_secs_f64();
    if done.state != RunState::Succeeded {
        bail!("the sync ended {}: {:?}", done.state, done.error);
    }
    Ok((done.summary.unwrap_or(Value::Null), seconds))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    crate::percentile(values, 50.0)
}

/// What `airtable` measures.
pub(crate) struct AirtableBench {
    /// Records generated in the fake (about 90 % are from 2025).
    pub(crate) records: usize,
    /// Serve every record, without the 2025 filter.
    pub(crate) no_filter: bool,
    /// Syncs, each with a fresh fake and a fresh store.
    pub(crate) repeat: usize,
}

pub(crate) async fn airtable(db: &Db, bench: AirtableBench) -> Result<Value> {
    let mut runs = Vec::new();
    let mut walls = Vec::new();
    for attempt in 1..=bench.repeat {
        let result = airtable_once(db, &bench).await?;
        eprintln!("run {attempt}: {result}");
        walls.push(result["wall_seconds"].as_f64().unwrap_or(f64::NAN));
        runs.push(result);
    }
    let median_wall = median(&mut walls);
    Ok(json!({
        "benchmark": "airtable",
        "backend": db.backend,
        "records_in_fake": bench.records,
        "filter_formula": (!bench.no_filter).then_some(YEAR_2025),
        "median_wall_seconds": median_wall,
        "runs": runs,
    }))
}

async fn airtable_once(db: &Db, bench: &AirtableBench) -> Result<Value> {
    let settings = AirtableSettings::default();
    let fake = FakeAirtable::start(FakeConfig {
        rate_limit: 5,
        penalty: Duration::from_secs(30),
        ..FakeConfig::generated(bench.records, 7)
    })
    .await;
    let formula = (!bench.no_filter).then(|| YEAR_2025.to_owned());
    let selected = match &formula {
        Some(formula) => fake
            .count_matching(formula)
            .map_err(|error| anyhow::anyhow!("{error}"))?,
        None => bench.records,
    };
    let source = AirtableSource {
        token_env: TOKEN_ENV.to_owned(),
        filter_formula: formula,
        api_url: fake.url(),
        ..AirtableSource::new(fake.base(), fake.table())
    };
    let job = SyncJob::with_airtable(
        BTreeMap::from([(SOURCE.to_owned(), SourceDef::Airtable(source))]),
        settings.clone(),
    )
    .with_environment(BTreeMap::from([(
        TOKEN_ENV.to_owned(),
        fake.token().to_owned(),
    )]));
    let handle = BenchStore::open(db).await?;
    let store = handle.store();
    let engine = engine_with(store.clone(), job);

    let started = Instant::now();
    let (summary, wall) = full_sync(&engine).await?;
    let requests = fake.requests();
    let listed: Vec<Instant> = requests
        .iter()
        .filter(|r| r.page.is_some())
        .map(|r| r.at)
        .collect();
    let first = listed.first().copied().context("no list requests")?;
    let last = listed.last().copied().context("no list requests")?;
    let pages = summary["pages"].as_u64().unwrap_or(0);
    let rate = f64::from(settings.requests_per_second);
    // The first `rate` requests may go at once; each later one waits its turn.
    let bound = pages.saturating_sub(u64::from(settings.requests_per_second)) as f64 / rate;
    let result = json!({
        "selected": selected,
        "fetched": summary["fetched"],
        "inserted": summary["inserted"],
        "pages": pages,
        "requests": summary["requests"],
        "fake_list_requests": fake.list_requests(),
        "rate_limited_job": summary["rate_limited"],
        "rate_limited_fake": fake.rate_limited_count(),
        "max_requests_in_any_second": fake.max_requests_in_any_second(),
        "wall_seconds": wall,
        "job_seconds": summary["seconds"],
        "until_first_request_s": first.duration_since(started).as_secs_f64(),
        "first_to_last_request_s": last.duration_since(first).as_secs_f64(),
        "after_last_request_s": wall - last.duration_since(started).as_secs_f64(),
        "bound_seconds": bound,
        "bound_naive_seconds": pages as f64 / rate,
    });
    drop((engine, store));
    handle.remove().await?;
    Ok(result)
}

/// What `csv-import` measures.
pub(crate) struct CsvBench {
    pub(crate) rows: usize,
    pub(crate) repeat: usize,
}

pub(crate) async fn csv_import(db: &Db, bench: CsvBench) -> Result<Value> {
    let dir = std::env::temp_dir().join(format!("tidings-bench-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("feedback.csv");
    let written = Instant::now();
    let text = sample_data::sample_csv(bench.rows);
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    let bytes = text.len();
    drop(text);
    eprintln!(
        "wrote {} rows ({:.1} MB) to {} in {:.1}s",
        bench.rows,
        bytes as f64 / 1e6,
        path.display(),
        written.elapsed().as_secs_f64()
    );
    let source = CsvSource::new(&path);
    let rows = bench.rows as f64;

    let mut phases = Vec::new();
    let mut totals = Vec::new();
    for attempt in 1..=bench.repeat {
        // Each phase on its own, as the job runs them, into a fresh store.
        let handle = BenchStore::open(db).await?;
        let store = handle.store();
        let clock = SystemClock;
        let t = Instant::now();
        let listing = source.clone();
        let files = tokio::task::spawn_blocking(move || listing.files()).await??;
        let list = t.elapsed().as_secs_f64();
        let file = files.first().context("no file")?.clone();
        let t = Instant::now();
        let reading = source.clone();
        let import = tokio::task::spawn_blocking(move || reading.read_file(&file)).await??;
        let read = t.elapsed().as_secs_f64();
        let good = import.records.len();
        let bad = import.bad_rows.len();
        let t = Instant::now();
        let stored = store
            .feedback_replace_source(FeedbackReplaceParams {
                source: SOURCE.to_owned(),
                records: import.records,
                now: clock.now(),
            })
            .await?;
        let write = t.elapsed().as_secs_f64();
        drop(store);
        handle.remove().await?;
        let phase = json!({
            "records": good,
            "bad_rows": bad,
            "inserted": stored.inserted,
            "list_checksum_s": list,
            "read_parse_map_s": read,
            "write_s": write,
            "list_checksum_rows_per_s": rows / list,
            "read_parse_map_rows_per_s": rows / read,
            "write_rows_per_s": good as f64 / write,
        });
        eprintln!("phases {attempt}: {phase}");
        phases.push(phase);

        // The whole job, end to end, into another fresh store.
        let handle = BenchStore::open(db).await?;
        let store = handle.store();
        let job = SyncJob::new(BTreeMap::from([(
            SOURCE.to_owned(),
            SourceDef::Csv(source.clone()),
        )]));
        let engine = engine_with(store.clone(), job);
        let (summary, wall) = full_sync(&engine).await?;
        if summary["inserted"].as_u64() != Some(good as u64) {
            bail!(
                "the sync inserted {} of {good} records",
                summary["inserted"]
            );
        }
        drop((engine, store));
        handle.remove().await?;
        let total = json!({
            "wall_seconds": wall,
            "job_seconds": summary["seconds"],
            "rows": summary["rows"],
            "inserted": summary["inserted"],
            "bad_rows": summary["bad_rows"],
            "rows_per_second": rows / wall,
        });
        eprintln!("sync {attempt}: {total}");
        totals.push(total);
    }
    std::fs::remove_dir_all(&dir)?;
    let pick = |list: &[Value], key: &str| -> f64 {
        let mut values: Vec<f64> = list.iter().filter_map(|v| v[key].as_f64()).collect();
        median(&mut values)
    };
    let wall = pick(&totals, "wall_seconds");
    Ok(json!({
        "benchmark": "csv-import",
        "backend": db.backend,
        "rows": bench.rows,
        "bytes": bytes,
        "median": {
            "list_checksum_s": pick(&phases, "list_checksum_s"),
            "read_parse_map_s": pick(&phases, "read_parse_map_s"),
            "write_s": pick(&phases, "write_s"),
            "sync_wall_s": wall,
            "sync_rows_per_s": rows / wall,
        },
        "phases": phases,
        "syncs": totals,
    }))
}
