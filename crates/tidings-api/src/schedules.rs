//! `/api/schedules`: create, list, read, change, enable, disable, run, history and preview.
//!
//! `{id}` is the schedule's id or its unique name. Bodies take tidings' field names (`cron`,
//! `interval`, `timezone`, `kind`, `params`, policy fields) and seed 004's (`schedule_type`,
//! `cron_expression`, `interval_seconds`, `project_name`); both become a
//! [`ScheduleDraft`], checked by the same rules as `tidings.toml` and the CLI. `PUT` and
//! `PATCH` both change only the fields given, as seed 004's `PUT` did.

// utoipa's `params(Type)` expands to a qualified path.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Deserialize;
use tidings_core::{RunTrigger, Trigger};
use tidings_engine::FieldError;
use tidings_engine::draft::{Rules, ScheduleDraft};
use tidings_store::{
    RunEnqueued, RunListParams, ScheduleKey, ScheduleListParams, ScheduleOrigin, ScheduleSpec,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::cron::{FireView, fires};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::ApiState;
use crate::views::{Page, RunView, ScheduleView};

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(schedule_create, schedule_list))
        .routes(routes!(
            schedule_get,
            schedule_replace,
            schedule_patch,
            schedule_delete
        ))
        .routes(routes!(schedule_enable))
        .routes(routes!(schedule_disable))
        .routes(routes!(schedule_run))
        .routes(routes!(schedule_history))
        .routes(routes!(schedule_preview))
}

/// A duration as a number of seconds or as text (`90`, `"90s"`, `"15m"`, `"1h 30m"`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DurationValue {
    Seconds(f64),
    Text(String),
}

impl DurationValue {
    pub(crate) fn text(&self) -> String {
        match self {
            DurationValue::Seconds(seconds) => format!("{seconds}s"),
            DurationValue::Text(text) => text.clone(),
        }
    }
}

/// A schedule as sent to `POST`, `PUT` or `PATCH`. On create, `name`, a trigger (`cron`,
/// `interval` or `at`) and `kind` are required; everything else has a default. On change,
/// only the fields given change. Unknown fields are refused.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// Unique: a letter, then letters, digits, `-`, `_`, `.` or `:`; at most 100 characters.
    #[schema(example = "daily-sales-import")]
    pub name: Option<String>,
    pub description: Option<String>,
    /// A cron expression (5 fields, 6 with seconds, or a macro such as `@daily`), in `timezone`.
    #[schema(example = "0 0 * * *")]
    pub cron: Option<String>,
    /// Seed 004's name for `cron`.
    pub cron_expression: Option<String>,
    /// Every so long: seconds, or text such as `15m`.
    #[schema(value_type = Option<DurationValue>)]
    pub interval: Option<DurationValue>,
    /// Seed 004: every so many seconds.
    pub interval_seconds: Option<u64>,
    /// Seed 004: `cron`, `interval` or `once`; says which trigger field must be given.
    pub schedule_type: Option<String>,
    /// Fire once, at this RFC 3339 instant.
    pub at: Option<String>,
    /// The instant intervals count from (RFC 3339); default: now.
    pub anchor: Option<String>,
    /// The IANA zone whose wall clock a cron expression follows; default `[scheduler]
    /// timezone`.
    #[schema(example = "America/New_York")]
    pub timezone: Option<String>,
    /// The job kind each run executes (`http`, `noop`, …).
    pub kind: Option<String>,
    /// The job's parameters, checked against the kind.
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// Default `true`.
    pub enabled: Option<bool>,
    pub tags: Option<Vec<String>>,
    /// The source the schedule works on.
    pub source: Option<String>,
    /// Seed 004's name for `source`.
    pub project_name: Option<String>,
    /// Receives a signed JSON POST when a run ends; empty to remove.
    pub callback_url: Option<String>,
    /// How late an occurrence may still run: seconds, text such as `5m`, or `"unlimited"`.
    #[schema(value_type = Option<DurationValue>)]
    pub misfire_grace: Option<DurationValue>,
    /// Several due occurrences run once (default `true`).
    pub coalesce: Option<bool>,
    /// Without coalescing, at most this many due occurrences run.
    pub max_catch_up: Option<u32>,
    /// An occurrence finding this many runs queued or running is skipped (default 1).
    pub max_instances: Option<u32>,
    /// Attempts in all, the first included.
    pub max_attempts: Option<u32>,
    /// The wait after the first failed attempt, doubled after each further one.
    #[schema(value_type = Option<DurationValue>)]
    pub backoff: Option<DurationValue>,
    /// How long one attempt may take.
    #[schema(value_type = Option<DurationValue>)]
    pub timeout: Option<DurationValue>,
    /// Queue a run at every start of tidings.
    pub run_on_start: Option<bool>,
}

impl ScheduleBody {
    /// The draft this body describes, or its problems (seed 004's fields that contradict
    /// tidings' own, a `schedule_type` without its field).
    fn to_draft(&self) -> Result<ScheduleDraft, Vec<FieldError>> {
        let mut problems = Vec::new();
        let cron = merge(
            ("cron", &self.cron),
            ("cron_expression", &self.cron_expression),
            &mut problems,
        );
        let source = merge(
            ("source", &self.source),
            ("project_name", &self.project_name),
            &mut problems,
        );
        let (interval, mut interval_seconds) = match &self.interval {
            Some(DurationValue::Seconds(seconds))
                if seconds.fract() == 0.0 && *seconds >= 0.0 && *seconds <= u64::MAX as f64 =>
            {
                (None, Some(*seconds as u64))
            }
            Some(other) => (Some(other.text()), None),
            None => (None, None),
        };
        if let Some(seconds) = self.interval_seconds {
            if interval.is_some() || interval_seconds.is_some_and(|s| s != seconds) {
                problems.push(FieldError::new(
                    "interval_seconds",
                    "give interval or interval_seconds, not both",
                ));
            }
            interval_seconds = Some(seconds);
        }
        if let Some(kind) = &self.schedule_type {
            let given = match kind.as_str() {
                "cron" => cron.is_some(),
                "interval" => interval.is_some() || interval_seconds.is_some(),
                "once" => self.at.is_some(),
                other => {
                    problems.push(FieldError::new(
                        "schedule_type",
                        format!("unknown schedule type `{other}`; use cron, interval or once"),
                    ));
                    true
                }
            };
            if !given {
                let field = match kind.as_str() {
                    "cron" => "cron_expression",
                    "interval" => "interval_seconds",
                    _ => "at",
                };
                problems.push(FieldError::new(
                    field,
                    format!("is required when schedule_type is `{kind}`"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ScheduleDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            cron,
            interval,
            interval_seconds,
            at: self.at.clone(),
            timezone: self.timezone.clone(),
            anchor: self.anchor.clone(),
            kind: self.kind.clone(),
            enabled: self.enabled,
            tags: self.tags.clone(),
            source,
            callback_url: self.callback_url.clone(),
            misfire_grace: self.misfire_grace.as_ref().map(DurationValue::text),
            coalesce: self.coalesce,
            max_catch_up: self.max_catch_up,
            max_instances: self.max_instances,
            max_attempts: self.max_attempts,
            backoff: self.backoff.as_ref().map(DurationValue::text),
            timeout: self.timeout.as_ref().map(DurationValue::text),
            run_on_start: self.run_on_start,
            params: self.params.clone(),
        })
    }

    /// The name this body gave `field` under, when it used seed 004's name for it, so that a
    /// problem names the field the client sent (`cron_expression`, not `cron`).
    fn name_sent(&self, field: &str) -> Option<&'static str> {
        match field {
            "cron" if self.cron.is_none() && self.cron_expression.is_some() => {
                Some("cron_expression")
            }
            "source" if self.source.is_none() && self.project_name.is_some() => {
                Some("project_name")
            }
            _ => None,
        }
    }
}

/// One value given under two names: either, or both if they agree.
fn merge(
    (name, value): (&str, &Option<String>),
    (alias, alias_value): (&str, &Option<String>),
    problems: &mut Vec<FieldError>,
) -> Option<String> {
    match (value, alias_value) {
        (Some(a), Some(b)) if a != b => {
            problems.push(FieldError::new(
                alias,
                format!("is another name for {name}; give one of them"),
            ));
            None
        }
        (Some(v), _) | (None, Some(v)) => Some(v.clone()),
        (None, None) => None,
    }
}

impl ApiState {
    /// The checked spec of `body`, over `base` when changing a schedule.
    fn spec_of(
        &self,
        body: &ScheduleBody,
        base: Option<&ScheduleSpec>,
    ) -> Result<ScheduleSpec, ApiError> {
        let mut draft = body.to_draft().map_err(ApiError::Invalid)?;
        let engine = self.engine();
        // Seed 004's schedules name a project and no kind: they sync that source, and a problem
        // with the source is reported under the name the client sent.
        let mut implied_sync = false;
        if base.is_none()
            && draft.kind.is_none()
            && draft.params.is_none()
            && let Some(source) = &draft.source
            && engine.registry().get(SYNC_KIND).is_some()
        {
            draft.kind = Some(SYNC_KIND.to_owned());
            draft.params = Some(serde_json::json!({ "source": source }));
            implied_sync = true;
        }
        let rules = Rules {
            registry: engine.registry(),
            min_interval: std::time::Duration::try_from(engine.config().min_interval)
                .unwrap_or_default(),
        };
        let previous: Option<&Trigger> = base.map(|b| &b.trigger);
        draft
            .to_checked_spec(
                base,
                previous,
                &self.inner.drafts,
                &rules,
                engine.clock().now(),
            )
            .map_err(|mut problems| {
                for problem in &mut problems {
                    if implied_sync && problem.field == "params.source" {
                        problem.field = "source".to_owned();
                    }
                    if let Some(sent) = body.name_sent(&problem.field) {
                        problem.field = sent.to_owned();
                    }
                    if problem.field == "kind" && problem.message == "is required" {
                        problem.message = format!(
                            "is required: the job kind each run executes, one of {}",
                            engine.registry().kinds().join(", ")
                        );
                    }
                }
                ApiError::Invalid(problems)
            })
    }
}

/// The job kind of a schedule that names a source and no kind.
const SYNC_KIND: &str = "sync";

/// `{id}`: the schedule's id or its name.
fn schedule_key(text: &str) -> Result<ScheduleKey, ApiError> {
    ScheduleKey::parse(text).map_err(|_| {
        ApiError::NotFound(format!(
            "schedule `{text}` not found: give its id or its name"
        ))
    })
}

/// Create a schedule.
#[utoipa::path(
    post, path = "/api/schedules", tag = "schedules",
    request_body = ScheduleBody,
    responses(
        (status = 201, description = "Created", body = ScheduleView),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_create(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    let spec = state.spec_of(&body, None)?;
    let schedule = state
        .engine()
        .schedule_create(spec, ScheduleOrigin::Api)
        .await?;
    Ok((StatusCode::CREATED, Json(schedule.into())))
}

/// Filters and paging of `GET /api/schedules`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// Only enabled (`true`) or disabled (`false`) schedules.
    enabled: Option<bool>,
    /// Only schedules of this job kind.
    kind: Option<String>,
    /// Only schedules of this source.
    source: Option<String>,
    /// Seed 004's name for `source`.
    project: Option<String>,
    /// Only schedules with this tag.
    tag: Option<String>,
    /// A case-insensitive part of the name or description.
    text: Option<String>,
    /// Only schedules declared here: `api`, `cli`, `config` or `default`.
    origin: Option<String>,
    /// At most this many (1–1000, default 100).
    limit: Option<u32>,
    /// Seed 004: how many to skip. Use `cursor` instead; it stays correct as schedules change.
    offset: Option<u32>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The largest page.
const MAX_LIMIT: u32 = 1000;

fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=MAX_LIMIT) => Ok(n),
        Some(n) => Err(ApiError::invalid(
            "limit",
            format!("{n} is out of range: give 1 to {MAX_LIMIT}"),
        )),
    }
}

/// List schedules, newest first.
#[utoipa::path(
    get, path = "/api/schedules", tag = "schedules",
    params(ScheduleQuery),
    responses(
        (status = 200, description = "A page of schedules", body = Page<ScheduleView>),
        (status = 422, description = "An invalid filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_list(
    State(state): State<ApiState>,
    ApiQuery(query): ApiQuery<ScheduleQuery>,
) -> Result<Json<Page<ScheduleView>>, ApiError> {
    let origin = match query.origin.as_deref() {
        None => None,
        Some(text) => Some(ScheduleOrigin::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "origin",
                format!("unknown origin `{text}`; use api, cli, config or default"),
            )
        })?),
    };
    let limit = limit(query.limit)?;
    let mut params = ScheduleListParams {
        enabled: query.enabled,
        kind: query.kind,
        source: query.source.or(query.project),
        tag: query.tag,
        text: query.text,
        origin,
        limit,
        cursor: query.cursor,
    };
    // Seed 004's offset: walk the pages up to it.
    let mut skip = query.offset.unwrap_or(0);
    while skip > 0 {
        let step = skip.min(MAX_LIMIT);
        let page = state
            .engine()
            .store()
            .schedule_list(ScheduleListParams {
                limit: step,
                ..params.clone()
            })
            .await?;
        skip -= step;
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => {
                return Ok(Json(Page {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
        }
    }
    let page = state.engine().store().schedule_list(params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(ScheduleView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Read a schedule.
#[utoipa::path(
    get, path = "/api/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_get(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state
        .engine()
        .store()
        .schedule_get(&schedule_key(&id)?)
        .await?;
    Ok(Json(schedule.into()))
}

async fn change(
    state: &ApiState,
    id: &str,
    body: &ScheduleBody,
) -> Result<Json<ScheduleView>, ApiError> {
    let key = schedule_key(id)?;
    let current = state.engine().store().schedule_get(&key).await?;
    let spec = state.spec_of(body, Some(&current.spec()))?;
    let schedule = state.engine().schedule_update(&key, spec).await?;
    Ok(Json(schedule.into()))
}

/// Change a schedule: the fields given replace the current ones (as `PATCH`).
#[utoipa::path(
    put, path = "/api/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "The changed schedule", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Renamed onto a taken name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_replace(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleView>, ApiError> {
    change(&state, &id, &body).await
}

/// Change some fields of a schedule; statistics and history are kept. An unchanged trigger
/// keeps its pending occurrence.
#[utoipa::path(
    patch, path = "/api/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "The changed schedule", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Renamed onto a taken name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_patch(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleView>, ApiError> {
    change(&state, &id, &body).await
}

/// Delete a schedule. Its queued runs are cancelled; its past runs are kept.
#[utoipa::path(
    delete, path = "/api/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_delete(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.engine().schedule_delete(&schedule_key(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a schedule: it fires from its next occurrence after now (what was due while it was
/// disabled is not replayed).
#[utoipa::path(
    post, path = "/api/schedules/{id}/enable", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    responses(
        (status = 200, description = "The schedule, enabled", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_enable(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state
        .engine()
        .schedule_set_enabled(&schedule_key(&id)?, true)
        .await?;
    Ok(Json(schedule.into()))
}

/// Disable a schedule: it stops firing; runs already queued or running go on.
#[utoipa::path(
    post, path = "/api/schedules/{id}/disable", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    responses(
        (status = 200, description = "The schedule, disabled", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_disable(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state
        .engine()
        .schedule_set_enabled(&schedule_key(&id)?, false)
        .await?;
    Ok(Json(schedule.into()))
}

/// Run a schedule now (a `manual` run), unless `max_instances` runs of it are already queued
/// or running: then `409` with those runs in `runs`.
#[utoipa::path(
    post, path = "/api/schedules/{id}/run", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name")),
    responses(
        (status = 202, description = "The run, queued", body = RunView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "At max_instances; `runs` lists the runs queued or running", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_run(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let key = schedule_key(&id)?;
    match state
        .engine()
        .schedule_run_now(&key, RunTrigger::Manual)
        .await?
    {
        RunEnqueued::Queued(run) => Ok((StatusCode::ACCEPTED, Json(RunView::from(*run)))),
        RunEnqueued::AtCapacity(runs) => {
            let count = runs.len();
            let views: Vec<RunView> = runs.into_iter().map(RunView::from).collect();
            Err(ApiError::Conflict {
                detail: format!(
                    "schedule {key} already has {count} run{} queued or running, its max_instances; wait for {} or raise max_instances",
                    if count == 1 { "" } else { "s" },
                    if count == 1 { "it" } else { "them" }
                ),
                extra: Some(("runs", serde_json::to_value(views).unwrap_or_default())),
            })
        }
    }
}

/// Paging of `GET /api/schedules/{id}/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// At most this many (1–1000, default 100).
    limit: Option<u32>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A schedule's runs, newest first, including `missed` and `skipped` records.
#[utoipa::path(
    get, path = "/api/schedules/{id}/history", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name"), HistoryQuery),
    responses(
        (status = 200, description = "A page of runs", body = Page<RunView>),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid limit or an unknown parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_history(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<Page<RunView>>, ApiError> {
    let schedule = state
        .engine()
        .store()
        .schedule_get(&schedule_key(&id)?)
        .await?;
    let page = state
        .engine()
        .store()
        .run_list(RunListParams {
            schedule_id: Some(schedule.id),
            limit: limit(query.limit)?,
            cursor: query.cursor,
            ..RunListParams::default()
        })
        .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(RunView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// How many fire times `GET …/preview` lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// 1–1000, default 10.
    count: Option<u32>,
    /// List fire times after this RFC 3339 instant (default: now).
    after: Option<String>,
}

/// A schedule's next fire times.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SchedulePreview {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    /// The trigger in plain English.
    pub explain: String,
    /// The pending occurrence; the list starts with it when listing from now.
    pub next_run_at: Option<Timestamp>,
    pub fires: Vec<FireView>,
}

/// The next fire times of a schedule's trigger, with DST notes.
#[utoipa::path(
    get, path = "/api/schedules/{id}/preview", tag = "schedules",
    params(("id" = String, Path, description = "The schedule's id or name"), PreviewQuery),
    responses(
        (status = 200, description = "The next fire times", body = SchedulePreview),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid count or after", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn schedule_preview(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PreviewQuery>,
) -> Result<Json<SchedulePreview>, ApiError> {
    let count = crate::cron::count(query.count)?;
    let schedule = state
        .engine()
        .store()
        .schedule_get(&schedule_key(&id)?)
        .await?;
    let after = match query.after.as_deref() {
        Some(text) => crate::cron::instant("after", text)?,
        // From just before the pending occurrence, so that it is listed first.
        None => match schedule.next_run_at {
            Some(next) => next
                .checked_sub(jiff::SignedDuration::from_nanos(1))
                .unwrap_or(next),
            None => state.engine().clock().now(),
        },
    };
    let view = crate::views::TriggerView::of(&schedule.trigger);
    Ok(Json(SchedulePreview {
        id: schedule.id.0,
        name: schedule.name.to_string(),
        enabled: schedule.enabled,
        explain: view.explain,
        next_run_at: schedule.next_run_at,
        fires: fires(&schedule.trigger, after, count),
    }))
}
