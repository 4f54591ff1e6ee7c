//! The OpenAPI document: it is OpenAPI 3.1, it lists exactly the routes the router serves, and
//! every answer any test receives matches the schema it declares for that route, method and
//! status ([`check_answer`], called by every `TestApp` request).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde_json::{Value, json};

use crate::helpers::{Answer, ROUTES, SELF_DOCUMENTING, TestApp};

/// The document, as `tidings_api::openapi()` builds it (a test checks that it is the one
/// served at `/api/openapi.json`).
static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| serde_json::to_value(tidings_api::openapi()).unwrap());

/// The document every answer is checked against.
pub(crate) fn document() -> &'static Value {
    &DOCUMENT
}

/// Compiled response schemas, by JSON pointer into the document.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Mutex::default);

/// Panics unless `answer` is what the document declares for `route`: a declared status, a
/// declared media type, and a body valid against that media type's schema.
#[track_caller]
pub(crate) fn check_answer(route: &str, answer: &Answer) {
    if let Err(problem) = check(route, answer) {
        panic!("{problem}\n  answer: {answer}");
    }
}

/// Panics unless `body`, which the server accepted, is valid against the request schema the
/// document declares for `method route` (so that a client generated from the document can
/// send what the server takes).
#[track_caller]
pub(crate) fn check_accepted_request(method: &str, route: &str, body: &Value) {
    let method = method.to_lowercase();
    let Some(schema) = DOCUMENT["paths"]
        .get(route)
        .and_then(|item| item.get(&method))
        .and_then(|operation| operation.pointer("/requestBody/content/application~1json/schema"))
    else {
        panic!("{method} {route} took a JSON body the OpenAPI document does not declare: {body}");
    };
    let pointer = format!(
        "/paths/{}/{method}/requestBody/content/application~1json/schema",
        escape(route)
    );
    let validator = validator(&pointer, schema).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} (at `{}`)", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {route} accepted a body that does not match its documented schema:\n  - {}\n  body: {body}",
        errors.join("\n  - ")
    );
}

/// Why `answer` does not match the document, if it does not.
fn check(route: &str, answer: &Answer) -> Result<(), String> {
    if SELF_DOCUMENTING.contains(&route) {
        return Ok(());
    }
    let method = answer.method.to_lowercase();
    let Some(item) = DOCUMENT["paths"].get(route) else {
        // Only the answer to an unknown route may come from a route the document lacks.
        return if answer.status == 404 {
            Ok(())
        } else {
            Err(format!("{route} is not in the OpenAPI document"))
        };
    };
    let Some(operation) = item.get(&method) else {
        return if answer.status == 405 {
            Ok(())
        } else {
            Err(format!("{method} {route} is not in the OpenAPI document"))
        };
    };
    let status = answer.status.as_u16().to_string();
    let Some(response) = operation["responses"].get(&status) else {
        return Err(format!(
            "{method} {route} answered {status}, which the OpenAPI document does not declare (it declares {:?})",
            operation["responses"]
                .as_object()
                .map(|r| r.keys().collect::<Vec<_>>())
                .unwrap_or_default()
        ));
    };
    let response = resolve(response);
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if answer.text.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {route} {status} is declared without a body, but has one"
            ))
        };
    };
    let media = answer.content_type().split(';').next().unwrap_or("").trim();
    let Some(entry) = content.get(media) else {
        return Err(format!(
            "{method} {route} {status} answered {media:?}; the document declares {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if !media.ends_with("json") {
        return Ok(());
    }
    let pointer = format!(
        "/paths/{}/{method}/responses/{status}/content/{}/schema",
        escape(route),
        escape(media)
    );
    let validator = validator(&pointer, &entry["schema"])?;
    let errors: Vec<String> = validator
        .iter_errors(&answer.body)
        .map(|e| format!("{} (at `{}`)", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{method} {route} {status}: the body does not match the documented schema:\n  - {}",
            errors.join("\n  - ")
        ))
    }
}

/// A response object, or the one its `$ref` points to.
fn resolve(response: &Value) -> &Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => DOCUMENT
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {reference}")),
        None => response,
    }
}

/// A JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The compiled schema at `pointer`: `schema` with the document's components beside it, so
/// that its `$ref`s to `#/components/schemas/…` resolve.
fn validator(pointer: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = cache.get(pointer) {
        return Ok(found.clone());
    }
    let rooted = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": DOCUMENT["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&rooted)
        .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
    let validator = Arc::new(validator);
    cache.insert(pointer.to_owned(), validator.clone());
    Ok(validator)
}

/// Every `(METHOD, path)` the document describes.
pub(crate) fn documented_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in DOCUMENT["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
            ) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

async fn the_document_is_openapi_3_1_and_is_served_without_a_key(app: TestApp) {
    let answer = app.without_key().openapi().await.assert_status(200);
    assert!(
        answer.content_type().starts_with("application/json"),
        "{answer}"
    );
    let version = answer.body["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "openapi is {version}");
    assert_eq!(
        answer.body, *DOCUMENT,
        "the served document is tidings_api::openapi()"
    );
    assert_eq!(answer.body["info"]["title"], "tidings");
    let schemes = &answer.body["components"]["securitySchemes"];
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
}

async fn the_document_lists_exactly_the_served_routes(app: TestApp) {
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|(_, path)| !SELF_DOCUMENTING.contains(path))
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let documented = documented_routes();
    assert_eq!(
        documented.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served (or not known to TestApp)"
    );
    assert_eq!(
        served.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not documented"
    );
    // And the router does serve each one: none falls through to the unknown-route answer.
    let admin = app.with_key(tidings_store::ApiKeyRole::Admin);
    for (method, route) in ROUTES {
        let path = route
            .replace("{id}", "999999")
            .replace("{key}", "no-such-key")
            .replace("{name}", "no-such-source");
        let takes_body = DOCUMENT["paths"][route][method.to_lowercase()]
            .get("requestBody")
            .is_some();
        let body = takes_body.then(|| json!({}));
        let answer = admin.call(method, route, &path, body.as_ref()).await;
        assert_ne!(answer.status, 405, "{answer}");
        let detail = answer.body["detail"].as_str().unwrap_or("");
        assert!(!detail.starts_with("no route for"), "{answer}");
    }
}

async fn swagger_ui_is_served_without_a_key(app: TestApp) {
    let answer = app.without_key().docs().await.assert_status(200);
    assert!(answer.content_type().starts_with("text/html"), "{answer}");
    assert!(answer.text.contains("swagger"), "{answer}");
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let answer = app
        .call("GET", "/api/nowhere", "/api/nowhere", None)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(answer.body["detail"], "no route for GET /api/nowhere");
    app.call("DELETE", "/api/runs", "/api/runs", None)
        .await
        .assert_problem(405, "method-not-allowed");
}

/// The check that every other test relies on does catch a body that is not what the document
/// says, and a status it does not declare.
async fn the_schema_check_refuses_what_the_document_does_not_declare(app: TestApp) {
    let good = app.healthz().await.assert_status(200);
    assert!(check("/healthz", &good).is_ok());

    let schedule = app
        .create_schedule(&json!({"name": "checked", "interval": "2h", "kind": "noop"}))
        .await
        .assert_status(201);
    let mut body = schedule.body.clone();
    body.as_object_mut().unwrap().remove("name");
    body["enabled"] = json!("yes");
    let broken = Answer { body, ..schedule };
    let problem = check("/api/schedules", &broken).unwrap_err();
    assert!(
        problem.contains("\"name\" is a required property"),
        "{problem}"
    );
    assert!(problem.contains("/enabled"), "{problem}");

    let undeclared = Answer {
        status: axum::http::StatusCode::IM_A_TEAPOT,
        ..app.healthz().await
    };
    let problem = check("/healthz", &undeclared).unwrap_err();
    assert!(problem.contains("does not declare"), "{problem}");
}

both_backends!(
    the_document_is_openapi_3_1_and_is_served_without_a_key,
    the_document_lists_exactly_the_served_routes,
    swagger_ui_is_served_without_a_key,
    unknown_routes_and_methods_are_problems,
    the_schema_check_refuses_what_the_document_does_not_declare,
);
