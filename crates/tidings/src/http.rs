//! The HTTP surface served by `tidings serve`: `/healthz`, and `application/problem+json`
//! answers for everything that has no route. The API routes join here as they are built.

use axum::Json;
use axum::Router;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;

/// All routes.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Liveness: the process is up and serving.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}

/// An RFC 9457 problem: `{"type", "title", "status", "detail"}` served as
/// `application/problem+json`.
#[derive(Debug, Serialize)]
pub(crate) struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
}

impl Problem {
    /// A problem whose type is `https://tidings.dev/problems/{slug}`, titled by its status.
    pub(crate) fn new(status: StatusCode, slug: &str, detail: String) -> Problem {
        Problem {
            kind: format!("https://tidings.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
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
