//! The configured sources and their cache: `/api/sources` (what is configured, how many records
//! each has), `/api/cache/status` (how fresh each source's cache is, its last syncs, what runs
//! next), and the routes that queue a `sync` run: `POST /api/sources/{name}/sync` and seed
//! 000's `/api/cache/update-full` and `/api/cache/update-incremental`.
//!
//! The last syncs are read from the runs of kind `sync` (their params name the source and the
//! mode; no mode is incremental, as the job reads it), the next ones from the enabled `sync`
//! schedules, and freshness from the source's state, which only a successful sync records.

// utoipa's `params(Type)` expands to a qualified path.
#![allow(unused_qualifications)]

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tidings_core::RunState;
use tidings_store::{Run, RunListParams, ScheduleListParams, SourceState};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::{ApiState, SourceInfo};
use crate::views::{Page, RunView};

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(source_list))
        .routes(routes!(source_sync))
        .routes(routes!(cache_status))
        .routes(routes!(cache_update_full))
        .routes(routes!(cache_update_incremental))
}

/// The job kind that syncs a source.
const SYNC_KIND: &str = "sync";

/// How many ended sync runs `/api/cache/status` looks through for each source's last syncs.
const RUNS_SCANNED: u32 = 5_000;

/// A sync's mode, as the `sync` job's params spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    Full,
    Incremental,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }

    /// The mode of a `sync` run or schedule's params; absent is incremental, as the job has it.
    fn of_params(params: &Value) -> Option<Mode> {
        match params.get("mode") {
            None | Some(Value::Null) => Some(Mode::Incremental),
            Some(mode) => match mode.as_str() {
                Some("incremental") => Some(Mode::Incremental),
                Some("full") => Some(Mode::Full),
                _ => None,
            },
        }
    }
}

/// The source a `sync` run or schedule's params name.
fn source_of(params: &Value) -> Option<&str> {
    params.get("source").and_then(Value::as_str)
}

/// A configured source.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// Its name under `[sources.NAME]`.
    pub name: String,
    /// `csv` or `airtable`.
    #[schema(example = "csv")]
    pub kind: String,
    /// The CSV path, or the Airtable base and table.
    pub location: String,
    /// Its cache is stale when no sync succeeded for this many seconds.
    pub stale_after_seconds: u64,
    /// The source of `/api/cache/update-full` and `/api/cache/update-incremental`.
    pub default: bool,
    /// Records cached.
    pub records: u64,
    /// When a full sync last succeeded.
    pub last_full_at: Option<Timestamp>,
    /// When an incremental sync last succeeded.
    pub last_incremental_at: Option<Timestamp>,
    /// The latest modification time seen; the next incremental sync starts from it.
    pub watermark: Option<Timestamp>,
}

/// The configured sources, with their record counts and last successful syncs.
#[utoipa::path(
    get, path = "/api/sources", tag = "sources",
    responses(
        (status = 200, description = "Every configured source, in configuration order", body = Page<SourceView>),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn source_list(State(state): State<ApiState>) -> Result<Json<Page<SourceView>>, ApiError> {
    let store = state.engine().store();
    let default = default_source(&state).map(|s| s.name.clone());
    let mut items = Vec::new();
    for source in &state.inner.config.sources {
        let records = store.feedback_count(Some(&source.name)).await?;
        let known = store.source_state_get(&source.name).await?;
        items.push(SourceView {
            name: source.name.clone(),
            kind: source.kind.clone(),
            location: source.location.clone(),
            stale_after_seconds: source.stale_after.as_secs(),
            default: default.as_deref() == Some(source.name.as_str()),
            records,
            last_full_at: known.as_ref().and_then(|k| k.last_full_at),
            last_incremental_at: known.as_ref().and_then(|k| k.last_incremental_at),
            watermark: known.and_then(|k| k.watermark),
        });
    }
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// The source of seed 000's aliases: `default_source`, else the first configured.
fn default_source(state: &ApiState) -> Option<&SourceInfo> {
    let config = &state.inner.config;
    match &config.default_source {
        Some(name) => state.source(name),
        None => config.sources.first(),
    }
}

/// The mode of `POST /api/sources/{name}/sync`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// `incremental` (default: records changed since the last sync, nothing deleted) or
    /// `full` (everything; records gone from the source are deleted).
    mode: Option<String>,
}

/// Queue a sync of a source now: `202` with the run (as `POST /api/runs` answers), unless a
/// sync of that source is already queued or running: then `409` with it in `runs`.
#[utoipa::path(
    post, path = "/api/sources/{name}/sync", tag = "sources",
    params(("name" = String, Path, description = "The source's name"), SyncQuery),
    responses(
        (status = 202, description = "The sync run, queued", body = RunView),
        (status = 404, description = "No such source; the detail lists the configured ones", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A sync of this source is queued or running; `runs` lists it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown mode", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn source_sync(
    State(state): State<ApiState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<SyncQuery>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let Some(source) = state.source(&name) else {
        let names: Vec<&str> = state
            .inner
            .config
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        return Err(ApiError::NotFound(if names.is_empty() {
            format!(
                "no source is named `{name}`: no sources are configured; add one under [sources.NAME] in tidings.toml"
            )
        } else {
            format!(
                "no source is named `{name}`; configured sources: {}",
                names.join(", ")
            )
        }));
    };
    let mode = match query.mode.as_deref().map(str::trim) {
        None | Some("" | "incremental") => Mode::Incremental,
        Some("full") => Mode::Full,
        Some(other) => {
            return Err(ApiError::invalid(
                "mode",
                format!("unknown mode `{other}`; use `full` or `incremental`"),
            ));
        }
    };
    queue_sync(&state, source, mode).await
}

/// Seed 000's "refresh everything now": a full sync of the default source.
#[utoipa::path(
    post, path = "/api/cache/update-full", tag = "sources",
    responses(
        (status = 202, description = "The full sync run, queued", body = RunView),
        (status = 404, description = "No source is configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A sync of the source is queued or running; `runs` lists it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn cache_update_full(
    State(state): State<ApiState>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let source = default_or_not_found(&state)?;
    queue_sync(&state, source, Mode::Full).await
}

/// Seed 000's "fetch what changed": an incremental sync of the default source.
#[utoipa::path(
    post, path = "/api/cache/update-incremental", tag = "sources",
    responses(
        (status = 202, description = "The incremental sync run, queued", body = RunView),
        (status = 404, description = "No source is configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A sync of the source is queued or running; `runs` lists it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn cache_update_incremental(
    State(state): State<ApiState>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let source = default_or_not_found(&state)?;
    queue_sync(&state, source, Mode::Incremental).await
}

fn default_or_not_found(state: &ApiState) -> Result<&SourceInfo, ApiError> {
    default_source(state).ok_or_else(|| {
        ApiError::NotFound(match &state.inner.config.default_source {
            Some(name) => format!(
                "the default source `{name}` is not configured; add it under [sources.NAME] in tidings.toml"
            ),
            None => {
                "no sources are configured; add one under [sources.NAME] in tidings.toml".to_owned()
            }
        })
    })
}

/// The `sync` runs queued or running, newest first.
async fn active_syncs(state: &ApiState) -> Result<Vec<Run>, ApiError> {
    let page = state
        .engine()
        .store()
        .run_list(RunListParams {
            kind: Some(SYNC_KIND.to_owned()),
            states: vec![RunState::Queued, RunState::Running],
            limit: 1000,
            ..RunListParams::default()
        })
        .await?;
    Ok(page.items)
}

/// Queues a `sync` of `source` in `mode` with the kind's retry and timeout, unless one is
/// queued or running. (Two requests at the same instant may both queue one; the second run
/// then finds nothing new to do.)
async fn queue_sync(
    state: &ApiState,
    source: &SourceInfo,
    mode: Mode,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let busy: Vec<RunView> = active_syncs(state)
        .await?
        .into_iter()
        .filter(|run| source_of(&run.params) == Some(source.name.as_str()))
        .map(RunView::from)
        .collect();
    if let Some(run) = busy.first() {
        return Err(ApiError::Conflict {
            detail: format!(
                "a sync of source `{}` is already {} (run {}); wait for it to end",
                source.name,
                run.state.as_str(),
                run.id
            ),
            extra: Some(("runs", serde_json::to_value(&busy).unwrap_or_default())),
        });
    }
    let engine = state.engine();
    if engine.registry().get(SYNC_KIND).is_none() {
        return Err(ApiError::Internal(
            "the `sync` job kind is not registered".to_owned(),
        ));
    }
    let defaults = engine.registry().defaults(SYNC_KIND);
    let run = engine
        .run_enqueue(
            SYNC_KIND,
            json!({"source": source.name, "mode": mode.as_str()}),
            defaults.retry,
            defaults.timeout,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// A sync run that ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncRunView {
    pub run_id: i64,
    /// `succeeded`, `failed`, `timed_out` or `cancelled`.
    #[schema(value_type = String, example = "succeeded")]
    pub state: RunState,
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// What the job returned (`inserted`, `updated`, `deleted`, …).
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<&Run> for SyncRunView {
    fn from(run: &Run) -> SyncRunView {
        SyncRunView {
            run_id: run.id.0,
            state: run.state,
            started_at: run.started_at,
            finished_at: run.finished_at,
            summary: run.summary.clone(),
            error: run.error.clone(),
        }
    }
}

/// One source's cache.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceCacheStatus {
    pub source: String,
    /// `csv` or `airtable`.
    pub kind: String,
    /// `fresh` (a sync succeeded within `stale_after_seconds`), `stale`, or `never_synced`.
    #[schema(example = "fresh")]
    pub status: &'static str,
    /// Records cached.
    pub records: u64,
    /// When a sync of any mode last succeeded: when the cache was last updated.
    pub last_updated_at: Option<Timestamp>,
    /// No sync succeeded within `stale_after_seconds` (or ever).
    pub stale: bool,
    pub stale_after_seconds: u64,
    /// A sync of this source is queued or running: `sync_run_id`.
    pub syncing: bool,
    /// The sync queued or running.
    pub sync_run_id: Option<i64>,
    /// The latest full sync that ended, however it ended.
    pub last_full: Option<SyncRunView>,
    /// The latest incremental sync that ended, however it ended.
    pub last_incremental: Option<SyncRunView>,
    /// The error of the latest sync that ended, when it did not succeed.
    pub last_error: Option<String>,
    /// The latest modification time seen; the next incremental sync starts from it.
    pub watermark: Option<Timestamp>,
    /// When an enabled `sync` schedule next runs a full sync of this source.
    pub next_full_at: Option<Timestamp>,
    /// When an enabled `sync` schedule next runs an incremental sync of this source.
    pub next_incremental_at: Option<Timestamp>,
}

/// The whole cache, as seed 000's frontend shows it: its status, total records and last
/// update time, then each source.
#[derive(Debug, Serialize, ToSchema)]
pub struct CacheStatus {
    /// `fresh` (every source fresh), `stale` (a source is stale or never synced), or
    /// `unconfigured` (no sources).
    #[schema(example = "fresh")]
    pub status: &'static str,
    /// Records cached, all sources together.
    pub total_records: u64,
    /// When a sync of any source last succeeded.
    pub last_updated_at: Option<Timestamp>,
    /// A sync of some source is queued or running.
    pub syncing: bool,
    /// When this answer was made.
    pub generated_at: Timestamp,
    pub sources: Vec<SourceCacheStatus>,
}

/// The latest ended sync runs of a source, by mode.
#[derive(Clone, Default)]
struct LastSyncs {
    full: Option<SyncRunView>,
    incremental: Option<SyncRunView>,
    /// The latest of either mode.
    latest: Option<SyncRunView>,
}

/// How fresh the cache is, source by source: records, last syncs, errors, next scheduled
/// syncs and whether a sync is under way.
#[utoipa::path(
    get, path = "/api/cache/status", tag = "sources",
    responses(
        (status = 200, description = "The cache's status", body = CacheStatus),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn cache_status(State(state): State<ApiState>) -> Result<Json<CacheStatus>, ApiError> {
    let store = state.engine().store();
    let now = state.engine().clock().now();
    let sources = &state.inner.config.sources;
    let last = last_syncs(&state, sources).await?;
    let next = next_syncs(&state).await?;
    let active = active_syncs(&state).await?;
    let mut views = Vec::with_capacity(sources.len());
    for source in sources {
        let records = store.feedback_count(Some(&source.name)).await?;
        let known = store.source_state_get(&source.name).await?;
        let last_updated_at = known.as_ref().and_then(last_success);
        let stale = last_updated_at.is_none_or(|at| {
            now.duration_since(at)
                > SignedDuration::try_from(source.stale_after).unwrap_or(SignedDuration::MAX)
        });
        // The run that started (or will start) first: a running one, else the oldest queued.
        let sync_run = active
            .iter()
            .filter(|run| source_of(&run.params) == Some(source.name.as_str()))
            .min_by_key(|run| (run.state != RunState::Running, run.id));
        let syncs = last.get(&source.name).cloned().unwrap_or_default();
        let next_at = |mode| next.get(&(source.name.clone(), mode)).copied();
        views.push(SourceCacheStatus {
            source: source.name.clone(),
            kind: source.kind.clone(),
            status: match (last_updated_at, stale) {
                (None, _) => "never_synced",
                (Some(_), true) => "stale",
                (Some(_), false) => "fresh",
            },
            records,
            last_updated_at,
            stale,
            stale_after_seconds: source.stale_after.as_secs(),
            syncing: sync_run.is_some(),
            sync_run_id: sync_run.map(|run| run.id.0),
            last_error: syncs
                .latest
                .as_ref()
                .filter(|run| run.state != RunState::Succeeded)
                .and_then(|run| run.error.clone()),
            last_full: syncs.full,
            last_incremental: syncs.incremental,
            watermark: known.and_then(|k| k.watermark),
            next_full_at: next_at(Mode::Full),
            next_incremental_at: next_at(Mode::Incremental),
        });
    }
    let total_records = store.feedback_count(None).await?;
    Ok(Json(CacheStatus {
        status: if views.is_empty() {
            "unconfigured"
        } else if views.iter().any(|v| v.stale) {
            "stale"
        } else {
            "fresh"
        },
        total_records,
        last_updated_at: views.iter().filter_map(|v| v.last_updated_at).max(),
        syncing: views.iter().any(|v| v.syncing),
        generated_at: now,
        sources: views,
    }))
}

/// The latest successful sync of a source, of either mode.
fn last_success(known: &SourceState) -> Option<Timestamp> {
    known.last_full_at.max(known.last_incremental_at)
}

/// The latest ended sync runs of each source, from the newest [`RUNS_SCANNED`] ended runs of
/// kind `sync`.
async fn last_syncs(
    state: &ApiState,
    sources: &[SourceInfo],
) -> Result<HashMap<String, LastSyncs>, ApiError> {
    const PAGE: u32 = 500;
    let store = state.engine().store();
    let mut found: HashMap<String, LastSyncs> = HashMap::new();
    let complete = |found: &HashMap<String, LastSyncs>| {
        sources.iter().all(|s| {
            found
                .get(&s.name)
                .is_some_and(|l| l.full.is_some() && l.incremental.is_some())
        })
    };
    let mut cursor = None;
    let mut scanned = 0;
    while scanned < RUNS_SCANNED && !complete(&found) {
        let page = store
            .run_list(RunListParams {
                kind: Some(SYNC_KIND.to_owned()),
                states: vec![
                    RunState::Succeeded,
                    RunState::Failed,
                    RunState::TimedOut,
                    RunState::Cancelled,
                ],
                limit: PAGE,
                cursor,
                ..RunListParams::default()
            })
            .await?;
        scanned += PAGE;
        for run in &page.items {
            let (Some(source), Some(mode)) = (source_of(&run.params), Mode::of_params(&run.params))
            else {
                continue;
            };
            let slots = found.entry(source.to_owned()).or_default();
            let slot = match mode {
                Mode::Full => &mut slots.full,
                Mode::Incremental => &mut slots.incremental,
            };
            if slot.is_none() {
                *slot = Some(SyncRunView::from(run));
            }
            if slots.latest.is_none() {
                slots.latest = Some(SyncRunView::from(run));
            }
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(found)
}

/// The next run of the enabled `sync` schedules, by source and mode (the earliest when several
/// schedules sync the same).
async fn next_syncs(state: &ApiState) -> Result<HashMap<(String, Mode), Timestamp>, ApiError> {
    let store = state.engine().store();
    let mut next: HashMap<(String, Mode), Timestamp> = HashMap::new();
    let mut cursor = None;
    loop {
        let page = store
            .schedule_list(ScheduleListParams {
                enabled: Some(true),
                kind: Some(SYNC_KIND.to_owned()),
                limit: 500,
                cursor,
                ..ScheduleListParams::default()
            })
            .await?;
        for schedule in &page.items {
            let source = source_of(&schedule.params).or(schedule.source.as_deref());
            let (Some(source), Some(mode), Some(at)) = (
                source,
                Mode::of_params(&schedule.params),
                schedule.next_run_at,
            ) else {
                continue;
            };
            next.entry((source.to_owned(), mode))
                .and_modify(|earliest| *earliest = (*earliest).min(at))
                .or_insert(at);
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            return Ok(next);
        }
    }
}
