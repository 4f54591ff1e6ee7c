//! `/api/runs`: list and read runs, cancel one, queue ad-hoc runs of any job kind, one or a
//! batch at a time.

// utoipa's `params(Type)` expands to a qualified path.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tidings_core::{RunState, RunTrigger};
use tidings_engine::{AdhocRun, Engine, FieldError};
use tidings_store::{RunId, RunListParams, ScheduleKey};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::schedules::DurationValue;
use crate::state::ApiState;
use crate::views::{AttemptView, DeliveryView, Page, RunDetail, RunView};

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(run_list, run_create))
        .routes(routes!(run_create_batch))
        .routes(routes!(run_get))
        .routes(routes!(run_cancel))
}

/// Filters and paging of `GET /api/runs`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Runs of this schedule (id or name).
    schedule: Option<String>,
    /// Runs of this job kind.
    kind: Option<String>,
    /// Runs in these states, comma-separated (`failed,timed_out`).
    state: Option<String>,
    /// Runs made this way: `schedule`, `manual`, `api`, `startup` or `webhook`.
    trigger: Option<String>,
    /// Runs created at or after this RFC 3339 instant.
    from: Option<String>,
    /// Runs created before this RFC 3339 instant.
    to: Option<String>,
    /// At most this many (1–1000, default 100).
    limit: Option<u32>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List runs, newest first.
#[utoipa::path(
    get, path = "/api/runs", tag = "runs",
    params(RunQuery),
    responses(
        (status = 200, description = "A page of runs", body = Page<RunView>),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn run_list(
    State(state): State<ApiState>,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<Json<Page<RunView>>, ApiError> {
    let mut problems = Vec::new();
    let states = match query.state.as_deref() {
        None => Vec::new(),
        Some(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|name| {
                let state = RunState::ALL.into_iter().find(|s| s.as_str() == name);
                if state.is_none() {
                    problems.push(FieldError::new(
                        "state",
                        format!(
                            "unknown state `{name}`; use {}",
                            RunState::ALL.map(RunState::as_str).join(", ")
                        ),
                    ));
                }
                state
            })
            .collect(),
    };
    let trigger = query.trigger.as_deref().and_then(|name| {
        let trigger = RunTrigger::ALL.into_iter().find(|t| t.as_str() == name);
        if trigger.is_none() {
            problems.push(FieldError::new(
                "trigger",
                format!(
                    "unknown trigger `{name}`; use {}",
                    RunTrigger::ALL.map(RunTrigger::as_str).join(", ")
                ),
            ));
        }
        trigger
    });
    let mut instant = |field: &str, text: Option<&str>| {
        text.and_then(|text| {
            tidings_engine::draft::instant(text)
                .map_err(|message| problems.push(FieldError::new(field, message)))
                .ok()
        })
    };
    let created_from = instant("from", query.from.as_deref());
    let created_to = instant("to", query.to.as_deref());
    let limit = match query.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => {
            problems.push(FieldError::new(
                "limit",
                format!("{n} is out of range: give 1 to 1000"),
            ));
            100
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let schedule_id = match query.schedule.as_deref() {
        None => None,
        Some(text) => {
            let key = ScheduleKey::parse(text)
                .map_err(|e| ApiError::invalid("schedule", e.to_string()))?;
            Some(state.engine().store().schedule_get(&key).await?.id)
        }
    };
    let page = state
        .engine()
        .store()
        .run_list(RunListParams {
            schedule_id,
            kind: query.kind,
            states,
            trigger,
            created_from,
            created_to,
            limit,
            cursor: query.cursor,
            ..RunListParams::default()
        })
        .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(RunView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Read a run, with its attempts and its completion webhook's deliveries.
#[utoipa::path(
    get, path = "/api/runs/{id}", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = RunDetail),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn run_get(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RunDetail>, ApiError> {
    let store = state.engine().store();
    let run = store.run_get(RunId(id)).await?;
    let attempts = store.run_attempts(run.id).await?;
    let webhooks = store
        .run_list(RunListParams {
            parent: Some(run.id),
            limit: 100,
            ..RunListParams::default()
        })
        .await?;
    let mut deliveries = Vec::with_capacity(webhooks.items.len());
    for webhook in webhooks.items.into_iter().rev() {
        let attempts = store.run_attempts(webhook.id).await?;
        deliveries.push(DeliveryView {
            run_id: webhook.id.0,
            state: webhook.state,
            attempts: attempts.into_iter().map(AttemptView::from).collect(),
        });
    }
    Ok(Json(RunDetail {
        run: run.into(),
        attempts: attempts.into_iter().map(AttemptView::from).collect(),
        deliveries,
    }))
}

/// Why a run is cancelled.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Recorded as the run's error (default: "cancelled over the API").
    pub reason: Option<String>,
}

/// Cancel a run: a queued run at once, a running one cooperatively (its job is told to stop).
#[utoipa::path(
    post, path = "/api/runs/{id}/cancel", tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = Option<CancelBody>, description = "Optional"),
    responses(
        (status = 202, description = "The run, cancelled or with cancellation requested", body = RunView),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run has already ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body that is not `{\"reason\": \"…\"}`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn run_cancel(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    // The body is optional: none, or `{"reason": "…"}`.
    let body: CancelBody = if body.iter().all(u8::is_ascii_whitespace) {
        CancelBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid("reason", e.to_string()))?
    };
    let reason = body
        .reason
        .unwrap_or_else(|| "cancelled over the API".to_owned());
    let run = state.engine().run_cancel(RunId(id), &reason).await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// An ad-hoc run of a job kind.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// The job kind (`http`, `noop`, …).
    pub kind: String,
    /// The job's parameters, checked against the kind.
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// Attempts in all (default: the kind's).
    pub max_attempts: Option<u32>,
    /// The wait after the first failed attempt, doubled after each further one.
    #[schema(value_type = Option<DurationValue>)]
    pub backoff: Option<DurationValue>,
    /// How long one attempt may take (default: the kind's).
    #[schema(value_type = Option<DurationValue>)]
    pub timeout: Option<DurationValue>,
}

/// Queue a run of any job kind now.
#[utoipa::path(
    post, path = "/api/runs", tag = "runs",
    request_body = RunBody,
    responses(
        (status = 202, description = "The run, queued", body = RunView),
        (status = 422, description = "Unknown kind or invalid params", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn run_create(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<RunBody>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let engine = state.engine();
    let run = adhoc_run(engine, body, "").map_err(ApiError::Invalid)?;
    let run = engine
        .run_enqueue(&run.kind, run.params, run.retry, run.timeout)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// The most runs one `POST /api/runs/batch` queues.
const BATCH_MAX: usize = 1_000;

/// Ad-hoc runs to queue together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBatchBody {
    /// 1 to 1,000 runs, each as `POST /api/runs` takes it.
    pub runs: Vec<RunBody>,
}

/// The runs of a batch, queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunBatchAnswer {
    /// How many were queued.
    count: usize,
    /// In the order given.
    runs: Vec<RunView>,
}

/// Queue up to 1,000 runs in one request: all of them, in one transaction, or none. A problem
/// with any run refuses the whole batch, naming each field as `runs[INDEX].FIELD`.
#[utoipa::path(
    post, path = "/api/runs/batch", tag = "runs",
    request_body = RunBatchBody,
    responses(
        (status = 202, description = "The runs, queued in the order given", body = RunBatchAnswer),
        (status = 422, description = "An empty or oversized batch, or runs with an unknown kind or invalid params; nothing is queued", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn run_create_batch(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<RunBatchBody>,
) -> Result<(StatusCode, Json<RunBatchAnswer>), ApiError> {
    let engine = state.engine();
    if body.runs.is_empty() || body.runs.len() > BATCH_MAX {
        return Err(ApiError::invalid(
            "runs",
            format!(
                "{} runs given; a batch holds 1 to {BATCH_MAX}",
                body.runs.len()
            ),
        ));
    }
    let mut runs = Vec::with_capacity(body.runs.len());
    let mut problems = Vec::new();
    for (i, run) in body.runs.into_iter().enumerate() {
        match adhoc_run(engine, run, &format!("runs[{i}].")) {
            Ok(run) => runs.push(run),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let queued = engine.run_enqueue_batch(runs).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RunBatchAnswer {
            count: queued.len(),
            runs: queued.into_iter().map(RunView::from).collect(),
        }),
    ))
}

/// A run's body with the kind's defaults filled in and its params checked against the kind;
/// or all its problems, fields named after `prefix`.
fn adhoc_run(engine: &Engine, body: RunBody, prefix: &str) -> Result<AdhocRun, Vec<FieldError>> {
    let defaults = engine.registry().defaults(&body.kind);
    let mut retry = defaults.retry;
    let mut timeout = defaults.timeout;
    let mut problems = Vec::new();
    if let Some(max_attempts) = body.max_attempts {
        if max_attempts == 0 {
            problems.push(FieldError::new(
                format!("{prefix}max_attempts"),
                "must be at least 1",
            ));
        }
        retry.max_attempts = max_attempts;
    }
    let mut duration = |field: &str, value: &Option<DurationValue>| {
        value.as_ref().and_then(|value| {
            tidings_core::duration::parse(&value.text())
                .map(tidings_core::duration::signed)
                .map_err(|message| {
                    problems.push(FieldError::new(format!("{prefix}{field}"), message));
                })
                .ok()
        })
    };
    if let Some(backoff) = duration("backoff", &body.backoff) {
        retry.backoff = backoff;
    }
    if let Some(given) = duration("timeout", &body.timeout) {
        timeout = given;
    }
    let params = body.params.unwrap_or_else(|| serde_json::json!({}));
    problems.extend(engine.check_adhoc(prefix, &body.kind, &params));
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(AdhocRun {
        kind: body.kind,
        params,
        retry,
        timeout,
    })
}
