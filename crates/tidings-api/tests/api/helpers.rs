//! `spawn_app(backend, configure)`: the API served on 127.0.0.1 over a fresh store, with a manual clock,
//! the built-in job kinds and three keys (read, write, admin); and [`TestApp`], one method per
//! endpoint, each returning what the client got as an [`Answer`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tidings_api::{ApiConfig, ApiState, PROBLEM_BASE, SourceInfo};
use tidings_core::{Clock, ManualClock, Zone};
use tidings_engine::draft::DraftDefaults;
use tidings_engine::{Engine, EngineConfig, JobRegistry};
use tidings_store::{ApiKeyCreateParams, ApiKeyRole, Run, Store};
pub(crate) use tidings_storetest::TestBackend;
use tidings_storetest::TestStore;

/// Where every test's clock starts: a Friday, two days before New York springs forward
/// (2025-03-09, 02:00 → 03:00).
pub(crate) const START: &str = "2025-03-07T12:00:00Z";

/// The shortest interval a schedule may have in these tests, as seed 004 asked (one hour).
pub(crate) const MIN_INTERVAL: SignedDuration = SignedDuration::from_secs(3600);

/// The largest request body the test server accepts (small, so that `413` is cheap to reach).
pub(crate) const BODY_LIMIT: usize = 16 * 1024;

/// Every route the router serves, as `TestApp` calls it: the OpenAPI document must list
/// exactly these, except the two that serve the document itself.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/feedback"),
    ("GET", "/api/feedback/{id}"),
    ("GET", "/api/sources"),
    ("POST", "/api/sources/{name}/sync"),
    ("GET", "/api/cache/status"),
    ("POST", "/api/cache/update-full"),
    ("POST", "/api/cache/update-incremental"),
    ("POST", "/api/schedules"),
    ("GET", "/api/schedules"),
    ("GET", "/api/schedules/{id}"),
    ("PUT", "/api/schedules/{id}"),
    ("PATCH", "/api/schedules/{id}"),
    ("DELETE", "/api/schedules/{id}"),
    ("POST", "/api/schedules/{id}/enable"),
    ("POST", "/api/schedules/{id}/disable"),
    ("POST", "/api/schedules/{id}/run"),
    ("GET", "/api/schedules/{id}/history"),
    ("GET", "/api/schedules/{id}/preview"),
    ("GET", "/api/stats"),
    ("GET", "/api/stats/groups"),
    ("POST", "/api/cron/preview"),
    ("GET", "/api/runs"),
    ("POST", "/api/runs"),
    ("POST", "/api/runs/batch"),
    ("GET", "/api/runs/{id}"),
    ("POST", "/api/runs/{id}/cancel"),
    ("GET", "/api/keys"),
    ("POST", "/api/keys"),
    ("DELETE", "/api/keys/{key}"),
    ("GET", "/api/status"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs/"),
];

/// The routes that serve the documentation and are not described in it.
pub(crate) const SELF_DOCUMENTING: &[&str] = &["/api/openapi.json", "/api/docs/"];

/// The sources every app is configured with: seed 004's two projects, both reading the
/// shipped sample ([`SAMPLE_RECORDS`] records), stale after [`STALE_AFTER`].
pub(crate) const SOURCES: [&str; 2] = ["customer_project", "sales_project"];

/// How many records `samples/feedback.csv` has.
pub(crate) const SAMPLE_RECORDS: usize = 5_200;

/// How long after its last successful sync a source's cache is stale, in these tests.
pub(crate) const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// The shipped sample feedback.
fn sample_path() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/feedback.csv")
}

/// Runs `case` against a fresh app on `backend`, then removes its database, also when the case
/// fails (the failure is then re-raised).
pub(crate) async fn run<F, Fut>(backend: TestBackend, case: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_configured(backend, |_| {}, case).await;
}

/// [`run`] with the API's configuration changed by `configure` first.
pub(crate) async fn run_configured<F, Fut>(
    backend: TestBackend,
    configure: impl FnOnce(&mut ApiConfig),
    case: F,
) where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let app = spawn_app(backend, configure).await;
    let database = app.database.lock().unwrap().take().unwrap();
    let outcome = tokio::spawn(case(app)).await;
    database.close().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the case did not finish: {error}"),
        }
    }
}

/// One `#[tokio::test]` per case and backend, in modules `sqlite` and `postgres`:
/// `both_backends!(create_in_seed_shape, …)` over `async fn create_in_seed_shape(app: TestApp)`.
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::helpers::run($crate::helpers::TestBackend::Sqlite, super::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::helpers::run($crate::helpers::TestBackend::Postgres, super::$case).await;
                }
            )*
        }
    };
}

/// The three keys every app starts with.
pub(crate) struct Keys {
    pub(crate) read: String,
    pub(crate) write: String,
    pub(crate) admin: String,
}

/// How a request presents its key.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    Nothing,
    Header(String),
    Bearer(String),
}

/// A key to send: one of the app's by role, or any text.
pub(crate) enum KeyChoice {
    Role(ApiKeyRole),
    Raw(String),
}

impl From<ApiKeyRole> for KeyChoice {
    fn from(role: ApiKeyRole) -> KeyChoice {
        KeyChoice::Role(role)
    }
}

impl From<&str> for KeyChoice {
    fn from(raw: &str) -> KeyChoice {
        KeyChoice::Raw(raw.to_owned())
    }
}

impl From<&String> for KeyChoice {
    fn from(raw: &String) -> KeyChoice {
        KeyChoice::Raw(raw.clone())
    }
}

/// The API served over a fresh store, and a client for it. Cheap to clone; `with_*` return a
/// clone that sends other credentials or headers.
#[derive(Clone)]
pub(crate) struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub(crate) address: String,
    pub(crate) backend: TestBackend,
    pub(crate) state: ApiState,
    pub(crate) engine: Engine,
    pub(crate) clock: ManualClock,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: Arc<Keys>,
    client: reqwest::Client,
    auth: Auth,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Taken by [`run`], which removes it after the case.
    database: Arc<Mutex<Option<TestStore>>>,
}

/// Serves the API on 127.0.0.1:0 over a fresh store of `backend`: a manual clock at
/// [`START`], the built-in job kinds, `min_interval` of [`MIN_INTERVAL`], a body limit of
/// [`BODY_LIMIT`], metrics on, and a read, a write and an admin key created in the store.
/// `configure` may change the API's configuration first (by default it lists [`SOURCES`]).
pub(crate) async fn spawn_app(
    backend: TestBackend,
    configure: impl FnOnce(&mut ApiConfig),
) -> TestApp {
    // The workspace's reqwest is built on rustls without a provider; ours is ring.
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let database = TestStore::open(backend).await;
    let store = database.store.clone();
    let clock = ManualClock::new(START.parse().unwrap());
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry, tidings_jobs::WebhookSettings::default());
    // Seed 004's projects, as CSV sources of the shipped sample feedback.
    let sources = SOURCES
        .into_iter()
        .map(|name| {
            let csv = tidings_sources::CsvSource::new(sample_path());
            (name.to_owned(), tidings_jobs::SourceDef::Csv(csv))
        })
        .collect();
    registry.register(tidings_jobs::SyncJob::new(sources));
    let engine = Engine::new(
        store.clone(),
        Arc::new(clock.clone()),
        registry.clone(),
        EngineConfig {
            instance: "api-test".to_owned(),
            min_interval: MIN_INTERVAL,
            ..EngineConfig::default()
        },
    );
    let drafts = DraftDefaults::new(Zone::utc(), Some(SignedDuration::from_secs(300)), registry);
    let mut config = ApiConfig {
        body_limit: BODY_LIMIT,
        database: format!("{backend:?} (test)"),
        sources: SOURCES
            .into_iter()
            .map(|name| SourceInfo {
                name: name.to_owned(),
                kind: "csv".to_owned(),
                location: sample_path().to_owned(),
                stale_after: STALE_AFTER,
            })
            .collect(),
        ..ApiConfig::default()
    };
    configure(&mut config);
    let state = ApiState::new(
        engine.clone(),
        config,
        drafts,
        tidings_api::install_metrics(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = tidings_api::router(state.clone());
    tokio::spawn(axum::serve(listener, router).into_future());

    let key = async |name: &str, role: ApiKeyRole| {
        let new = tidings_api::keys::generate();
        store
            .api_key_create(ApiKeyCreateParams {
                name: name.to_owned(),
                role,
                prefix: new.prefix,
                hash: new.hash,
                now: clock.now(),
            })
            .await
            .unwrap();
        new.token
    };
    let keys = Keys {
        read: key("reader", ApiKeyRole::Read).await,
        write: key("writer", ApiKeyRole::Write).await,
        admin: key("administrator", ApiKeyRole::Admin).await,
    };
    TestApp {
        address,
        backend,
        auth: Auth::Header(keys.write.clone()),
        keys: Arc::new(keys),
        state,
        engine,
        clock,
        store,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        headers: Vec::new(),
        database: Arc::new(Mutex::new(Some(database))),
    }
}

/// What the client got.
pub(crate) struct Answer {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The body as JSON; `Null` when it is empty or not JSON.
    pub(crate) body: Value,
    /// The body as text (after gzip, when the server compressed it).
    pub(crate) text: String,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} → {} {}: {}",
            self.method,
            self.path,
            self.status.as_u16(),
            self.content_type(),
            self.text
        )
    }
}

impl Answer {
    /// Panics (showing the answer) unless the status is `status`; returns the answer.
    #[track_caller]
    pub(crate) fn assert_status(self, status: u16) -> Answer {
        assert_eq!(self.status.as_u16(), status, "{self}");
        self
    }

    /// The body of a `status` answer.
    #[track_caller]
    pub(crate) fn json(self, status: u16) -> Value {
        self.assert_status(status).body
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// The problem's type without [`PROBLEM_BASE`] (`invalid-request`), after checking that the
    /// answer is a problem of its own status.
    #[track_caller]
    pub(crate) fn problem(&self) -> &str {
        assert_eq!(self.content_type(), "application/problem+json", "{self}");
        assert_eq!(self.body["status"], self.status.as_u16(), "{self}");
        let kind = self.body["type"].as_str().unwrap_or("");
        kind.strip_prefix(PROBLEM_BASE)
            .unwrap_or_else(|| panic!("problem type not under {PROBLEM_BASE}: {self}"))
    }

    /// Panics unless this is a `status` problem of type `slug`; returns the answer.
    #[track_caller]
    pub(crate) fn assert_problem(self, status: u16, slug: &str) -> Answer {
        let answer = self.assert_status(status);
        assert_eq!(answer.problem(), slug, "{answer}");
        answer
    }

    /// The fields named in `errors` of an `invalid-request` problem.
    #[track_caller]
    pub(crate) fn error_fields(&self) -> Vec<&str> {
        self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors: {self}"))
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect()
    }

    /// The message of the error about `field`.
    #[track_caller]
    pub(crate) fn error_message(&self, field: &str) -> &str {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["field"] == field)
            .and_then(|e| e["message"].as_str())
            .unwrap_or_else(|| panic!("no error about `{field}`: {self}"))
    }
}

impl TestApp {
    pub(crate) fn key(&self, role: ApiKeyRole) -> &str {
        match role {
            ApiKeyRole::Read => &self.keys.read,
            ApiKeyRole::Write => &self.keys.write,
            ApiKeyRole::Admin => &self.keys.admin,
        }
    }

    /// Sends this key (one of the app's by role, or any text) as `X-API-Key`.
    pub(crate) fn with_key(&self, key: impl Into<KeyChoice>) -> TestApp {
        let token = match key.into() {
            KeyChoice::Role(role) => self.key(role).to_owned(),
            KeyChoice::Raw(raw) => raw,
        };
        TestApp {
            auth: Auth::Header(token),
            ..self.clone()
        }
    }

    /// Sends this key as `Authorization: Bearer`.
    pub(crate) fn with_bearer(&self, key: impl Into<KeyChoice>) -> TestApp {
        let Auth::Header(token) = self.with_key(key).auth else {
            unreachable!("with_key sends a header");
        };
        TestApp {
            auth: Auth::Bearer(token),
            ..self.clone()
        }
    }

    /// Sends no key.
    pub(crate) fn without_key(&self) -> TestApp {
        TestApp {
            auth: Auth::Nothing,
            ..self.clone()
        }
    }

    /// Adds a header to every request.
    pub(crate) fn with_header(&self, name: &'static str, value: &str) -> TestApp {
        let mut app = self.clone();
        app.headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        ));
        app
    }

    /// Sends `method path` (`route` is its template in the OpenAPI document) with an optional
    /// JSON body, and checks the answer against the document.
    pub(crate) async fn call(
        &self,
        method: &str,
        route: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        let content_type = body.map(|_| "application/json");
        let answer = self.send(method, route, path, bytes, content_type).await;
        if let Some(body) = body
            && answer.status.is_success()
        {
            crate::openapi::check_accepted_request(method, route, body);
        }
        answer
    }

    /// Sends raw bytes with the given `Content-Type` (or none).
    pub(crate) async fn send(
        &self,
        method: &str,
        route: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: Option<&str>,
    ) -> Answer {
        let method_value = Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method_value, format!("{}{path}", self.address));
        match &self.auth {
            Auth::Nothing => {}
            Auth::Header(key) => request = request.header("x-api-key", key),
            Auth::Bearer(key) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
            }
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.bytes().await.unwrap().to_vec();
        let decoded = if headers
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v == "gzip")
        {
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut text)
                .unwrap();
            text
        } else {
            raw
        };
        let text = String::from_utf8_lossy(&decoded).into_owned();
        let answer = Answer {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            body: serde_json::from_slice(&decoded).unwrap_or(Value::Null),
            headers,
            text,
        };
        crate::openapi::check_answer(route, &answer);
        answer
    }

    // Schedules.

    pub(crate) async fn create_schedule(&self, body: &Value) -> Answer {
        self.call("POST", "/api/schedules", "/api/schedules", Some(body))
            .await
    }

    /// `query` without the `?` (`enabled=true&kind=noop`), or empty.
    pub(crate) async fn list_schedules(&self, query: &str) -> Answer {
        self.call(
            "GET",
            "/api/schedules",
            &with_query("/api/schedules", query),
            None,
        )
        .await
    }

    pub(crate) async fn get_schedule(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/schedules/{id}");
        self.call("GET", "/api/schedules/{id}", &path, None).await
    }

    pub(crate) async fn put_schedule(&self, id: impl fmt::Display, body: &Value) -> Answer {
        let path = format!("/api/schedules/{id}");
        self.call("PUT", "/api/schedules/{id}", &path, Some(body))
            .await
    }

    pub(crate) async fn patch_schedule(&self, id: impl fmt::Display, body: &Value) -> Answer {
        let path = format!("/api/schedules/{id}");
        self.call("PATCH", "/api/schedules/{id}", &path, Some(body))
            .await
    }

    pub(crate) async fn delete_schedule(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/schedules/{id}");
        self.call("DELETE", "/api/schedules/{id}", &path, None)
            .await
    }

    pub(crate) async fn enable(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/schedules/{id}/enable");
        self.call("POST", "/api/schedules/{id}/enable", &path, None)
            .await
    }

    pub(crate) async fn disable(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/schedules/{id}/disable");
        self.call("POST", "/api/schedules/{id}/disable", &path, None)
            .await
    }

    pub(crate) async fn run_schedule(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/schedules/{id}/run");
        self.call("POST", "/api/schedules/{id}/run", &path, None)
            .await
    }

    pub(crate) async fn history(&self, id: impl fmt::Display, query: &str) -> Answer {
        let path = with_query(&format!("/api/schedules/{id}/history"), query);
        self.call("GET", "/api/schedules/{id}/history", &path, None)
            .await
    }

    pub(crate) async fn preview(&self, id: impl fmt::Display, query: &str) -> Answer {
        let path = with_query(&format!("/api/schedules/{id}/preview"), query);
        self.call("GET", "/api/schedules/{id}/preview", &path, None)
            .await
    }

    // Cron.

    pub(crate) async fn cron_preview(&self, body: &Value) -> Answer {
        self.call("POST", "/api/cron/preview", "/api/cron/preview", Some(body))
            .await
    }

    // Runs.

    pub(crate) async fn list_runs(&self, query: &str) -> Answer {
        self.call("GET", "/api/runs", &with_query("/api/runs", query), None)
            .await
    }

    pub(crate) async fn get_run(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/runs/{id}");
        self.call("GET", "/api/runs/{id}", &path, None).await
    }

    pub(crate) async fn cancel_run(&self, id: impl fmt::Display, body: Option<&Value>) -> Answer {
        let path = format!("/api/runs/{id}/cancel");
        self.call("POST", "/api/runs/{id}/cancel", &path, body)
            .await
    }

    pub(crate) async fn create_run(&self, body: &Value) -> Answer {
        self.call("POST", "/api/runs", "/api/runs", Some(body))
            .await
    }

    /// `POST /api/runs/batch`.
    pub(crate) async fn create_runs(&self, body: &Value) -> Answer {
        self.call("POST", "/api/runs/batch", "/api/runs/batch", Some(body))
            .await
    }

    // Feedback and sources.

    /// `GET /api/feedback?query`.
    pub(crate) async fn list_feedback(&self, query: &str) -> Answer {
        let path = with_query("/api/feedback", query);
        self.call("GET", "/api/feedback", &path, None).await
    }

    /// `GET /api/feedback/?query`, as seed 000's clients call it.
    pub(crate) async fn list_feedback_slash(&self, query: &str) -> Answer {
        let path = with_query("/api/feedback/", query);
        self.call("GET", "/api/feedback", &path, None).await
    }

    pub(crate) async fn get_feedback(&self, id: impl fmt::Display) -> Answer {
        let path = format!("/api/feedback/{id}");
        self.call("GET", "/api/feedback/{id}", &path, None).await
    }

    pub(crate) async fn list_sources(&self) -> Answer {
        self.call("GET", "/api/sources", "/api/sources", None).await
    }

    /// `POST /api/sources/{name}/sync?query`.
    pub(crate) async fn sync_source(&self, name: &str, query: &str) -> Answer {
        let path = with_query(&format!("/api/sources/{name}/sync"), query);
        self.call("POST", "/api/sources/{name}/sync", &path, None)
            .await
    }

    pub(crate) async fn cache_status(&self) -> Answer {
        self.call("GET", "/api/cache/status", "/api/cache/status", None)
            .await
    }

    pub(crate) async fn update_full(&self) -> Answer {
        self.call(
            "POST",
            "/api/cache/update-full",
            "/api/cache/update-full",
            None,
        )
        .await
    }

    pub(crate) async fn update_incremental(&self) -> Answer {
        self.call(
            "POST",
            "/api/cache/update-incremental",
            "/api/cache/update-incremental",
            None,
        )
        .await
    }

    /// Queues a sync of `source` in `mode` over the API and runs it to its end; returns the
    /// run as it ended (panics unless it succeeded).
    pub(crate) async fn sync_now(&self, source: &str, mode: &str) -> Run {
        let queued = self
            .sync_source(source, &format!("mode={mode}"))
            .await
            .json(202);
        let ran = self.work().await;
        let run = ran
            .into_iter()
            .find(|run| Some(run.id.0) == queued["id"].as_i64())
            .unwrap_or_else(|| panic!("the sync run {queued} did not run"));
        assert_eq!(run.state.as_str(), "succeeded", "{run:?}");
        run
    }

    // Keys.

    pub(crate) async fn list_keys(&self) -> Answer {
        self.call("GET", "/api/keys", "/api/keys", None).await
    }

    pub(crate) async fn create_key(&self, body: &Value) -> Answer {
        self.call("POST", "/api/keys", "/api/keys", Some(body))
            .await
    }

    pub(crate) async fn revoke_key(&self, name_or_prefix: &str) -> Answer {
        let path = format!("/api/keys/{name_or_prefix}");
        self.call("DELETE", "/api/keys/{key}", &path, None).await
    }

    // Operations.

    pub(crate) async fn status(&self) -> Answer {
        self.call("GET", "/api/status", "/api/status", None).await
    }

    pub(crate) async fn healthz(&self) -> Answer {
        self.call("GET", "/healthz", "/healthz", None).await
    }

    pub(crate) async fn readyz(&self) -> Answer {
        self.call("GET", "/readyz", "/readyz", None).await
    }

    /// `GET /api/stats?query`.
    pub(crate) async fn stats(&self, query: &str) -> Answer {
        let path = with_query("/api/stats", query);
        self.call("GET", "/api/stats", &path, None).await
    }

    /// `GET /api/stats/groups?query`.
    pub(crate) async fn stats_groups(&self, query: &str) -> Answer {
        let path = with_query("/api/stats/groups", query);
        self.call("GET", "/api/stats/groups", &path, None).await
    }

    pub(crate) async fn metrics(&self) -> Answer {
        self.call("GET", "/metrics", "/metrics", None).await
    }

    pub(crate) async fn openapi(&self) -> Answer {
        self.call("GET", "/api/openapi.json", "/api/openapi.json", None)
            .await
    }

    pub(crate) async fn docs(&self) -> Answer {
        self.call("GET", "/api/docs/", "/api/docs/", None).await
    }

    // The scheduler, one step at a time.

    /// Moves the manual clock forward.
    pub(crate) fn advance(&self, by: SignedDuration) -> Timestamp {
        self.clock.advance(by)
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Fires what is due at the clock's time, then runs what is queued; returns the runs as
    /// they ended.
    pub(crate) async fn fire_and_work(&self) -> Vec<Run> {
        self.engine.fire_due().await.unwrap();
        self.work().await
    }

    /// Moves the clock forward by `by`, then [`TestApp::fire_and_work`].
    pub(crate) async fn advance_fire_and_work(&self, by: SignedDuration) -> Vec<Run> {
        self.advance(by);
        self.fire_and_work().await
    }

    /// Runs what is queued and due (one step of the workers).
    pub(crate) async fn work(&self) -> Vec<Run> {
        self.engine.work_once(100).await.unwrap()
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}
