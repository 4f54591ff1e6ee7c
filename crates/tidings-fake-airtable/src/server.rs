//! The HTTP side: the list route with its checks in Airtable's order, faults applied, and the
//! admin routes.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::table::{Answer, FakeRequest, ListParams, error};
use crate::{FakeRecord, FaultKind, FaultSpec, Shared};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v0/{base}/{table}", get(list))
        .route("/_fake/records", post(create_record))
        .route(
            "/_fake/records/{id}",
            patch(update_record).delete(delete_record),
        )
        .route("/_fake/faults", post(add_fault))
        .route("/_fake/requests", get(requests))
        .with_state(shared)
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path((base, table)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let now = Instant::now();
    let params = ListParams::from_pairs(&pairs);
    let offset = params.as_ref().ok().and_then(|p| p.offset.clone());
    let mut log = FakeRequest {
        at: now,
        at_ms: 0,
        method: "GET".to_owned(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        status: 0,
        page: None,
        fault: None,
    };

    // Bookkeeping under the lock; waits and broken bodies after it.
    let (answer, fault) = {
        let mut t = shared.table();
        log.at_ms = now.duration_since(t.started).as_millis() as u64;
        let page = t.page_of(offset.as_deref());
        log.page = Some(page);
        let answer_and_fault =
            if base == shared.base && t.over_limit(now, shared.rate_limit, shared.penalty) {
                (rate_limited(), None)
            } else {
                let fault = t.take_fault(page, offset.is_some());
                log.fault = fault.as_ref().map(|f| format!("{:?}", f.kind));
                let answer = match &fault.as_ref().map(|f| &f.kind) {
                    Some(FaultKind::Status500) => Some(error(
                        500,
                        "SERVER_ERROR",
                        "Try again. If the problem persists, contact support.",
                    )),
                    Some(FaultKind::TooManyRequests { .. }) => {
                        t.rate_limited += 1;
                        Some(rate_limited())
                    }
                    Some(FaultKind::ExpiredOffset) => Some(Answer {
                        status: 422,
                        body: json!({"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}),
                    }),
                    Some(FaultKind::Unauthorized) => Some(unauthorized()),
                    Some(FaultKind::InvalidFormula) => Some(error(
                        422,
                        "INVALID_FILTER_BY_FORMULA",
                        "The formula for filtering records is invalid: (scripted fault)",
                    )),
                    _ => None,
                };
                let answer = answer.unwrap_or_else(|| {
                    if bearer(&headers) != Some(shared.token.as_str()) {
                        unauthorized()
                    } else if base != shared.base {
                        error(
                            404,
                            "NOT_FOUND",
                            &format!("Could not find a base with id {base}"),
                        )
                    } else if table != shared.table_name {
                        error(
                            404,
                            "TABLE_NOT_FOUND",
                            &format!("Could not find table {table} in application {base}"),
                        )
                    } else {
                        match &params {
                            Ok(params) => t.list(params, now, shared.offset_lifetime),
                            Err(message) => error(422, "INVALID_REQUEST_UNKNOWN", message),
                        }
                    }
                });
                (answer, fault.map(|f| f.kind))
            };
        let (answer, fault) = answer_and_fault;
        log.status = match fault {
            Some(FaultKind::BadGateway) => 502,
            _ => answer.status,
        };
        t.requests.push(log);
        (answer, fault)
    };

    match fault {
        Some(FaultKind::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            json_response(answer)
        }
        Some(FaultKind::BadGateway) => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        Some(FaultKind::TooManyRequests {
            retry_after: Some(seconds),
        }) => {
            let mut response = json_response(answer);
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(FaultKind::TruncatedJson) => {
            let text = answer.body.to_string();
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                cut,
            )
                .into_response()
        }
        Some(FaultKind::ResetConnection) => {
            let text = answer.body.to_string();
            let cut = Bytes::from(text.chars().take(64).collect::<String>());
            let mut response = Response::new(Body::from_stream(Broken { first: Some(cut) }));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        _ => json_response(answer),
    }
}

/// A body that sends a little and then fails, which makes the server drop the connection.
struct Broken {
    first: Option<Bytes>,
}

impl futures_core::Stream for Broken {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(match self.first.take() {
            Some(bytes) => Ok(bytes),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fake Airtable: connection reset (scripted)",
            )),
        }))
    }
}

fn json_response(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(answer.body)).into_response()
}

fn rate_limited() -> Answer {
    Answer {
        status: 429,
        body: json!({"errors": [{
            "error": "RATE_LIMIT_REACHED",
            "message": "Rate limit exceeded. Please try again later"
        }]}),
    }
}

fn unauthorized() -> Answer {
    error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn create_record(
    State(shared): State<Arc<Shared>>,
    Json(record): Json<FakeRecord>,
) -> Response {
    let now = shared.clock.now();
    let mut record = record;
    if shared.table().schema.contains("Last Modified") {
        record.fields.insert(
            "Last Modified".to_owned(),
            Value::String(crate::airtable_time(now)),
        );
    }
    let stored = shared.table().insert(record, now);
    (StatusCode::CREATED, Json(stored)).into_response()
}

#[derive(Deserialize)]
struct FieldsBody {
    fields: Map<String, Value>,
}

async fn update_record(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(body): Json<FieldsBody>,
) -> Response {
    let now = shared.clock.now();
    match shared.table().update(&id, body.fields, now) {
        Some(record) => Json(record).into_response(),
        None => not_found(&id),
    }
}

async fn delete_record(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    if shared.table().delete(&id) {
        Json(json!({"deleted": true, "id": id})).into_response()
    } else {
        not_found(&id)
    }
}

fn not_found(id: &str) -> Response {
    json_response(error(404, "NOT_FOUND", &format!("no record {id}")))
}

async fn add_fault(State(shared): State<Arc<Shared>>, Json(spec): Json<FaultSpec>) -> Response {
    match spec.to_faults() {
        Ok(faults) => {
            let count = faults.len();
            shared.table().faults.extend(faults);
            (StatusCode::CREATED, Json(json!({"queued": count}))).into_response()
        }
        Err(message) => json_response(error(400, "INVALID_FAULT", &message)),
    }
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.table().requests.clone()).into_response()
}
