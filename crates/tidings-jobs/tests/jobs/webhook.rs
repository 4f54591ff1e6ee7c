//! Completion webhooks end to end: a run of a schedule with a `callback_url` ends, the store
//! queues its delivery, and the engine delivers it — signed, retried after its backoff — to a
//! real receiver on 127.0.0.1 that checks the signature the way a user's would. The engine is
//! stepped with `work_once` under a manual clock; nothing sleeps.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tidings_core::{ManualClock, RunState, RunTrigger};
use tidings_engine::{Engine, EngineConfig, EngineEvent, JobRegistry};
use tidings_jobs::{WebhookSettings, verify_signature};
use tidings_store::{
    Run, RunListParams, ScheduleSpec, Store, WEBHOOK_KIND, WEBHOOK_RETRY, WEBHOOK_TIMEOUT,
};
use tidings_storetest::fixtures::{create, enqueue, list_runs, manual, spec, t0};
use tidings_storetest::{TestBackend, TestStore};

const SECRET: &str = "whsec-test-4f1c";

/// One delivery as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// What a receiver does first: recompute the signature over the raw bytes.
    fn signed_with(&self, secret: &str) -> bool {
        let (Some(timestamp), Some(signature)) = (
            self.header("x-tidings-timestamp"),
            self.header("x-tidings-signature"),
        ) else {
            return false;
        };
        verify_signature(secret, timestamp, &self.body, signature)
    }
}

/// A webhook receiver answering each delivery with the next of its scripted statuses (then 204),
/// and keeping what it got.
struct Receiver {
    port: u16,
    state: Arc<ReceiverState>,
}

struct ReceiverState {
    answers: Mutex<VecDeque<StatusCode>>,
    received: Mutex<Vec<Received>>,
}

impl Receiver {
    async fn start(answers: &[StatusCode]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ReceiverState {
            answers: Mutex::new(answers.iter().copied().collect()),
            received: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(receive).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { port, state }
    }

    /// The hook URL, with a token in its query string as many receivers want.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/tidings?token=t0k3n", self.port)
    }

    /// The URL as tidings shows it in errors and summaries: no query string.
    fn shown(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/tidings", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state
        .received
        .lock()
        .unwrap()
        .push(Received { uri, headers, body });
    let next = state.answers.lock().unwrap().pop_front();
    next.unwrap_or(StatusCode::NO_CONTENT)
}

/// An engine over a fresh store with the built-in kinds, signing with `secret`, and its clock.
struct Setup {
    test: TestStore,
    clock: Arc<ManualClock>,
    engine: Engine,
}

impl Setup {
    async fn new(backend: TestBackend, secret: Option<&str>) -> Setup {
        let test = TestStore::open(backend).await;
        let clock = Arc::new(ManualClock::new(t0()));
        let mut registry = JobRegistry::new();
        tidings_jobs::register_builtin(
            &mut registry,
            WebhookSettings {
                secret: secret.map(str::to_owned),
            },
        );
        let engine = Engine::new(
            test.store.clone(),
            clock.clone(),
            registry,
            EngineConfig {
                instance: "webhook-test".to_owned(),
                ..EngineConfig::default()
            },
        );
        Setup {
            test,
            clock,
            engine,
        }
    }

    fn store(&self) -> &dyn Store {
        &*self.test.store
    }

    /// A `noop` schedule reporting to `url`.
    async fn schedule_with_callback(&self, url: &str) -> tidings_store::Schedule {
        let spec = ScheduleSpec {
            kind: "noop".to_owned(),
            params: json!({}),
            callback_url: Some(url.to_owned()),
            ..spec("nightly-sync")
        };
        create(self.store(), spec, None).await
    }

    /// Every delivery, oldest first.
    async fn deliveries(&self) -> Vec<Run> {
        let mut runs = list_runs(
            self.store(),
            RunListParams {
                kind: Some(WEBHOOK_KIND.to_owned()),
                ..RunListParams::default()
            },
        )
        .await;
        runs.reverse();
        runs
    }

    /// One worker step at the clock's time: the runs it recorded.
    async fn step(&self) -> Vec<Run> {
        self.engine.work_once(10).await.unwrap()
    }
}

fn rfc3339(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |at| Value::String(at.to_string()))
}

async fn delivered_signed_and_retried_after_a_500(backend: TestBackend) {
    let receiver = Receiver::start(&[StatusCode::INTERNAL_SERVER_ERROR]).await;
    let setup = Setup::new(backend, Some(SECRET)).await;
    let mut events = setup.engine.subscribe();
    let schedule = setup.schedule_with_callback(&receiver.url()).await;
    let queued = enqueue(setup.store(), manual(&schedule, t0())).await;

    // The run itself: it ends, and its delivery is queued with it.
    let finished = setup.step().await;
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].id, queued.id);
    assert_eq!(finished[0].state, RunState::Succeeded);
    assert!(
        receiver.received().is_empty(),
        "nothing sent before it is claimed"
    );
    let deliveries = setup.deliveries().await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let delivery = deliveries[0].clone();
    assert_eq!(delivery.parent_run_id, Some(queued.id));
    assert_eq!(delivery.state, RunState::Queued);
    assert_eq!(delivery.trigger, RunTrigger::Webhook);
    assert_eq!(delivery.schedule_id, None);
    assert_eq!(delivery.retry, WEBHOOK_RETRY);
    assert_eq!(delivery.timeout, WEBHOOK_TIMEOUT);

    // First attempt: the receiver answers 500; the delivery waits for its backoff.
    let first = setup.step().await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, delivery.id);
    assert_eq!(first[0].state, RunState::Queued, "retried");
    let expected_error = format!("HTTP 500 from {}", receiver.shown());
    assert_eq!(first[0].error.as_deref(), Some(expected_error.as_str()));
    let wait = first[0].run_after.duration_since(t0());
    assert!(
        wait >= SignedDuration::from_secs(8) && wait <= SignedDuration::from_secs(12),
        "10 s ± 20 %: {wait:?}"
    );
    assert!(setup.step().await.is_empty(), "not due before the backoff");
    assert_eq!(receiver.received().len(), 1);

    // Past the backoff: delivered.
    let later = setup.clock.advance(SignedDuration::from_secs(13));
    let second = setup.step().await;
    assert_eq!(second.len(), 1);
    let delivered = &second[0];
    assert_eq!(delivered.id, delivery.id);
    assert_eq!(delivered.state, RunState::Succeeded);
    assert_eq!(delivered.attempt, 2);
    assert_eq!(
        delivered.summary,
        Some(json!({ "status": 204, "url": receiver.shown() }))
    );

    let attempts = setup.store().run_attempts(delivery.id).await.unwrap();
    let outcomes: Vec<(u32, Option<RunState>, Option<&str>)> = attempts
        .iter()
        .map(|a| (a.number, a.outcome, a.error.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, Some(RunState::Failed), Some(expected_error.as_str())),
            (2, Some(RunState::Succeeded), None),
        ]
    );

    // What the receiver got, twice: the same delivery, signed, with its attempt and time.
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let parent = setup.store().run_get(queued.id).await.unwrap();
    for (n, (request, at)) in received.iter().zip([t0(), later]).enumerate() {
        let attempt = n as u64 + 1;
        assert_eq!(
            request.uri.query(),
            Some("token=t0k3n"),
            "sent to the URL as given"
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.header("user-agent"),
            Some(tidings_jobs::http::USER_AGENT)
        );
        assert_eq!(request.header("x-tidings-event"), Some("run.finished"));
        let delivery_id = delivery.id.to_string();
        assert_eq!(
            request.header("x-tidings-delivery"),
            Some(delivery_id.as_str())
        );
        let timestamp = at.as_second().to_string();
        assert_eq!(
            request.header("x-tidings-timestamp"),
            Some(timestamp.as_str())
        );
        assert!(
            request.signed_with(SECRET),
            "attempt {attempt}: {request:?}"
        );
        assert!(!request.signed_with("another secret"));
        let mut tampered = request.clone();
        tampered.body = Bytes::from(request.body.to_vec().repeat(2));
        assert!(
            !tampered.signed_with(SECRET),
            "a changed body fails the check"
        );

        assert_eq!(
            request.json(),
            json!({
                "event": "run.finished",
                "delivery": delivery.id.0,
                "attempt": attempt,
                "run": {
                    "id": queued.id.0,
                    "schedule_id": schedule.id.0,
                    "schedule": "nightly-sync",
                    "kind": "noop",
                    "trigger": "manual",
                    "state": "succeeded",
                    "scheduled_for": null,
                    "created_at": t0().to_string(),
                    "started_at": rfc3339(parent.started_at),
                    "finished_at": rfc3339(parent.finished_at),
                    "attempt": 1,
                    "error": null,
                    "summary": {},
                },
            })
        );
    }

    // The events a status page would see: the run, then its delivery retried, then delivered.
    let mut finished_states = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let EngineEvent::Finished { run } = event {
            finished_states.push((run.kind.clone(), run.state));
        }
    }
    assert_eq!(
        finished_states,
        [
            ("noop".to_owned(), RunState::Succeeded),
            (WEBHOOK_KIND.to_owned(), RunState::Queued),
            (WEBHOOK_KIND.to_owned(), RunState::Succeeded),
        ]
    );
    assert_eq!(
        setup.deliveries().await.len(),
        1,
        "a delivery is not delivered itself"
    );
    setup.test.close().await;
}

#[tokio::test]
async fn delivered_signed_and_retried_after_a_500_on_sqlite() {
    delivered_signed_and_retried_after_a_500(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn delivered_signed_and_retried_after_a_500_on_postgres() {
    delivered_signed_and_retried_after_a_500(TestBackend::Postgres).await;
}

/// Without a secret the delivery goes out unsigned; a 410 stops it at once; and a schedule
/// deleted since the run ended is reported as `null`.
#[tokio::test]
async fn unsigned_without_secret_and_a_410_stops_the_delivery() {
    let receiver = Receiver::start(&[StatusCode::GONE]).await;
    let setup = Setup::new(TestBackend::Sqlite, None).await;
    let schedule = setup.schedule_with_callback(&receiver.url()).await;
    let queued = enqueue(setup.store(), manual(&schedule, t0())).await;
    setup.step().await;
    setup
        .store()
        .schedule_delete(schedule.id, t0())
        .await
        .unwrap();

    let ended = setup.step().await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].state, RunState::Failed, "410 Gone: no retry");
    let error = ended[0].error.clone().unwrap();
    assert!(
        error.starts_with(&format!("HTTP 410 from {}", receiver.shown())),
        "{error}"
    );
    assert!(
        !error.contains("t0k3n"),
        "the query string is never shown: {error}"
    );

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("x-tidings-signature"), None);
    assert!(received[0].header("x-tidings-timestamp").is_some());
    let run = &received[0].json()["run"];
    assert_eq!(run["id"], json!(queued.id.0));
    assert_eq!(run["schedule_id"], Value::Null);
    assert_eq!(run["schedule"], Value::Null);

    setup.clock.advance(SignedDuration::from_secs(3600));
    assert!(setup.step().await.is_empty(), "nothing more to deliver");
    assert_eq!(receiver.received().len(), 1);
    setup.test.close().await;
}
