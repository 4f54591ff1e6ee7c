//! Every error the API returns is one [`ApiError`], answered as an RFC 9457 problem
//! (`application/problem+json`) with a stable `type`. Validation problems list every invalid
//! field; internal causes are logged (inside the request's span, so with its request id) and
//! never returned.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tidings_engine::{EngineError, FieldError};
use tidings_store::StoreError;
use utoipa::ToSchema;

/// Where problem types are documented; each type is this plus a slug.
pub const PROBLEM_BASE: &str = "https://tidings.dev/problems/";

/// A request that did not succeed.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not JSON, or not the JSON the route takes.
    Malformed(String),
    /// 401: no API key, or one that is not valid.
    Unauthorized(String),
    /// 403: the key's role does not allow this.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409: a name is taken, a run already ended, a schedule is at `max_instances`.
    Conflict {
        detail: String,
        /// Extra members of the problem, e.g. the runs already running.
        extra: Option<(&'static str, serde_json::Value)>,
    },
    /// 413: the body is over the limit.
    TooLarge(String),
    /// 422: these fields are invalid.
    Invalid(Vec<FieldError>),
    /// 503: the store cannot be reached.
    Unavailable(String),
    /// 500: a bug or a broken store; the cause is logged, not returned.
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            detail: detail.into(),
            extra: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem body.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (slug, detail) = match self {
            ApiError::Malformed(detail) => ("malformed-request", detail.clone()),
            ApiError::Unauthorized(detail) => ("unauthorized", detail.clone()),
            ApiError::Forbidden(detail) => ("forbidden", detail.clone()),
            ApiError::NotFound(detail) => ("not-found", detail.clone()),
            ApiError::Conflict { detail, .. } => ("conflict", detail.clone()),
            ApiError::TooLarge(detail) => ("body-too-large", detail.clone()),
            ApiError::Invalid(errors) => (
                "invalid-request",
                match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fields are invalid", many.len()),
                },
            ),
            ApiError::Unavailable(_) => (
                "store-unavailable",
                "the database cannot be reached; try again shortly".to_owned(),
            ),
            ApiError::Internal(_) => (
                "internal",
                "an internal error occurred; the server log has the details under this request's id"
                    .to_owned(),
            ),
        };
        let mut problem = Problem::new(status, slug, detail);
        match self {
            ApiError::Invalid(errors) => {
                problem.errors = Some(
                    errors
                        .iter()
                        .map(|e| ProblemField {
                            field: e.field.clone(),
                            message: e.message.clone(),
                        })
                        .collect(),
                );
            }
            ApiError::Conflict {
                extra: Some((name, value)),
                ..
            } => {
                problem.extra.insert((*name).to_owned(), value.clone());
            }
            _ => {}
        }
        problem
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "store unavailable"),
            _ => {}
        }
        let mut response = self.problem().into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tidings\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            StoreError::Conflict(detail) | StoreError::InvalidState(detail) => {
                ApiError::conflict(detail)
            }
            StoreError::Unavailable(cause) | StoreError::Locked(cause) => {
                ApiError::Unavailable(cause)
            }
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Invalid(errors) => ApiError::Invalid(errors),
            EngineError::Store(error) => error.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::JsonDataError(error) => json_data_error(&error.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::Malformed(
                "send the body as JSON with `Content-Type: application/json`".to_owned(),
            ),
            JsonRejection::BytesRejection(error)
                if error.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::TooLarge("the request body is over the size limit".to_owned())
            }
            other => ApiError::Malformed(other.body_text()),
        }
    }
}

/// A body that is JSON but not of the expected shape: serde's message names the field
/// (`name: invalid type: integer, expected a string`, `unknown field `foo`, expected one of …`).
/// These are invalid values, reported like the checks of the handlers.
fn json_data_error(text: &str) -> ApiError {
    // axum: "Failed to deserialize the JSON body into the target type: <path>: <message> at line…"
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => text,
    };
    if let Some(rest) = text.strip_prefix("unknown field `")
        && let Some(end) = rest.find('`')
    {
        return ApiError::invalid(
            &rest[..end],
            format!("unknown field `{}`{}", &rest[..end], &rest[end + 1..]),
        );
    }
    match text.split_once(": ") {
        Some((path, message)) if !path.contains(' ') => ApiError::invalid(path, message),
        _ => {
            let field = text
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("body");
            ApiError::invalid(field, text)
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        let text = rejection.body_text();
        let text = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text)
            .to_owned();
        let field = text
            .strip_prefix("unknown field `")
            .or_else(|| text.strip_prefix("missing field `"))
            .and_then(|rest| rest.split('`').next())
            .or_else(|| text.split_once(": ").map(|(field, _)| field))
            .filter(|field| !field.contains(' '))
            .unwrap_or("query")
            .to_owned();
        ApiError::Invalid(vec![FieldError::new(field, text)])
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::NotFound(rejection.body_text())
    }
}

/// An RFC 9457 problem, as every error is answered.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URL naming the kind of problem; stable, safe to match on.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// For `invalid-request`: every invalid field.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub errors: Option<Vec<ProblemField>>,
    /// Members some problems add (`runs` on a schedule at `max_instances`).
    #[serde(flatten)]
    #[schema(additional_properties)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One invalid field: its dotted path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl Problem {
    /// A problem whose type is [`PROBLEM_BASE`] + `slug`, titled by its status.
    pub fn new(status: StatusCode, slug: &str, detail: String) -> Problem {
        Problem {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors: None,
            extra: serde_json::Map::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            Json(self),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_field_errors() {
        let ApiError::Invalid(errors) = json_data_error(
            "Failed to deserialize the JSON body into the target type: unknown field `nmae`, expected one of `name`, `cron` at line 1 column 8",
        ) else {
            panic!("not invalid");
        };
        assert_eq!(errors[0].field, "nmae");
        assert_eq!(
            errors[0].message,
            "unknown field `nmae`, expected one of `name`, `cron`"
        );
        let ApiError::Invalid(errors) = json_data_error(
            "Failed to deserialize the JSON body into the target type: enabled: invalid type: string \"yes\", expected a boolean at line 1 column 17",
        ) else {
            panic!("not invalid");
        };
        assert_eq!(errors[0].field, "enabled");
        assert_eq!(
            errors[0].message,
            "invalid type: string \"yes\", expected a boolean"
        );
    }
}
