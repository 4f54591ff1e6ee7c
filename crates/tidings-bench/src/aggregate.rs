//! `aggregate`: the statistics refresh over N generated records in G groups, on a fresh store.
//!
//! Reports the wall time of `AggregateJob::refresh` (scan, tally, snapshot write; the median
//! of `repeat`) and the process's peak RSS during the refreshes (VmHWM, reset after seeding).
//! For the design choice it also times the alternative the job does not use: one SQL query per
//! grouping with conditional sums over the 14 windows (counts, rating sums, histogram and
//! sentiment counts), plus one per grouping for the tags (`jsonb_array_elements_text` /
//! `json_each`), run straight on the database.

use std::time::Instant;

use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sqlx::Executor;
use tidings_jobs::aggregate::periods;
use tidings_jobs::{AggregateJob, AggregateSettings};
use tidings_store::{FeedbackRecord, FeedbackUpsertParams, Store};

use crate::{BenchStore, Db};

/// What to measure.
pub(crate) struct AggregateBench {
    pub(crate) records: usize,
    pub(crate) groups: usize,
    pub(crate) repeat: usize,
    /// Seconds of `GET /api/stats` load per path (0: none).
    pub(crate) api_seconds: u64,
    pub(crate) connections: usize,
}

const CHANNELS: [&str; 5] = ["email", "chat", "survey", "app", "phone"];
const SOURCES: [&str; 4] = ["customer_project", "sales_project", "support", "reviews"];
const LABELS: [Option<&str>; 4] = [Some("positive"), Some("neutral"), Some("negative"), None];
const TAGS: usize = 30;
/// Records are spread over this many days before `as_of`.
const DAYS: i64 = 60;
const BATCH: usize = 20_000;

/// A cheap deterministic generator (xorshift), so that every run seeds the same records.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn record(i: usize, rng: &mut Rng, groups: usize, as_of: Timestamp) -> FeedbackRecord {
    let ago = SignedDuration::from_secs((rng.next() % (DAYS as u64 * 86_400)) as i64);
    let tags = (0..rng.below(4))
        .map(|_| format!("tag{:02}", rng.below(TAGS)))
        .collect();
    FeedbackRecord {
        external_id: format!("r{i:07}"),
        created_at: Some(as_of - ago),
        updated_at: None,
        customer_name: None,
        customer_email: None,
        channel: Some(CHANNELS[rng.below(CHANNELS.len())].to_owned()),
        group: Some(format!("group-{:03}", rng.below(groups))),
        rating: Some((1 + rng.below(5)) as f64),
        sentiment_label: LABELS[rng.below(LABELS.len())].map(str::to_owned),
        sentiment_score: Some((rng.below(201) as f64 - 100.0) / 100.0),
        sentiment_origin: None,
        title: None,
        body: Some("Generated feedback".to_owned()),
        tags,
        status: None,
        value: None,
        raw: json!({}).into(),
    }
}

async fn seed(store: &dyn Store, bench: &AggregateBench, as_of: Timestamp) -> Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut i = 0;
    while i < bench.records {
        let n = BATCH.min(bench.records - i);
        let source = SOURCES[(i / BATCH) % SOURCES.len()];
        let records = (i..i + n)
            .map(|j| record(j, &mut rng, bench.groups, as_of))
            .collect();
        store
            .feedback_upsert(FeedbackUpsertParams {
                source: source.to_owned(),
                records,
                now: as_of,
            })
            .await?;
        i += n;
        if i % 200_000 == 0 {
            eprintln!("seeded {i} records");
        }
    }
    Ok(())
}

/// Linux's peak resident set size of this process, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The conditional-sums queries of the alternative design, one per grouping plus one for its
/// tags; `$1…$14` are the windows' bounds as epoch ms (current start, end, previous start,
/// end for each of 7 periods would be 28; the periods share `end = as_of`, so the starts are
/// bound and the ends inlined).
fn sql_alternative(postgres: bool, bounds: &[(i64, i64, i64, i64)]) -> Vec<String> {
    let mut columns = Vec::new();
    for (p, (cs, ce, ps, pe)) in bounds.iter().enumerate() {
        let cur = format!("created_at >= {cs} AND created_at < {ce}");
        let prev = format!("created_at >= {ps} AND created_at < {pe}");
        columns.push(format!("SUM(CASE WHEN {cur} THEN 1 ELSE 0 END) AS c{p}"));
        columns.push(format!("SUM(CASE WHEN {prev} THEN 1 ELSE 0 END) AS p{p}"));
        columns.push(format!("SUM(CASE WHEN {cur} THEN rating END) AS rs{p}"));
        columns.push(format!("COUNT(CASE WHEN {cur} THEN rating END) AS rn{p}"));
        for b in 1..=5 {
            columns.push(format!(
                "SUM(CASE WHEN {cur} AND rating >= {b} - 0.5 AND rating < {b} + 0.5 THEN 1 ELSE 0 END) AS h{p}_{b}"
            ));
        }
        for label in ["positive", "neutral", "negative"] {
            columns.push(format!(
                "SUM(CASE WHEN {cur} AND sentiment_label = '{label}' THEN 1 ELSE 0 END) AS {label}{p}"
            ));
        }
        columns.push(format!(
            "SUM(CASE WHEN {cur} THEN sentiment_score END) AS ss{p}"
        ));
        columns.push(format!(
            "COUNT(CASE WHEN {cur} THEN sentiment_score END) AS sn{p}"
        ));
    }
    let earliest = bounds.iter().map(|b| b.0.min(b.2)).min().unwrap_or(0);
    let end = bounds.first().map_or(0, |b| b.1);
    let tag_source = if postgres {
        "jsonb_array_elements_text(feedback.tags) AS t(tag)"
    } else {
        "json_each(feedback.tags) AS t"
    };
    let tag = if postgres { "t.tag" } else { "t.value" };
    // SQLite would read every row through the `created_at` index (see the store's scan).
    let table = if postgres {
        "feedback"
    } else {
        "feedback NOT INDEXED"
    };
    let mut queries = Vec::new();
    for column in ["group_name", "source", "channel"] {
        queries.push(format!(
            "SELECT {column}, {} FROM {table} WHERE created_at >= {earliest} AND created_at < {end} GROUP BY {column}",
            columns.join(", ")
        ));
        let tag_sums: Vec<String> = bounds
            .iter()
            .enumerate()
            .map(|(p, (cs, ce, _, _))| {
                format!("SUM(CASE WHEN created_at >= {cs} AND created_at < {ce} THEN 1 ELSE 0 END) AS t{p}")
            })
            .collect();
        queries.push(format!(
            "SELECT {column}, {tag}, {} FROM {table}, {tag_source} \
             WHERE created_at >= {earliest} AND created_at < {end} GROUP BY {column}, {tag}",
            tag_sums.join(", ")
        ));
    }
    queries
}

async fn time_sql_alternative(db: &Db, store: &BenchStore, queries: &[String]) -> Result<f64> {
    let started = Instant::now();
    match store {
        BenchStore::Sqlite(store, _) => {
            let url = format!("sqlite://{}?mode=ro", store.path().display());
            let pool = sqlx::SqlitePool::connect(&url).await?;
            for query in queries {
                let rows = pool.fetch_all(sqlx::AssertSqlSafe(query.as_str())).await?;
                std::hint::black_box(rows.len());
            }
            pool.close().await;
        }
        BenchStore::Postgres(store) => {
            let schema = store
                .schema()
                .context("the bench store has a schema")?
                .to_owned();
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .after_connect(move |conn, _| {
                    let set = format!("SET search_path TO \"{schema}\"");
                    Box::pin(async move {
                        conn.execute(sqlx::AssertSqlSafe(set)).await?;
                        Ok(())
                    })
                })
                .connect(&db.postgres_url)
                .await?;
            for query in queries {
                let rows = pool.fetch_all(sqlx::AssertSqlSafe(query.as_str())).await?;
                std::hint::black_box(rows.len());
            }
            pool.close().await;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

pub(crate) async fn aggregate(db: &Db, bench: AggregateBench) -> Result<Value> {
    let as_of: Timestamp = "2025-06-04T12:00:00Z".parse()?;
    let store = BenchStore::open(db).await?;
    let seeding = Instant::now();
    seed(&*store.store(), &bench, as_of).await?;
    eprintln!(
        "seeded {} records in {:.1} s",
        bench.records,
        seeding.elapsed().as_secs_f64()
    );
    let zone = tidings_core::Zone::parse("America/New_York")?;
    let job = AggregateJob::new(AggregateSettings {
        zone: zone.clone(),
        ..AggregateSettings::default()
    });
    let rss_before = rss_mib();
    reset_peak_rss();
    let mut seconds = Vec::new();
    let mut last = None;
    for attempt in 1..=bench.repeat.max(1) {
        let started = Instant::now();
        let summary = job
            .refresh(&*store.store(), as_of, None, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let took = started.elapsed().as_secs_f64();
        eprintln!("refresh {attempt}: {took:.3} s, {}", summary.to_json());
        seconds.push(took);
        last = Some(summary);
    }
    let peak = peak_rss_mib();
    let windows = periods::windows(as_of, zone.tz())?;
    let bounds: Vec<(i64, i64, i64, i64)> = windows
        .iter()
        .map(|w| {
            (
                w.current.start.as_millisecond(),
                w.current.end.as_millisecond(),
                w.previous.start.as_millisecond(),
                w.previous.end.as_millisecond(),
            )
        })
        .collect();
    let queries = sql_alternative(matches!(store, BenchStore::Postgres(_)), &bounds);
    let mut sql_seconds = Vec::new();
    for attempt in 1..=bench.repeat.max(1) {
        let took = time_sql_alternative(db, &store, &queries).await?;
        eprintln!("sql alternative {attempt}: {took:.3} s");
        sql_seconds.push(took);
    }
    let last = last.context("at least one refresh")?;
    let api = if bench.api_seconds > 0 {
        serve_stats(&store, &bench).await?
    } else {
        Value::Null
    };
    let result = json!({
        "bench": "aggregate",
        "backend": db.backend,
        "records": bench.records,
        "groups": bench.groups,
        "rows_scanned": last.snapshot.rows_scanned,
        "snapshot_rows": last.rows,
        "refresh_seconds_median": median(seconds.clone()),
        "refresh_seconds": seconds,
        "rss_before_mib": rss_before,
        "peak_rss_during_refresh_mib": peak,
        "sql_alternative_seconds_median": median(sql_seconds.clone()),
        "sql_alternative_seconds": sql_seconds,
        "api": api,
    });
    store.remove().await?;
    Ok(result)
}

/// `GET /api/stats` under `connections` clients, served from the snapshot just written.
async fn serve_stats(store: &BenchStore, bench: &AggregateBench) -> Result<Value> {
    use std::sync::Arc;
    use std::time::Duration;

    use tidings_core::{Clock, SystemClock, Zone};
    use tidings_engine::{Engine, EngineConfig, JobRegistry};
    use tidings_store::{ApiKeyCreateParams, ApiKeyRole};

    let store = store.store();
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry, tidings_jobs::WebhookSettings::default());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(
        store.clone(),
        clock.clone(),
        registry.clone(),
        EngineConfig::default(),
    );
    let key = tidings_api::keys::generate();
    store
        .api_key_create(ApiKeyCreateParams {
            name: "bench".to_owned(),
            role: ApiKeyRole::Read,
            prefix: key.prefix.clone(),
            hash: key.hash.clone(),
            now: clock.now(),
        })
        .await?;
    let state = tidings_api::ApiState::new(
        engine,
        tidings_api::ApiConfig::default(),
        tidings_engine::draft::DraftDefaults::new(Zone::utc(), None, registry),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server =
        tokio::spawn(async move { axum::serve(listener, tidings_api::router(state)).await });
    let mut results = Vec::new();
    for path in [
        "/api/stats?period=24h",
        "/api/stats?grouping=group&group=group-042&period=today",
    ] {
        let seconds = Duration::from_secs(bench.api_seconds);
        crate::api::load(
            addr,
            path,
            &key.token,
            bench.connections,
            Duration::from_secs(1),
        )
        .await?;
        let measured = crate::api::load(addr, path, &key.token, bench.connections, seconds).await?;
        eprintln!(
            "{path}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            measured["requests_per_second"], measured["p50_ms"], measured["p99_ms"]
        );
        results.push(json!({ "path": path, "connections": bench.connections, "result": measured }));
    }
    server.abort();
    let _ = server.await;
    Ok(Value::Array(results))
}
