//! API keys on every route: the routes come from the OpenAPI document itself, so that a new
//! route cannot be left out of the matrix. GET needs `read`, changes `write`, `/api/keys`
//! `admin`, `POST /api/cron/preview` only `read`; health, readiness, metrics and the
//! documentation need no key.

use serde_json::{Value, json};
use tidings_store::{ApiKeyCreateParams, ApiKeyRole};

use crate::helpers::{SELF_DOCUMENTING, TestApp};
use crate::openapi::documented_routes;

/// The routes that answer without a key.
const OPEN: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// The role the rule says `method path` needs; `None`: no key needed.
fn needed(method: &str, path: &str) -> Option<ApiKeyRole> {
    if OPEN.contains(&path) || SELF_DOCUMENTING.contains(&path) {
        None
    } else if path == "/api/keys" || path.starts_with("/api/keys/") {
        Some(ApiKeyRole::Admin)
    } else if method == "GET" || path == "/api/cron/preview" {
        Some(ApiKeyRole::Read)
    } else {
        Some(ApiKeyRole::Write)
    }
}

/// Every route: the document's, and the two serving it.
fn every_route() -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = documented_routes().into_iter().collect();
    routes.extend(
        SELF_DOCUMENTING
            .iter()
            .map(|path| ("GET".to_owned(), (*path).to_owned())),
    );
    routes
}

/// Calls `method route` with ids and names that name nothing (so that a change, when allowed,
/// changes nothing) and an empty JSON body on routes that take one.
async fn call(app: &TestApp, method: &str, route: &str) -> crate::helpers::Answer {
    let path = route
        .replace("{id}", "424242")
        .replace("{key}", "no-such-key")
        .replace("{name}", "no-such-source");
    let takes_body = crate::openapi::document()["paths"][route][method.to_lowercase()]
        .get("requestBody")
        .is_some();
    let body = takes_body.then(|| json!({}));
    app.call(method, route, &path, body.as_ref()).await
}

#[track_caller]
fn assert_unauthorized(answer: &crate::helpers::Answer) {
    assert_eq!(answer.status, 401, "{answer}");
    assert_eq!(answer.problem(), "unauthorized", "{answer}");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer realm=\"tidings\""),
        "{answer}"
    );
}

async fn every_route_needs_the_role_the_rule_says(app: TestApp) {
    let unknown = tidings_api::keys::generate().token;
    let routes = every_route();
    assert!(routes.len() >= 20, "{routes:?}");
    for (method, route) in &routes {
        let needed = needed(method, route);
        let document = crate::openapi::document();
        let security = document["paths"]
            .get(route.as_str())
            .map(|item| &item[method.to_lowercase()]["security"]);
        match needed {
            None => {
                // Open: nothing sent, a bad key, any key; none is refused.
                for caller in [
                    app.without_key(),
                    app.with_key("hunter2"),
                    app.with_key(ApiKeyRole::Read),
                ] {
                    let answer = call(&caller, method, route).await;
                    assert!(answer.status != 401 && answer.status != 403, "{answer}");
                }
                if let Some(security) = security {
                    assert_eq!(*security, Value::Null, "{method} {route} documents a key");
                }
            }
            Some(needed) => {
                assert_eq!(
                    security.cloned(),
                    Some(json!([{"api_key": []}, {"bearer": []}])),
                    "{method} {route} does not document its key"
                );
                for caller in [
                    app.without_key(),
                    app.with_key(""),
                    app.with_key("hunter2"),
                    app.with_key(&unknown),
                    app.with_bearer("hunter2"),
                    app.with_bearer(&unknown),
                ] {
                    assert_unauthorized(&call(&caller, method, route).await);
                }
                for role in ApiKeyRole::ALL {
                    for caller in [app.with_key(role), app.with_bearer(role)] {
                        let answer = call(&caller, method, route).await;
                        if role >= needed {
                            assert!(
                                answer.status != 401 && answer.status != 403,
                                "{} may {method} {route}: {answer}",
                                role.as_str()
                            );
                        } else {
                            assert_eq!(answer.status, 403, "{answer}");
                            assert_eq!(answer.problem(), "forbidden", "{answer}");
                            let detail = answer.body["detail"].as_str().unwrap();
                            assert!(
                                detail.contains(&format!(
                                    "needs a key with role `{}`",
                                    needed.as_str()
                                )),
                                "{answer}"
                            );
                        }
                    }
                }
            }
        }
    }
}

async fn a_key_revoked_before_its_first_use_is_refused(app: TestApp) {
    let new = tidings_api::keys::generate();
    app.store
        .api_key_create(ApiKeyCreateParams {
            name: "leaked".to_owned(),
            role: ApiKeyRole::Admin,
            prefix: new.prefix.clone(),
            hash: new.hash.clone(),
            now: app.now(),
        })
        .await
        .unwrap();
    app.with_key(ApiKeyRole::Admin)
        .revoke_key("leaked")
        .await
        .assert_status(200);
    for caller in [app.with_key(&new.token), app.with_bearer(&new.token)] {
        assert_unauthorized(&caller.list_schedules("").await);
    }
}

async fn a_malformed_authorization_header_is_refused(app: TestApp) {
    let basic = app
        .without_key()
        .with_header("authorization", "Basic d3JpdGVyOnNlY3JldA==");
    assert_unauthorized(&basic.list_schedules("").await);
    // A valid key in the wrong scheme is still refused.
    let token = app.key(ApiKeyRole::Admin).to_owned();
    let wrong_scheme = app
        .without_key()
        .with_header("authorization", &format!("Token {token}"));
    assert_unauthorized(&wrong_scheme.list_schedules("").await);
    // `bearer` in any case.
    let lower = app
        .without_key()
        .with_header("authorization", &format!("bearer {token}"));
    lower.list_schedules("").await.assert_status(200);
}

both_backends!(
    every_route_needs_the_role_the_rule_says,
    a_key_revoked_before_its_first_use_is_refused,
    a_malformed_authorization_header_is_refused,
);
