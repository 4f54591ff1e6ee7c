//! `api`: the REST API's list endpoints under load. A store with N schedules and M runs, the
//! API served in this process on a free port, and C keep-alive connections each sending
//! `GET PATH` back to back for a fixed time; throughput and latency percentiles per path.
//!
//! The client is a minimal HTTP/1.1 keep-alive loop over a `TcpStream` (no TLS, no pooling
//! layer), so that what is measured is the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jiff::SignedDuration;
use serde_json::json;
use tidings_core::{
    Clock, CronExpr, CronTrigger, RetryPolicy, RunTrigger, SystemClock, Trigger, Zone,
};
use tidings_engine::{Engine, EngineConfig, JobRegistry};
use tidings_store::{ApiKeyCreateParams, ApiKeyRole, RunEnqueueParams, ScheduleId, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{BenchStore, Db, create_schedules, percentile};

/// What to measure.
pub(crate) struct ApiBench {
    pub(crate) schedules: u32,
    pub(crate) runs: u32,
    pub(crate) connections: usize,
    pub(crate) seconds: u64,
}

pub(crate) async fn api(db: &Db, bench: ApiBench) -> Result<serde_json::Value> {
    let store_handle = BenchStore::open(db).await?;
    let store = store_handle.store();
    let seeded = Instant::now();
    let trigger = Trigger::Cron(CronTrigger::new(CronExpr::parse("0 3 * * *")?, Zone::utc()));
    create_schedules(&store, bench.schedules, &trigger).await?;
    enqueue_runs(&store, bench.runs, bench.schedules).await?;
    eprintln!(
        "seeded {} schedules and {} runs in {:.1}s",
        bench.schedules,
        bench.runs,
        seeded.elapsed().as_secs_f64()
    );

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
    for path in ["/api/schedules?limit=100", "/api/runs?limit=100"] {
        // Warm-up: caches, connections, the key cache.
        load(
            addr,
            path,
            &key.token,
            bench.connections,
            Duration::from_secs(1),
        )
        .await?;
        let measured = load(
            addr,
            path,
            &key.token,
            bench.connections,
            Duration::from_secs(bench.seconds),
        )
        .await?;
        eprintln!(
            "{path}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            measured["requests_per_second"], measured["p50_ms"], measured["p99_ms"]
        );
        results.push(json!({ "path": path, "result": measured }));
    }
    server.abort();
    // The aborted server drops its state (and its handle on the store) when it ends.
    let _ = server.await;
    drop(store);
    store_handle.remove().await?;
    Ok(json!({
        "benchmark": "api",
        "backend": db.backend,
        "schedules": bench.schedules,
        "runs": bench.runs,
        "connections": bench.connections,
        "seconds": bench.seconds,
        "paths": results,
    }))
}

/// `count` queued runs spread over the schedules, written by a few tasks at once.
async fn enqueue_runs(store: &Arc<dyn Store>, count: u32, schedules: u32) -> Result<()> {
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
                        schedule_id: Some(ScheduleId(i64::from(i % schedules.max(1)) + 1)),
                        kind: "noop".to_owned(),
                        params: json!({}),
                        trigger: RunTrigger::Manual,
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

/// `connections` clients sending `GET path` back to back for `time`.
pub(crate) async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    key: &str,
    connections: usize,
    time: Duration,
) -> Result<serde_json::Value> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\nAccept: application/json\r\n\r\n"
    );
    let start = Instant::now();
    let deadline = start + time;
    let mut clients = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        clients.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let mut latencies = Vec::new();
            let mut buffer = Vec::with_capacity(64 * 1024);
            while Instant::now() < deadline {
                let sent = Instant::now();
                stream.write_all(request.as_bytes()).await?;
                let status = read_response(&mut stream, &mut buffer).await?;
                if status != 200 {
                    bail!("{status} from the API");
                }
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(json!({
        "requests": latencies.len(),
        "requests_per_second": latencies.len() as f64 / elapsed,
        "p50_ms": percentile(&latencies, 50.0),
        "p90_ms": percentile(&latencies, 90.0),
        "p99_ms": percentile(&latencies, 99.0),
        "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
    }))
}

/// Reads one response with a `Content-Length` body; returns its status.
pub(crate) async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<u16> {
    buffer.clear();
    let mut chunk = vec![0u8; 16 * 1024];
    let header_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buffer[..header_end]).context("response head")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("status line")?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .context("a response without content-length")?;
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection mid-body");
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
