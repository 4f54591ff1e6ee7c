//! `tidings-bench`: measurements of the scheduler on a real store, reported in BENCHMARKS.md.
//!
//! - `fire`: N schedules due in the same second, `noop` jobs; lateness (started_at −
//!   scheduled_for) percentiles and the time until all have succeeded.
//! - `drain`: N queued `noop` runs; runs per second at a given concurrency.
//! - `seed`: N schedules in a database, for measuring an idle `tidings serve`.
//! - `api`: the REST API's list endpoints under load, with N schedules and M runs stored.
//! - `airtable`: a full sync of about 5,000 records from the fake Airtable at 5 requests/s.
//! - `csv-import`: a full sync of a large CSV file; rows per second, per phase and in all.
//! - `aggregate`: the statistics refresh over N records in G groups; wall time, peak RSS, and
//!   the per-grouping SQL alternative timed beside it.
//! - `cluster-drain`, `enqueue`, `pickup`, `cluster-fire`: real `tidings serve` processes on one
//!   PostgreSQL database (see `cluster.rs`).
//!
//! Each prints one JSON object on stdout (progress on stderr).

mod aggregate;
mod api;
mod cluster;
mod sample_data;
mod sample_text;
mod sync;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use tidings_core::{
    Clock, CronExpr, CronTrigger, RetryPolicy, RunState, SystemClock, Trigger, Zone,
};
use tidings_engine::{Engine, EngineConfig, JobRegistry};
use tidings_store::{
    Run, RunListParams, ScheduleCreateParams, ScheduleName, ScheduleOrigin, SchedulePolicy,
    ScheduleSpec, Store,
};
use tidings_store_postgres::{PostgresOptions, PostgresStore};
use tidings_store_sqlite::{SqliteOptions, SqliteStore};
use tokio_util::sync::CancellationToken;

/// The allocator `tidings` itself uses, so that what is measured is what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "tidings-bench", about = "Benchmarks of the tidings scheduler")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// N schedules due in the same second with noop jobs: lateness and time to finish all
    Fire {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value_t = 10_000)]
        schedules: u32,
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
    },
    /// N queued noop runs drained at a given concurrency: runs per second
    Drain {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value_t = 50_000)]
        runs: u32,
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
    },
    /// GET /api/schedules?limit=100 and GET /api/runs?limit=100 under C connections:
    /// requests per second and latency percentiles
    Api {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value_t = 1_000)]
        schedules: u32,
        #[arg(long, default_value_t = 100_000)]
        runs: u32,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds of load per path
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// A full sync from the fake Airtable at Airtable's 5 requests/s and 30 s penalty
    Airtable {
        #[command(flatten)]
        db: Db,
        /// Records in the fake; the source's filter (created in 2025) selects about 90 %
        #[arg(long, default_value_t = 5_556)]
        records: usize,
        /// Serve every record, without the filter formula
        #[arg(long)]
        no_filter: bool,
        /// Syncs (each with a fresh fake and store); the median is reported
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// A full sync of one CSV file of N generated rows: rows per second per phase and in all
    CsvImport {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Measurements; the median is reported
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// The `aggregate` statistics refresh over N records in G groups: wall time and peak RSS
    Aggregate {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        #[arg(long, default_value_t = 100)]
        groups: usize,
        /// Refreshes; the median is reported
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Seconds of GET /api/stats load per path afterwards (0: none)
        #[arg(long, default_value_t = 5)]
        api_seconds: u64,
        #[arg(long, default_value_t = 16)]
        connections: usize,
    },
    /// N queued noop runs drained by I `tidings serve` processes on one PostgreSQL database
    ClusterDrain {
        #[command(flatten)]
        cluster: cluster::ClusterArgs,
        #[arg(long, default_value_t = 50_000)]
        runs: u32,
        #[arg(long, default_value_t = 1)]
        instances: usize,
    },
    /// POST /api/runs against one `tidings serve` on PostgreSQL: 1 client, then C; then
    /// POST /api/runs/batch from 1 client
    Enqueue {
        #[command(flatten)]
        cluster: cluster::ClusterArgs,
        /// Requests per phase
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Runs per request of the POST /api/runs/batch phase
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Runs queued in the batch phase
        #[arg(long, default_value_t = 50_000)]
        batch_runs: usize,
    },
    /// POST /api/runs on instance A → started_at, claimed by idle instance B (LISTEN/NOTIFY)
    Pickup {
        #[command(flatten)]
        cluster: cluster::ClusterArgs,
        #[arg(long, default_value_t = 500)]
        runs: usize,
    },
    /// N schedules due in the same second, I `tidings serve` processes on one PostgreSQL database
    ClusterFire {
        #[command(flatten)]
        cluster: cluster::ClusterArgs,
        #[arg(long, default_value_t = 10_000)]
        schedules: u32,
        #[arg(long, default_value_t = 3)]
        instances: usize,
    },
    /// Creates N daily schedules (noop jobs) in the database at --database-url
    Seed {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 10_000)]
        schedules: u32,
    },
}

#[derive(clap::Args)]
struct Db {
    /// `sqlite` (a fresh file in a temporary folder) or `postgres` (a fresh schema)
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// PostgreSQL server for `--backend postgres`
    #[arg(
        long,
        env = "TIDINGS_TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
}

/// A fresh store for one benchmark, removed afterwards.
enum BenchStore {
    Sqlite(Arc<SqliteStore>, PathBuf),
    Postgres(Arc<PostgresStore>),
}

impl BenchStore {
    async fn open(db: &Db) -> Result<BenchStore> {
        match db.backend.as_str() {
            "sqlite" => {
                let dir =
                    std::env::temp_dir().join(format!("tidings-bench-{}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                let path = dir.join("bench.db");
                let _ = std::fs::remove_file(&path);
                let store = SqliteStore::open_and_migrate(&path, SqliteOptions::default()).await?;
                Ok(BenchStore::Sqlite(Arc::new(store), dir))
            }
            "postgres" => {
                let schema = format!("tidings_bench_{}", std::process::id());
                let store = PostgresStore::connect(
                    &db.postgres_url,
                    PostgresOptions {
                        max_connections: 14,
                        schema: Some(schema),
                    },
                )
                .await?;
                store.migrate().await?;
                Ok(BenchStore::Postgres(Arc::new(store)))
            }
            other => bail!("unknown backend `{other}`: expected sqlite or postgres"),
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        match self {
            BenchStore::Sqlite(store, _) => store.clone(),
            BenchStore::Postgres(store) => store.clone(),
        }
    }

    async fn remove(self) -> Result<()> {
        match self {
            BenchStore::Sqlite(store, dir) => {
                store.close().await;
                drop(store);
                std::fs::remove_dir_all(dir)?;
            }
            BenchStore::Postgres(store) => {
                let store =
                    Arc::try_unwrap(store).map_err(|_| anyhow::anyhow!("store still in use"))?;
                store.drop_schema().await?;
            }
        }
        Ok(())
    }
}

fn registry() -> JobRegistry {
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry, tidings_jobs::WebhookSettings::default());
    registry
}

fn engine(store: Arc<dyn Store>, concurrency: usize) -> Engine {
    Engine::new(
        store,
        Arc::new(SystemClock),
        registry(),
        EngineConfig {
            instance: format!("bench-{}", std::process::id()),
            concurrency,
            ..EngineConfig::default()
        },
    )
}

/// A daily 6-field cron firing at `at`'s second, in UTC.
fn daily_at(at: Timestamp) -> Result<Trigger> {
    let t = at.to_zoned(jiff::tz::TimeZone::UTC);
    let expr = format!("{} {} {} * * *", t.second(), t.minute(), t.hour());
    Ok(Trigger::Cron(CronTrigger::new(
        CronExpr::parse(&expr)?,
        Zone::utc(),
    )))
}

fn spec(i: u32, trigger: Trigger) -> Result<ScheduleSpec> {
    Ok(ScheduleSpec {
        name: ScheduleName::parse(&format!("bench-{i:05}"))?,
        description: None,
        trigger,
        kind: "noop".to_owned(),
        params: json!({}),
        enabled: true,
        policy: SchedulePolicy::default(),
        source: None,
        tags: vec!["bench".to_owned()],
        callback_url: None,
    })
}

/// Creates `count` schedules straight through the store, all with `trigger`.
async fn create_schedules(store: &Arc<dyn Store>, count: u32, trigger: &Trigger) -> Result<()> {
    let now = SystemClock.now();
    let next = trigger.next_after(now);
    for i in 0..count {
        store
            .schedule_create(ScheduleCreateParams {
                spec: spec(i, trigger.clone())?,
                origin: ScheduleOrigin::Cli,
                now,
                next_run_at: next,
            })
            .await?;
    }
    Ok(())
}

/// Every run in the store, newest first.
async fn all_runs(store: &Arc<dyn Store>) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .run_list(RunListParams {
                limit: 10_000,
                cursor,
                ..RunListParams::default()
            })
            .await?;
        runs.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(runs),
        }
    }
}

/// Waits until no run is queued or running any more (checking every 50 ms with a cheap query),
/// up to `limit`; then checks that `count` runs succeeded.
async fn wait_succeeded(store: &Arc<dyn Store>, count: usize, limit: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        // Firing has not happened yet while a schedule is still due at or before now.
        let pending_fire = store
            .schedule_next_due_at()
            .await?
            .is_some_and(|next| next <= SystemClock.now());
        let active = store
            .run_list(RunListParams {
                states: vec![RunState::Queued, RunState::Running],
                limit: 1,
                ..RunListParams::default()
            })
            .await?;
        if active.items.is_empty() && !pending_fire {
            break;
        }
        if start.elapsed() > limit {
            bail!("runs still queued or running after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let succeeded = all_runs(store)
        .await?
        .iter()
        .filter(|r| r.state == RunState::Succeeded)
        .count();
    if succeeded < count {
        bail!("only {succeeded} of {count} runs succeeded");
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn fire(db: &Db, schedules: u32, concurrency: usize) -> Result<serde_json::Value> {
    let bench = BenchStore::open(db).await?;
    let store = bench.store();
    // Due at the start of a whole second far enough ahead to create everything first.
    let setup_start = Instant::now();
    let due =
        Timestamp::from_second(SystemClock.now().as_second() + 5 + i64::from(schedules / 1000))?;
    create_schedules(&store, schedules, &daily_at(due)?).await?;
    let setup = setup_start.elapsed();
    if SystemClock.now() >= due {
        bail!("creating {schedules} schedules took {setup:?}, past their due time; retry");
    }
    eprintln!("created {schedules} schedules in {setup:.1?}; all due at {due}");
    let engine = engine(store.clone(), concurrency);
    let shutdown = CancellationToken::new();
    let handle = engine.start(shutdown.clone());
    let until_due = due.duration_since(SystemClock.now());
    tokio::time::sleep(Duration::try_from(until_due).unwrap_or_default()).await;
    wait_succeeded(&store, schedules as usize, Duration::from_secs(120)).await?;
    shutdown.cancel();
    handle.stopped().await;

    let runs = all_runs(&store).await?;
    let mut lateness: Vec<f64> = runs
        .iter()
        .filter_map(|r| Some(r.started_at?.duration_since(r.scheduled_for?).as_secs_f64() * 1000.0))
        .collect();
    lateness.sort_by(f64::total_cmp);
    let last_finish = runs
        .iter()
        .filter_map(|r| r.finished_at)
        .max()
        .context("no runs")?;
    let duplicates = runs.len() - {
        let mut keys: Vec<_> = runs
            .iter()
            .map(|r| (r.schedule_id, r.scheduled_for))
            .collect();
        keys.sort();
        keys.dedup();
        keys.len()
    };
    let result = json!({
        "benchmark": "fire",
        "backend": db.backend,
        "schedules": schedules,
        "concurrency": concurrency,
        "runs": runs.len(),
        "succeeded": runs.iter().filter(|r| r.state == RunState::Succeeded).count(),
        "duplicates": duplicates,
        "lateness_ms": {
            "p50": percentile(&lateness, 50.0),
            "p99": percentile(&lateness, 99.0),
            "max": lateness.last().copied().unwrap_or(f64::NAN),
        },
        "all_succeeded_after_ms": last_finish.duration_since(due).as_secs_f64() * 1000.0,
    });
    drop((engine, store));
    bench.remove().await?;
    Ok(result)
}

async fn drain(db: &Db, count: u32, concurrency: usize) -> Result<serde_json::Value> {
    let bench = BenchStore::open(db).await?;
    let store = bench.store();
    let engine = engine(store.clone(), concurrency);
    let setup_start = Instant::now();
    let retry = RetryPolicy::default();
    for _ in 0..count {
        engine
            .run_enqueue("noop", json!({}), retry, SignedDuration::from_secs(60))
            .await?;
    }
    eprintln!("queued {count} runs in {:.1?}", setup_start.elapsed());
    let start = SystemClock.now();
    let shutdown = CancellationToken::new();
    let handle = engine.start(shutdown.clone());
    wait_succeeded(&store, count as usize, Duration::from_secs(600)).await?;
    shutdown.cancel();
    handle.stopped().await;
    let runs = all_runs(&store).await?;
    let last_finish = runs
        .iter()
        .filter_map(|r| r.finished_at)
        .max()
        .context("no runs")?;
    let elapsed = last_finish.duration_since(start).as_secs_f64();
    let result = json!({
        "benchmark": "drain",
        "backend": db.backend,
        "runs": count,
        "concurrency": concurrency,
        "succeeded": runs.iter().filter(|r| r.state == RunState::Succeeded).count(),
        "seconds": elapsed,
        "runs_per_second": f64::from(count) / elapsed,
    });
    drop((engine, store));
    bench.remove().await?;
    Ok(result)
}

async fn seed(url: &str, count: u32) -> Result<serde_json::Value> {
    let store: Arc<dyn Store> = if url.starts_with("postgres") {
        Arc::new(
            PostgresStore::connect(
                url,
                PostgresOptions {
                    max_connections: 5,
                    schema: None,
                },
            )
            .await?,
        )
    } else {
        Arc::new(SqliteStore::open_url(url, SqliteOptions::default()).await?)
    };
    store.migrate().await?;
    // Daily at 03:00 UTC: idle for the measurement.
    let trigger = Trigger::Cron(CronTrigger::new(CronExpr::parse("0 3 * * *")?, Zone::utc()));
    let start = Instant::now();
    create_schedules(&store, count, &trigger).await?;
    Ok(json!({ "benchmark": "seed", "schedules": count, "seconds": start.elapsed().as_secs_f64() }))
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Fire {
            db,
            schedules,
            concurrency,
        } => fire(&db, schedules, concurrency).await?,
        Command::Drain {
            db,
            runs,
            concurrency,
        } => drain(&db, runs, concurrency).await?,
        Command::Api {
            db,
            schedules,
            runs,
            connections,
            seconds,
        } => {
            api::api(
                &db,
                api::ApiBench {
                    schedules,
                    runs,
                    connections,
                    seconds,
                },
            )
            .await?
        }
        Command::Airtable {
            db,
            records,
            no_filter,
            repeat,
        } => {
            sync::airtable(
                &db,
                sync::AirtableBench {
                    records,
                    no_filter,
                    repeat,
                },
            )
            .await?
        }
        Command::CsvImport { db, rows, repeat } => {
            sync::csv_import(&db, sync::CsvBench { rows, repeat }).await?
        }
        Command::Aggregate {
            db,
            records,
            groups,
            repeat,
            api_seconds,
            connections,
        } => {
            aggregate::aggregate(
                &db,
                aggregate::AggregateBench {
                    records,
                    groups,
                    repeat,
                    api_seconds,
                    connections,
                },
            )
            .await?
        }
        Command::ClusterDrain {
            cluster,
            runs,
            instances,
        } => cluster::drain(&cluster, runs, instances).await?,
        Command::Enqueue {
            cluster,
            requests,
            clients,
            batch,
            batch_runs,
        } => cluster::enqueue(&cluster, requests, clients, batch, batch_runs).await?,
        Command::Pickup { cluster, runs } => cluster::pickup(&cluster, runs).await?,
        Command::ClusterFire {
            cluster,
            schedules,
            instances,
        } => cluster::fire(&cluster, schedules, instances).await?,
        Command::Seed {
            database_url,
            schedules,
        } => seed(&database_url, schedules).await?,
    };
    println!("{result}");
    Ok(())
}
