//! `POST /api/cron/preview`: an expression and a zone → the next fire times, each with the DST
//! rule that placed it, the day rule applied, and the expression in plain English. The same
//! dialect and rules as `tidings cron next` and the scheduler.

use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tidings_core::cron::CronExpr;
use tidings_core::{Trigger, Zone};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::state::ApiState;

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(cron_preview))
}

/// The most fire times one preview lists.
const MAX_COUNT: u32 = 1000;

/// How many fire times to list: 1–[`MAX_COUNT`], default 10.
pub(crate) fn count(count: Option<u32>) -> Result<usize, ApiError> {
    match count {
        None => Ok(10),
        Some(n @ 1..=MAX_COUNT) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(
            "count",
            format!("{n} is out of range: give 1 to {MAX_COUNT}"),
        )),
    }
}

/// An RFC 3339 instant given in `field`.
pub(crate) fn instant(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    tidings_engine::draft::instant(text).map_err(|message| ApiError::invalid(field, message))
}

/// One fire time.
#[derive(Debug, Serialize, ToSchema)]
pub struct FireView {
    pub at: Timestamp,
    /// The instant on the trigger zone's wall clock, with its offset.
    pub local: String,
    /// What a DST transition did to this fire time, if anything.
    pub dst: Option<String>,
}

/// The next `count` fire times of `trigger` after `after`.
pub(crate) fn fires(trigger: &Trigger, after: Timestamp, count: usize) -> Vec<FireView> {
    match trigger {
        Trigger::Cron(cron) => cron
            .fires_after(after, count)
            .into_iter()
            .map(|fire| FireView {
                at: fire.at,
                local: local(fire.at, cron.zone()),
                dst: fire.note.map(|note| note.to_string()),
            })
            .collect(),
        other => {
            let mut fires = Vec::new();
            let mut at = after;
            while fires.len() < count {
                let Some(next) = other.next_after(at) else {
                    break;
                };
                fires.push(FireView {
                    at: next,
                    local: local(next, &Zone::utc()),
                    dst: None,
                });
                at = next;
            }
            fires
        }
    }
}

fn local(at: Timestamp, zone: &Zone) -> String {
    at.to_zoned(zone.tz().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A cron expression to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CronPreviewBody {
    /// 5 fields, 6 with seconds first, or a macro such as `@daily`.
    #[schema(example = "30 2 * * *")]
    pub expression: String,
    /// The IANA zone whose wall clock it follows (default `UTC`).
    #[schema(example = "America/New_York")]
    pub timezone: Option<String>,
    /// List fire times after this RFC 3339 instant (default: now).
    pub after: Option<String>,
    /// How many (1–1000, default 10).
    pub count: Option<u32>,
}

/// What an expression means and when it fires.
#[derive(Debug, Serialize, ToSchema)]
pub struct CronPreview {
    /// The expression as given.
    pub expression: String,
    pub timezone: String,
    /// The expression in plain English.
    pub explain: String,
    /// How day-of-month and day-of-week combine for this expression.
    pub days: String,
    /// What DST transitions do to it.
    pub dst: String,
    pub fires: Vec<FireView>,
}

/// Preview a cron expression: its meaning and next fire times, with DST notes.
#[utoipa::path(
    post, path = "/api/cron/preview", tag = "cron",
    request_body = CronPreviewBody,
    responses(
        (status = 200, description = "The expression explained, and its next fire times", body = CronPreview),
        (status = 422, description = "An invalid expression, zone, instant or count", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn cron_preview(
    axum::extract::State(state): axum::extract::State<ApiState>,
    ApiJson(body): ApiJson<CronPreviewBody>,
) -> Result<Json<CronPreview>, ApiError> {
    let mut problems = Vec::new();
    let expr = CronExpr::parse(&body.expression)
        .map_err(|e| problems.push(tidings_engine::FieldError::new("expression", e.to_string())))
        .ok();
    let zone = Zone::parse(body.timezone.as_deref().unwrap_or("UTC"))
        .map_err(|e| problems.push(tidings_engine::FieldError::new("timezone", e.to_string())))
        .ok();
    let after = match body.after.as_deref() {
        Some(text) => tidings_engine::draft::instant(text)
            .map_err(|e| problems.push(tidings_engine::FieldError::new("after", e)))
            .ok(),
        None => Some(state.engine().clock().now()),
    };
    let count = count(body.count)
        .map_err(|e| {
            if let ApiError::Invalid(mut errors) = e {
                problems.append(&mut errors);
            }
        })
        .ok();
    let (Some(expr), Some(zone), Some(after), Some(count)) = (expr, zone, after, count) else {
        return Err(ApiError::Invalid(problems));
    };
    let trigger = Trigger::Cron(tidings_core::CronTrigger::new(expr.clone(), zone.clone()));
    Ok(Json(CronPreview {
        expression: body.expression,
        timezone: zone.name().to_owned(),
        explain: expr.describe(),
        days: expr.day_rule().explain().to_owned(),
        dst: expr.job_kind().explain().to_owned(),
        fires: fires(&trigger, after, count),
    }))
}
