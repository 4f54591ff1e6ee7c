//! A real HTTP server on 127.0.0.1 that records every request and answers by path:
//!
//! - `/ok`: 200 `{"ok":true}` (JSON);
//! - `/text`: 200 with 3000 bytes of text;
//! - `/status/<code>`: `<code>` with the body "no such hook";
//! - `/rate-limited` (`?after=<s>` adds `Retry-After: <s>`): 429;
//! - `/hang`: never answers;
//! - `/redirect/same`: 302 to `/ok`; `/redirect/other`: 302 to the same server under the name
//!   `localhost`, another origin.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

pub(crate) struct HookServer {
    port: u16,
    state: Arc<Shared>,
}

struct Shared {
    port: u16,
    requests: Mutex<Vec<Recorded>>,
    arrived: Notify,
}

impl HookServer {
    pub(crate) async fn start() -> HookServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Shared {
            port,
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let app = Router::new().fallback(answer).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        HookServer { port, state }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until a request has arrived.
    pub(crate) async fn request_arrived(&self) {
        let arrived = self.state.arrived.notified();
        if !self.requests().is_empty() {
            return;
        }
        tokio::time::timeout(Duration::from_secs(10), arrived)
            .await
            .expect("no request arrived within 10 s");
    }
}

async fn answer(
    State(state): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    state.requests.lock().unwrap().push(Recorded {
        method,
        uri,
        headers,
        body,
    });
    state.arrived.notify_waiters();
    match path.as_str() {
        "/ok" => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"ok":true}"#,
        )
            .into_response(),
        "/text" => "abcdefghij".repeat(300).into_response(),
        "/rate-limited" => match query.strip_prefix("after=") {
            Some(after) => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, after.to_owned())],
                "slow down",
            )
                .into_response(),
            None => (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response(),
        },
        "/hang" => std::future::pending::<Response>().await,
        "/redirect/same" => (StatusCode::FOUND, [(header::LOCATION, "/ok")]).into_response(),
        "/redirect/other" => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("http://localhost:{}/ok", state.port),
            )],
        )
            .into_response(),
        _ => match path.strip_prefix("/status/").and_then(|c| c.parse().ok()) {
            Some(code) => (StatusCode::from_u16(code).unwrap(), "no such hook").into_response(),
            None => (StatusCode::NOT_FOUND, "unknown test path").into_response(),
        },
    }
}
