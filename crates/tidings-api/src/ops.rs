//! For operators: `/healthz` (the process is alive), `/readyz` (the store answers and the
//! scheduler runs), `/metrics` (Prometheus text) and `/api/status` (what this instance is doing).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tidings_core::RunState;
use tidings_store::{RunListParams, ScheduleListParams};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::state::{ApiState, SchedulerState};
use crate::views::RunView;

pub(crate) fn status_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(status))
}

pub(crate) fn health_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// Buckets of the latency histograms, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's Prometheus recorder, installed at the first call; every later call (another
/// app in the same test process) gets the same handle.
pub fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics are off: cannot install the recorder");
                    None
                }
            }
        })
        .clone()
}

/// Routes polled by probes and scrapers: their access lines are at debug level, so that a
/// load balancer checking every few seconds does not fill the log.
const QUIET_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The access log and the HTTP metrics: every request is counted by route template, method and
/// status, timed, and logged in one line (inside the request's span, so with its method, path
/// and request id).
pub(crate) async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if QUIET_ROUTES.contains(&route.as_str()) {
        tracing::debug!(status, latency_ms, "served");
    } else {
        tracing::info!(status, latency_ms, "served");
    }
    metrics::counter!(
        "tidings_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "tidings_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(elapsed.as_secs_f64());
    response
}

/// `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process is up and serving. Needs no key.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health))
)]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Each readiness check: `ok`, or why not.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// The store answered a query.
    pub store: String,
    /// The scheduler is running in this process.
    pub scheduler: String,
}

/// Readiness: the store answers and the scheduler runs (migrations are applied before the
/// server starts). `503` with the failing check otherwise. Needs no key.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready; the failing check says why", body = Readiness),
    )
)]
async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Readiness>) {
    const PING_TIMEOUT: Duration = Duration::from_secs(2);
    let store = match tokio::time::timeout(PING_TIMEOUT, state.engine().store().ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(error)) => format!("unreachable: {error}"),
        Err(_) => "unreachable: no answer within 2s".to_owned(),
    };
    let scheduler = match state.scheduler() {
        SchedulerState::Running { .. } => "ok".to_owned(),
        SchedulerState::Starting => "starting".to_owned(),
        SchedulerState::Stopping => "stopping".to_owned(),
        SchedulerState::Failed { reason } => format!("failed to start: {reason}"),
    };
    let ready = store == "ok" && scheduler == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "unavailable" },
            store,
            scheduler,
        }),
    )
}

/// Prometheus metrics: HTTP requests by route, method and status with latency histograms;
/// runs by kind and state; run durations; fire lateness; occurrences queued, skipped and
/// missed; queue depth.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 404, description = "Metrics are off", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let Some(handle) = &state.inner.metrics else {
        return Err(ApiError::NotFound(
            "metrics are off in this process".to_owned(),
        ));
    };
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response())
}

/// A schedule's next occurrence.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpcomingView {
    pub id: i64,
    pub name: String,
    pub next_run_at: Timestamp,
}

/// Schedules in the store.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleCounts {
    pub total: u64,
    pub enabled: u64,
    /// The enabled schedules due soonest, at most 10.
    pub upcoming: Vec<UpcomingView>,
}

/// A `tidings serve` process sharing the store.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceView {
    /// `<host>-<pid>-<4 hex digits>`: the lease owner of the runs it executes.
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub version: String,
    pub started_at: Timestamp,
    /// Its latest heartbeat (every third of `scheduler.lease`).
    pub last_seen_at: Timestamp,
    /// Seconds since `last_seen_at`.
    pub seen_seconds_ago: f64,
    /// This is the instance answering.
    pub this: bool,
}

/// What this instance is and is doing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub version: &'static str,
    /// This process's id, recorded as the lease owner of the runs it executes.
    pub instance: String,
    pub started_at: Timestamp,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// The database, without credentials.
    pub database: String,
    pub scheduler: SchedulerState,
    pub schedules: ScheduleCounts,
    /// Queued runs whose time has come.
    pub queue_depth: u64,
    /// Runs running now, on any instance (at most 100).
    pub running: Vec<RunView>,
    /// The instances registered in the store, oldest first: every live `tidings serve` on
    /// this database (instances not seen for a minute or three leases are pruned).
    pub instances: Vec<InstanceView>,
}

/// How many upcoming schedules the status lists.
const UPCOMING: usize = 10;

/// This instance: version, id, store, scheduler state, schedules with their next run, queue
/// depth and running runs.
#[utoipa::path(
    get, path = "/api/status", tag = "operations",
    responses(
        (status = 200, description = "Status", body = Status),
        (status = 503, description = "The store cannot be reached", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn status(State(state): State<ApiState>) -> Result<Json<Status>, ApiError> {
    let engine = state.engine();
    let store = engine.store();
    let mut counts = ScheduleCounts {
        total: 0,
        enabled: 0,
        upcoming: Vec::new(),
    };
    let mut cursor = None;
    loop {
        let page = store
            .schedule_list(ScheduleListParams {
                limit: 1000,
                cursor,
                ..ScheduleListParams::default()
            })
            .await?;
        counts.total += page.items.len() as u64;
        for schedule in page.items.into_iter().filter(|s| s.enabled) {
            counts.enabled += 1;
            if let Some(next_run_at) = schedule.next_run_at {
                counts.upcoming.push(UpcomingView {
                    id: schedule.id.0,
                    name: schedule.name.to_string(),
                    next_run_at,
                });
            }
        }
        counts.upcoming.sort_by_key(|u| u.next_run_at);
        counts.upcoming.truncate(UPCOMING);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let queue_depth = store.run_queue_depth(engine.clock().now()).await?;
    let running = store
        .run_list(RunListParams {
            states: vec![RunState::Running],
            limit: 100,
            ..RunListParams::default()
        })
        .await?;
    let now = engine.clock().now();
    let instances = store
        .instance_list()
        .await?
        .into_iter()
        .map(|instance| InstanceView {
            this: instance.id == engine.config().instance,
            seen_seconds_ago: now
                .duration_since(instance.last_seen_at)
                .as_secs_f64()
                .max(0.0),
            id: instance.id,
            host: instance.host,
            pid: instance.pid,
            version: instance.version,
            started_at: instance.started_at,
            last_seen_at: instance.last_seen_at,
        })
        .collect();
    Ok(Json(Status {
        instances,
        version: env!("CARGO_PKG_VERSION"),
        instance: engine.config().instance.clone(),
        started_at: state.inner.started_at,
        store: store.kind().as_str(),
        database: state.inner.config.database.clone(),
        scheduler: state.scheduler(),
        schedules: counts,
        queue_depth,
        running: running.items.into_iter().map(RunView::from).collect(),
    }))
}
