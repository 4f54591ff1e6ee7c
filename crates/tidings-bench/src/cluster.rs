//! Several `tidings serve` processes on one PostgreSQL database (BENCHMARKS.md, "Several
//! instances on PostgreSQL").
//!
//! Every benchmark here creates a fresh database next to the one in `--postgres-url`, applies the
//! migrations, prepares its data straight through the store, then starts real `tidings serve`
//! release processes (the binary given by `--tidings`, each on its own port, with an empty
//! configuration file: no sources, no declared schedules) and reads the outcome back from the
//! `runs` and `run_attempts` tables. The database is dropped at the end.
//!
//! - `cluster-drain`: N queued `noop` runs, then I instances; runs/s from the first
//!   `started_at` to the last `finished_at`.
//! - `enqueue`: `POST /api/runs` against one instance, one client sending back to back, then C.
//! - `pickup`: `POST /api/runs` on instance A (its one slot held by a long `noop`) and the
//!   `started_at` of the run, which the idle instance B claims after a `NOTIFY`.
//! - `cluster-fire`: N schedules due in the same second and I instances; lateness as `fire`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool, Row};
use tidings_core::{Clock, RetryPolicy, RunTrigger, SystemClock};
use tidings_store::{RunEnqueueParams, Store};
use tidings_store_postgres::{PostgresOptions, PostgresStore};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::api::{find, read_response};
use crate::{create_schedules, daily_at, percentile};

/// The admin key every started instance accepts (`TIDINGS_API_KEY`).
const KEY: &str = "tk_cluster_bench_0123456789abcdef";

/// Where the database is and which `tidings` to start.
#[derive(clap::Args)]
pub(crate) struct ClusterArgs {
    /// PostgreSQL server; the benchmark creates (and drops) its own database there
    #[arg(
        long,
        env = "TIDINGS_TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// The `tidings` binary to start (release build)
    #[arg(long, default_value = "target/release/tidings")]
    tidings: PathBuf,
    /// `scheduler.concurrency` of each instance
    #[arg(long, default_value_t = 10)]
    concurrency: u32,
}

/// A fresh database and the `tidings serve` processes started on it.
struct Cluster {
    admin_url: String,
    name: String,
    url: String,
    dir: PathBuf,
    tidings: PathBuf,
    pool: PgPool,
    store: Arc<dyn Store>,
    servers: Vec<Server>,
}

struct Server {
    child: Child,
}

impl Drop for Server {
    /// An instance left over by a failed benchmark is killed, not left running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Cluster {
    async fn create(args: &ClusterArgs) -> Result<Cluster> {
        let name = format!("tidings_cluster_{}", std::process::id());
        let mut admin = PgConnection::connect(&args.postgres_url).await?;
        admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await?;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await?;
        admin.close().await?;
        let url = with_database(&args.postgres_url, &name)?;
        let store = PostgresStore::connect(
            &url,
            PostgresOptions {
                max_connections: 8,
                schema: None,
            },
        )
        .await?;
        store.migrate().await?;
        let pool = PgPool::connect(&url).await?;
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir)?;
        // An empty configuration: no sources, no declared schedules (`./tidings.toml` of the
        // repository would import the sample feedback).
        std::fs::write(dir.join("tidings.toml"), "")?;
        let tidings = std::fs::canonicalize(&args.tidings)
            .with_context(|| format!("the tidings binary {}", args.tidings.display()))?;
        Ok(Cluster {
            admin_url: args.postgres_url.clone(),
            name,
            url,
            dir,
            tidings,
            pool,
            store: Arc::new(store),
            servers: Vec::new(),
        })
    }

    /// Starts one `tidings serve` with `concurrency` and waits until `/readyz` answers 200.
    async fn start(&mut self, concurrency: u32) -> Result<SocketAddr> {
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?
        };
        let index = self.servers.len();
        let log = std::fs::File::create(self.dir.join(format!("serve-{index}.log")))?;
        let child = std::process::Command::new(&self.tidings)
            .current_dir(&self.dir)
            .arg("--config")
            .arg(self.dir.join("tidings.toml"))
            .arg("--log-format")
            .arg("text")
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--database-url")
            .arg(&self.url)
            .env("TIDINGS_API_KEY", KEY)
            .env("TIDINGS_SCHEDULER__CONCURRENCY", concurrency.to_string())
            .env("TIDINGS_SERVER__SHUTDOWN_GRACE", "1s")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.tidings.display()))?;
        self.servers.push(Server { child });
        let start = Instant::now();
        loop {
            if let Ok(mut stream) = TcpStream::connect(addr).await
                && let Ok((200, _)) = request(&mut stream, addr, "GET", "/readyz", None).await
            {
                return Ok(addr);
            }
            if let Some(status) = self.servers[index].child.try_wait()? {
                bail!(
                    "tidings serve exited with {status}; see {}",
                    self.dir.join(format!("serve-{index}.log")).display()
                );
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("tidings serve on {addr} not ready after 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM to every instance, then waits for them; drops the database.
    async fn remove(mut self) -> Result<()> {
        for server in &self.servers {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(server.child.id().to_string())
                .status();
        }
        for server in &mut self.servers {
            let deadline = Instant::now() + Duration::from_secs(10);
            while server.child.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    server.child.kill()?;
                    server.child.wait()?;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.pool.close().await;
        drop(self.store);
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .await?;
        admin.close().await?;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }

    /// Waits until `succeeded` runs have succeeded and at most `active` are queued or running.
    async fn wait_succeeded(&self, succeeded: i64, active: i64, limit: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let row = sqlx::query(
                "SELECT count(*) FILTER (WHERE state = 'succeeded'), \
                 count(*) FILTER (WHERE state IN ('queued', 'running')) FROM runs",
            )
            .fetch_one(&self.pool)
            .await?;
            let (done, now_active): (i64, i64) = (row.get(0), row.get(1));
            if done >= succeeded && now_active <= active {
                return Ok(());
            }
            if start.elapsed() > limit {
                bail!("{done} of {succeeded} runs succeeded, {now_active} active after {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs claimed per instance (first attempts), most first.
    async fn claims_per_instance(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT count(*) FROM run_attempts WHERE number = 1 GROUP BY instance ORDER BY 1 DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|row| row.get::<i64, _>(0)).collect())
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let rest = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
        .context("a postgres:// URL")?;
    let host = rest.split_once('/').map_or(rest, |(host, _)| host);
    let mut out = format!("postgres://{host}/{name}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// One HTTP/1.1 request on a keep-alive connection; the status and the body.
async fn request(
    stream: &mut TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, Vec<u8>)> {
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {KEY}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let mut buffer = Vec::with_capacity(4096);
    let status = read_response(stream, &mut buffer).await?;
    let at = find(&buffer, b"\r\n\r\n").context("response head")? + 4;
    Ok((status, buffer[at..].to_vec()))
}

const NOOP: &str = r#"{"kind":"noop","params":{}}"#;

/// `POST /api/runs` of a `noop`; the new run's id.
async fn post_noop(stream: &mut TcpStream, addr: SocketAddr, body: &str) -> Result<i64> {
    let (status, answer) = request(stream, addr, "POST", "/api/runs", Some(body)).await?;
    if status != 202 {
        bail!(
            "POST /api/runs answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    let run: serde_json::Value = serde_json::from_slice(&answer)?;
    run["id"].as_i64().context("a run without id")
}

fn millis(sorted: &[f64]) -> serde_json::Value {
    json!({
        "count": sorted.len(),
        "p50": percentile(sorted, 50.0),
        "p90": percentile(sorted, 90.0),
        "p99": percentile(sorted, 99.0),
        "max": sorted.last().copied().unwrap_or(f64::NAN),
    })
}

/// `count` queued `noop` runs (params `{}`), written through the store by 8 tasks.
async fn enqueue_noops(store: &Arc<dyn Store>, count: u32) -> Result<()> {
    const WRITERS: u32 = 8;
    let now = SystemClock.now();
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = writer;
            while i < count {
                store
                    .run_enqueue(RunEnqueueParams {
                        schedule_id: None,
                        kind: "noop".to_owned(),
                        params: json!({}),
                        trigger: RunTrigger::Api,
                        retry: RetryPolicy::default(),
                        timeout: SignedDuration::from_secs(60),
                        run_after: now,
                        now,
                        max_instances: None,
                        parent_run_id: None,
                    })
                    .await?;
                i += WRITERS;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

pub(crate) async fn drain(
    args: &ClusterArgs,
    runs: u32,
    instances: usize,
) -> Result<serde_json::Value> {
    let mut cluster = Cluster::create(args).await?;
    let queued = Instant::now();
    enqueue_noops(&cluster.store, runs).await?;
    eprintln!(
        "queued {runs} runs in {:.1}s; starting {instances} instances",
        queued.elapsed().as_secs_f64()
    );
    for _ in 0..instances {
        cluster.start(args.concurrency).await?;
    }
    cluster
        .wait_succeeded(i64::from(runs), 0, Duration::from_secs(600))
        .await?;
    let row = sqlx::query(
        "SELECT count(*) FILTER (WHERE state = 'succeeded'), min(started_at), max(finished_at) FROM runs",
    )
    .fetch_one(&cluster.pool)
    .await?;
    let (succeeded, first, last): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    let seconds = (last - first) as f64 / 1000.0;
    let per_instance = cluster.claims_per_instance().await?;
    cluster.remove().await?;
    Ok(json!({
        "benchmark": "cluster-drain",
        "runs": runs,
        "instances": instances,
        "concurrency": args.concurrency,
        "succeeded": succeeded,
        "claimed_per_instance": per_instance,
        "seconds": seconds,
        "runs_per_second": succeeded as f64 / seconds,
    }))
}

/// `clients` connections each sending `per_client` `POST /api/runs` back to back.
async fn post_load(
    addr: SocketAddr,
    clients: usize,
    per_client: usize,
) -> Result<serde_json::Value> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let mut latencies = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let sent = Instant::now();
                post_noop(&mut stream, addr, NOOP).await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "clients": clients,
        "requests": latencies.len(),
        "seconds": seconds,
        "requests_per_second": latencies.len() as f64 / seconds,
        "latency_ms": millis(&latencies),
    }))
}

/// One client sending `runs` `noop` runs back to back through `POST /api/runs/batch`, `batch`
/// to a request.
async fn post_batches(addr: SocketAddr, runs: usize, batch: usize) -> Result<serde_json::Value> {
    let body = format!(r#"{{"runs":[{}]}}"#, vec![NOOP; batch].join(","));
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let start = Instant::now();
    let mut latencies = Vec::new();
    for _ in 0..runs / batch {
        let sent = Instant::now();
        let (status, answer) =
            request(&mut stream, addr, "POST", "/api/runs/batch", Some(&body)).await?;
        if status != 202 {
            bail!(
                "POST /api/runs/batch answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        let answer: serde_json::Value = serde_json::from_slice(&answer)?;
        if answer["count"].as_u64() != Some(batch as u64) {
            bail!("POST /api/runs/batch queued {} of {batch}", answer["count"]);
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let queued = latencies.len() * batch;
    Ok(json!({
        "clients": 1,
        "batch": batch,
        "requests": latencies.len(),
        "runs": queued,
        "seconds": seconds,
        "runs_per_second": queued as f64 / seconds,
        "latency_ms": millis(&latencies),
    }))
}

pub(crate) async fn enqueue(
    args: &ClusterArgs,
    requests: usize,
    clients: usize,
    batch: usize,
    batch_runs: usize,
) -> Result<serde_json::Value> {
    let mut cluster = Cluster::create(args).await?;
    let addr = cluster.start(args.concurrency).await?;
    // Warm-up: connections, the key cache.
    post_load(addr, clients, 50).await?;
    let sequential = post_load(addr, 1, requests).await?;
    eprintln!(
        "1 client: {:.0} requests/s",
        sequential["requests_per_second"]
    );
    let concurrent = post_load(addr, clients, requests / clients).await?;
    eprintln!(
        "{clients} clients: {:.0} requests/s",
        concurrent["requests_per_second"]
    );
    let batched = post_batches(addr, batch_runs, batch).await?;
    eprintln!(
        "1 client, batches of {batch}: {:.0} runs/s",
        batched["runs_per_second"]
    );
    let expected =
        (50 * clients + requests + requests / clients * clients + batch_runs / batch * batch)
            as i64;
    cluster
        .wait_succeeded(expected, 0, Duration::from_secs(120))
        .await?;
    cluster.remove().await?;
    Ok(json!({
        "benchmark": "enqueue",
        "concurrency": args.concurrency,
        "sequential": sequential,
        "concurrent": concurrent,
        "batched": batched,
        "runs_succeeded": expected,
    }))
}

/// A small deterministic generator for the gaps between requests.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

pub(crate) async fn pickup(args: &ClusterArgs, runs: usize) -> Result<serde_json::Value> {
    let mut cluster = Cluster::create(args).await?;
    // A: one slot, held by an hour-long noop, so that it cannot claim: the API-only instance.
    let a = cluster.start(1).await?;
    let mut stream_a = TcpStream::connect(a).await?;
    stream_a.set_nodelay(true)?;
    let blocker = post_noop(
        &mut stream_a,
        a,
        r#"{"kind":"noop","params":{"sleep_ms":3600000}}"#,
    )
    .await?;
    let blocker_instance = loop {
        let row = sqlx::query("SELECT instance FROM run_attempts WHERE run_id = $1")
            .bind(blocker)
            .fetch_optional(&cluster.pool)
            .await?;
        if let Some(row) = row {
            break row.get::<String, _>(0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // B: idle workers, woken by the NOTIFY of A's enqueue.
    cluster.start(args.concurrency).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut sent = Vec::with_capacity(runs);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..runs {
        let at = SystemClock.now();
        let id = post_noop(&mut stream_a, a, NOOP).await?;
        sent.push((id, at));
        tokio::time::sleep(Duration::from_millis(10 + rng.below(41))).await;
    }
    // The blocker stays running on A.
    cluster
        .wait_succeeded(runs as i64, 1, Duration::from_secs(60))
        .await?;
    let mut from_post = Vec::with_capacity(runs);
    let mut from_created = Vec::with_capacity(runs);
    let mut on_a = 0;
    for (id, at) in &sent {
        let row = sqlx::query(
            "SELECT r.created_at, r.started_at, a.instance FROM runs r \
             JOIN run_attempts a ON a.run_id = r.id AND a.number = 1 WHERE r.id = $1",
        )
        .bind(id)
        .fetch_one(&cluster.pool)
        .await?;
        let (created, started, instance): (i64, i64, String) = (row.get(0), row.get(1), row.get(2));
        if instance == blocker_instance {
            on_a += 1;
        }
        from_post.push((started as f64) - at.as_microsecond() as f64 / 1000.0);
        from_created.push((started - created) as f64);
    }
    from_post.sort_by(f64::total_cmp);
    from_created.sort_by(f64::total_cmp);
    cluster.remove().await?;
    Ok(json!({
        "benchmark": "pickup",
        "runs": runs,
        "claimed_by_a": on_a,
        "claimed_by_b": runs - on_a,
        "post_to_started_ms": millis(&from_post),
        "created_to_started_ms": millis(&from_created),
    }))
}

pub(crate) async fn fire(
    args: &ClusterArgs,
    schedules: u32,
    instances: usize,
) -> Result<serde_json::Value> {
    let mut cluster = Cluster::create(args).await?;
    let setup = Instant::now();
    // Creating 10,000 schedules takes a few seconds; starting the instances about one each.
    let due = Timestamp::from_second(
        SystemClock.now().as_second() + 8 + i64::from(schedules / 1000) + instances as i64,
    )?;
    create_schedules(&cluster.store, schedules, &daily_at(due)?).await?;
    for _ in 0..instances {
        cluster.start(args.concurrency).await?;
    }
    if SystemClock.now() >= due {
        let took = setup.elapsed();
        cluster.remove().await?;
        bail!("setup took {took:?}, past the schedules' due time; retry");
    }
    eprintln!(
        "created {schedules} schedules and started {instances} instances in {:.1}s; all due at {due}",
        setup.elapsed().as_secs_f64()
    );
    let until_due = due.duration_since(SystemClock.now());
    tokio::time::sleep(Duration::try_from(until_due).unwrap_or_default()).await;
    cluster
        .wait_succeeded(i64::from(schedules), 0, Duration::from_secs(120))
        .await?;
    let rows = sqlx::query(
        "SELECT started_at - scheduled_for, finished_at FROM runs \
         WHERE scheduled_for IS NOT NULL",
    )
    .fetch_all(&cluster.pool)
    .await?;
    let mut started: Vec<f64> = rows.iter().map(|r| r.get::<i64, _>(0) as f64).collect();
    let last = rows
        .iter()
        .map(|r| r.get::<i64, _>(1))
        .max()
        .context("no runs")?;
    started.sort_by(f64::total_cmp);
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) - count(DISTINCT (schedule_id, scheduled_for)) FROM runs \
         WHERE scheduled_for IS NOT NULL",
    )
    .fetch_one(&cluster.pool)
    .await?;
    let per_instance = cluster.claims_per_instance().await?;
    cluster.remove().await?;
    Ok(json!({
        "benchmark": "cluster-fire",
        "schedules": schedules,
        "instances": instances,
        "concurrency": args.concurrency,
        "runs": rows.len(),
        "duplicates": duplicates,
        "claimed_per_instance": per_instance,
        "lateness_ms": millis(&started),
        "all_succeeded_after_ms": (last - due.as_millisecond()) as f64,
    }))
}
