//! `http` against a real local server: what it sends, and how each kind of answer ends the run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use serde_json::{Value, json};
use tidings_engine::{JobError, JobRegistry};
use tidings_jobs::HttpJob;
use tokio_util::sync::CancellationToken;

use crate::run_job;
use crate::server::HookServer;

/// A variable name no other test (or the machine) uses.
const TOKEN_VAR: &str = "TIDINGS_JOBS_TEST_HOOK_TOKEN_7F3A";
const TOKEN: &str = "s3cr3t-t0ken";

/// A registry whose `http` job reads variables from `vars` only.
fn with_env(vars: &[(&str, &str)]) -> JobRegistry {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut registry = JobRegistry::new();
    registry.register(HttpJob::new().with_environment(vars));
    registry
}

async fn call(params: Value) -> Result<Value, JobError> {
    run_job(&with_env(&[]), "http", params, CancellationToken::new()).await
}

fn fatal(outcome: Result<Value, JobError>) -> String {
    match outcome {
        Err(JobError::Fatal(message)) => message,
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

fn retryable(outcome: Result<Value, JobError>) -> String {
    match outcome {
        Err(JobError::Retryable(message)) => message,
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

#[tokio::test]
async fn sends_method_headers_and_json_body_with_variables_resolved() {
    let server = HookServer::start().await;
    let params = json!({
        "method": "POST",
        "url": server.url("/ok"),
        "headers": { "Authorization": format!("Bearer ${{{TOKEN_VAR}}}"), "X-Tag": "feedback" },
        "body": { "alert": "rating dropped", "count": 3 },
    });
    let registry = with_env(&[(TOKEN_VAR, TOKEN)]);
    let summary = run_job(&registry, "http", params, CancellationToken::new())
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri.path(), "/ok");
    assert_eq!(
        request.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert_eq!(request.headers["x-tag"], "feedback");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(
        request.headers["user-agent"],
        format!("tidings/{}", env!("CARGO_PKG_VERSION")).as_str()
    );
    let sent: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(sent, json!({ "alert": "rating dropped", "count": 3 }));

    assert_eq!(summary["status"], 200);
    assert_eq!(summary["bytes"], 11);
    assert_eq!(summary["body"], json!({ "ok": true }));
    assert!(summary["elapsed_ms"].is_u64(), "{summary}");
    let keys: Vec<&String> = summary.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["body", "bytes", "elapsed_ms", "status"]);
}

#[tokio::test]
async fn sends_a_string_body_as_text_and_keeps_the_first_kib_of_the_answer() {
    let server = HookServer::start().await;
    let summary = call(json!({
        "method": "put",
        "url": server.url("/text"),
        "headers": { "Content-Type": "text/markdown" },
        "body": "# Daily report",
    }))
    .await
    .unwrap();

    let request = &server.requests()[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(request.headers["content-type"], "text/markdown");
    assert_eq!(&request.body[..], b"# Daily report");
    assert_eq!(summary["bytes"], 3000);
    assert_eq!(summary["body"], "abcdefghij".repeat(300)[..1024]);
}

#[tokio::test]
async fn head_gets_no_body() {
    let server = HookServer::start().await;
    let summary = call(json!({ "method": "HEAD", "url": server.url("/text") }))
        .await
        .unwrap();
    assert_eq!(server.requests()[0].method, "HEAD");
    assert_eq!(summary["status"], 200);
    assert_eq!(summary["bytes"], 0);
    assert_eq!(summary["body"], "");
}

#[tokio::test]
async fn a_404_is_fatal_and_says_what_was_called() {
    let server = HookServer::start().await;
    let url = server.url("/status/404");
    let message = fatal(call(json!({ "method": "POST", "url": url, "body": {} })).await);
    assert_eq!(
        message,
        format!("POST {url} answered 404 Not Found; expected 2xx: no such hook")
    );
}

#[tokio::test]
async fn an_expected_404_succeeds() {
    let server = HookServer::start().await;
    let summary =
        call(json!({ "url": server.url("/status/404"), "expected_status": [404, "2xx"] }))
            .await
            .unwrap();
    assert_eq!(summary["status"], 404);
    assert_eq!(summary["body"], "no such hook");
}

#[tokio::test]
async fn a_200_outside_expected_status_is_fatal() {
    let server = HookServer::start().await;
    let url = server.url("/ok");
    let message = fatal(call(json!({ "url": url, "expected_status": "204" })).await);
    assert!(
        message.starts_with(&format!("GET {url} answered 200 OK; expected 204")),
        "{message}"
    );
}

#[tokio::test]
async fn a_503_is_retryable() {
    let server = HookServer::start().await;
    let url = server.url("/status/503");
    let message = retryable(call(json!({ "url": url })).await);
    assert_eq!(
        message,
        format!("GET {url} answered 503 Service Unavailable; expected 2xx: no such hook")
    );
}

#[tokio::test]
async fn a_429_with_retry_after_snoozes_that_long() {
    let server = HookServer::start().await;
    let outcome = call(json!({ "url": server.url("/rate-limited?after=7") })).await;
    assert_eq!(outcome, Err(JobError::Snooze(SignedDuration::from_secs(7))));

    let outcome = call(json!({ "url": server.url("/rate-limited?after=90000") })).await;
    assert_eq!(
        outcome,
        Err(JobError::Snooze(SignedDuration::from_secs(3600)))
    );

    let message = retryable(call(json!({ "url": server.url("/rate-limited") })).await);
    assert!(
        message.contains("answered 429 Too Many Requests"),
        "{message}"
    );
}

#[tokio::test]
async fn an_answer_later_than_the_timeout_is_retryable() {
    let server = HookServer::start().await;
    let url = server.url("/hang");
    let started = Instant::now();
    let message = retryable(call(json!({ "url": url, "timeout_seconds": 1 })).await);
    assert_eq!(
        message,
        format!("GET {url}: no complete answer within the timeout of 1 s")
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn cancelling_aborts_the_request() {
    let server = HookServer::start().await;
    let url = server.url("/hang");
    let cancel = CancellationToken::new();
    let job = {
        let cancel = cancel.clone();
        let params = json!({ "url": url, "timeout_seconds": 3600 });
        tokio::spawn(async move { run_job(&with_env(&[]), "http", params, cancel).await })
    };
    server.request_arrived().await;
    cancel.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(10), job)
        .await
        .expect("the job ignored the cancellation")
        .unwrap();
    assert_eq!(
        outcome,
        Err(JobError::Cancel(format!("GET {url}: cancelled")))
    );
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let message = retryable(call(json!({ "url": url })).await);
    assert!(
        message.starts_with(&format!("GET {url}: could not connect: ")),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_variable_is_fatal_and_names_it_but_no_value() {
    let server = HookServer::start().await;
    let missing = "TIDINGS_JOBS_TEST_UNSET_9C1E";
    let params = json!({
        "url": server.url("/ok"),
        "headers": {
            "Authorization": format!("Bearer ${{{missing}}}"),
            "X-Token": format!("${{{TOKEN_VAR}}}"),
            "X-Literal": "inline-secret-value",
        },
    });
    let registry = with_env(&[(TOKEN_VAR, TOKEN)]);
    let message = fatal(run_job(&registry, "http", params, CancellationToken::new()).await);
    assert!(message.contains(&format!("`{missing}`")), "{message}");
    assert!(message.contains("`authorization`"), "{message}");
    for secret in [TOKEN, "Bearer", "inline-secret-value"] {
        assert!(!message.contains(secret), "{message} shows {secret:?}");
    }
    assert!(
        server.requests().is_empty(),
        "a request was sent without its header"
    );
}

#[tokio::test]
async fn a_password_in_the_url_is_masked_in_messages() {
    let server = HookServer::start().await;
    let url = format!(
        "http://hook:pa55word@127.0.0.1:{}/status/401",
        server.port()
    );
    let message = fatal(call(json!({ "url": url })).await);
    assert!(message.contains("http://hook:***@127.0.0.1"), "{message}");
    assert!(!message.contains("pa55word"), "{message}");
}

#[tokio::test]
async fn redirects_are_followed_within_the_origin_only() {
    let server = HookServer::start().await;
    let summary = call(json!({ "url": server.url("/redirect/same") }))
        .await
        .unwrap();
    assert_eq!(summary["status"], 200);
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(paths, ["/redirect/same", "/ok"]);

    let server = HookServer::start().await;
    let params = json!({
        "url": server.url("/redirect/other"),
        "headers": { "X-Api-Key": format!("${{{TOKEN_VAR}}}") },
    });
    let registry = with_env(&[(TOKEN_VAR, TOKEN)]);
    let message = fatal(run_job(&registry, "http", params, CancellationToken::new()).await);
    assert!(
        message.contains("answered 302 Found; expected 2xx"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "redirect to http://localhost:{} was not followed",
            server.port()
        )),
        "{message}"
    );
    assert_eq!(server.requests().len(), 1, "the key went to another origin");
}
