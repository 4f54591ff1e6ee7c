//! The tidings REST API: an axum router over an [`tidings_engine::Engine`], with API keys,
//! `application/problem+json` errors and an OpenAPI 3.1 document generated from the handlers
//! themselves (each route is declared once, with its documentation, in `routes!`). It never
//! names a concrete store.
//!
//! | routes | module |
//! |---|---|
//! | `/api/feedback…` | `feedback` |
//! | `/api/sources…`, `/api/cache…` | `sources` |
//! | `/api/schedules…` | `schedules` |
//! | `/api/runs…` | `runs` |
//! | `/api/stats…` | `stats` |
//! | `/api/cron/preview` | `cron` |
//! | `/api/keys…` (admin) | `keys_api` |
//! | `/api/status`, `/healthz`, `/readyz`, `/metrics` | `ops` |
//! | `/api/openapi.json`, `/api/docs` | here |

mod auth;
pub mod cron;
mod error;
mod extract;
pub mod feedback;
pub mod keys;
pub mod keys_api;
pub mod ops;
pub mod runs;
pub mod schedules;
pub mod sources;
mod state;
pub mod stats;
pub mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use auth::Caller;
pub use error::{ApiError, PROBLEM_BASE, Problem, ProblemField};
pub use ops::install_metrics;
pub use state::{ApiConfig, ApiState, SchedulerState, SourceInfo};

/// The header carrying each request's id (generated when the client sends none).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tidings",
        description = "Customer feedback kept fresh and acted upon, on a durable, time-zone-aware scheduler.\n\nEvery `/api/` route needs an API key, sent as `X-API-Key: KEY` or `Authorization: Bearer KEY`: `read` keys may GET, `write` keys may also change, `admin` keys may also manage keys. Errors are RFC 9457 problems (`application/problem+json`).",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&Security),
    tags(
        (name = "feedback", description = "The cached feedback records: filtered, sorted, paged, as JSON or CSV"),
        (name = "sources", description = "The configured sources, their cache's freshness, and syncing them now"),
        (name = "schedules", description = "Named triggers that queue runs of a job kind"),
        (name = "runs", description = "Executions of jobs: history, detail, cancel, ad-hoc runs"),
        (name = "stats", description = "Pre-computed dashboard statistics per group and period, served from the latest snapshot"),
        (name = "cron", description = "The cron dialect: what an expression means and when it fires"),
        (name = "keys", description = "API keys (admin)"),
        (name = "operations", description = "Health, readiness, metrics and status"),
    )
)]
struct ApiDoc;

/// The two ways to send a key.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The routes under a key, and the document describing every route.
fn documented() -> (Router<ApiState>, Router<ApiState>, OpenApiDoc) {
    let (keyed, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(feedback::routes())
        .merge(sources::routes())
        .merge(schedules::routes())
        .merge(runs::routes())
        .merge(stats::routes())
        .merge(cron::routes())
        .merge(keys_api::routes())
        .merge(ops::status_routes())
        .split_for_parts();
    let keyed = keyed.merge(feedback::trailing_slash_routes());
    let (open, open_doc) = ops::health_routes().split_for_parts();
    doc.merge(open_doc);
    common_responses(&mut doc);
    (keyed, open, doc)
}

/// Adds the answers any route may give that its own annotation leaves out, as problems: `401`
/// and `403` on routes under a key (the key middleware's), `400` on routes requiring a JSON
/// body and `413` on routes taking a body (the extractor's and the body limit's).
fn common_responses(doc: &mut OpenApiDoc) {
    use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};

    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let keyed = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let body = operation.request_body.as_ref().map(|body| match body {
                utoipa::openapi::RefOr::T(body) => matches!(body.required, Some(Required::True)),
                utoipa::openapi::RefOr::Ref(_) => true,
            });
            let mut add = |status: &str, description: &str| {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            };
            if keyed {
                add("401", "No API key, or one that is not valid");
                add("403", "The key's role does not allow this");
                // Every keyed route reads the store, if only to check the key.
                add(
                    "500",
                    "An internal error; the server log has the cause under the request's `x-request-id`",
                );
                add("503", "The database cannot be reached; try again shortly");
            }
            if body == Some(true) {
                add(
                    "400",
                    "The body is not JSON, or not sent as `Content-Type: application/json`",
                );
            }
            if body.is_some() {
                add("413", "The body is over the size limit");
            }
            if keyed {
                operation
                    .responses
                    .responses
                    .entry("408".to_owned())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(
                                "The request took longer than `server.request_timeout`; no body",
                            )
                            .build()
                            .into()
                    });
            }
        }
    }
}

/// The OpenAPI 3.1 document of the API, as served at `/api/openapi.json`.
pub fn openapi() -> OpenApiDoc {
    documented().2
}

/// Every route, with the middleware of the service: request ids, access logs, metrics, a
/// timeout, gzip, the body limit, CORS when configured, and problem answers for unknown routes
/// and methods.
pub fn router(state: ApiState) -> Router {
    let config = state.inner.config.clone();
    let (keyed, open, doc) = documented();
    let keyed = keyed.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::require_key,
    ));
    let open = if config.public_metrics {
        open
    } else {
        open.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
    };
    let cors = (!config.cors_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = config
            .cors_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::header::AUTHORIZATION,
                HeaderName::from_static("x-api-key"),
            ])
    });
    Router::new()
        .merge(keyed)
        .merge(open)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn(ops::record_request))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let id = request
                                .headers()
                                .get(REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!(
                                "request",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id = %id,
                            )
                        })
                        .on_request(())
                        .on_response(())
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    config.request_timeout,
                ))
                .layer(CompressionLayer::new())
                .option_layer(cors),
        )
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}
