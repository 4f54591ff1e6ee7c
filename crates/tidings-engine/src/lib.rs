//! The tidings scheduler engine, on any [`Store`] and any [`Clock`]:
//!
//! - **firing** (`fire.rs`): a timer sleeps until the earliest `next_run_at` or a change, then
//!   fires due occurrences through `Store::schedule_fire_due` (the fire key makes it exactly-once);
//! - **workers** (`work.rs`): a pool of `concurrency` slots claims runs, executes jobs with a
//!   timeout and a cancellation token, catches panics, heartbeats leases and records completions
//!   in batches;
//! - **maintenance**: rescue of runs whose lease expired;
//! - **schedules** (`schedules.rs`): creating and editing schedules with their params checked
//!   against the job registry, so that the API and the CLI share one set of rules.
//!
//! Tests drive it deterministically: [`Engine::fire_due`] and [`Engine::work_once`] are single
//! steps taken at the clock's current time, and [`Engine::subscribe`] yields named events.

mod cluster;
pub mod draft;
mod events;
mod fire;
mod job;
mod schedules;
mod work;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::SignedDuration;
use tidings_core::Clock;
use tidings_store::{RunId, Store, StoreError};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

pub use events::EngineEvent;
pub use job::{Job, JobContext, JobError, JobRegistry, ParamsError, Progress, TypedJob};
pub use schedules::{AdhocRun, FieldError, ScheduleChange, check_schedule};
pub use work::EngineHandle;

/// How the engine behaves; every field has a sensible default.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// This instance's id, recorded as the lease owner of the runs it executes.
    pub instance: String,
    /// Jobs run at once by this instance.
    pub concurrency: usize,
    /// How long a claimed run is leased before another instance may rescue it.
    pub lease: SignedDuration,
    /// How often leases are renewed (a third of the lease by default).
    pub heartbeat: Duration,
    /// The longest the timers sleep without looking at the store (catches changes made by
    /// other processes).
    pub idle_poll: Duration,
    /// How often expired leases are looked for.
    pub rescue_every: Duration,
    /// Schedules fired per store call.
    pub fire_batch: u32,
    /// Runs claimed per store call, at most.
    pub claim_batch: u32,
    /// How long running jobs may finish after shutdown starts before they are cancelled and
    /// put back in the queue.
    pub shutdown_grace: Duration,
    /// The shortest allowed time between two occurrences of a schedule.
    pub min_interval: SignedDuration,
    /// The host this instance runs on, as it registers itself.
    pub host: String,
    /// The tidings version it runs.
    pub version: String,
    /// Ended runs older than this are deleted by maintenance; `None` keeps them all.
    pub run_retention: Option<SignedDuration>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            instance: "tidings".to_owned(),
            concurrency: 10,
            lease: SignedDuration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            idle_poll: Duration::from_secs(1),
            rescue_every: Duration::from_secs(5),
            fire_batch: 1000,
            claim_batch: 100,
            shutdown_grace: Duration::from_secs(30),
            min_interval: SignedDuration::from_secs(1),
            host: "localhost".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            run_retention: Some(SignedDuration::from_hours(30 * 24)),
        }
    }
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request is invalid: these fields, these reasons.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a running job's token was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelReason {
    Requested,
    LeaseLost,
    Shutdown,
}

/// A job being executed by this instance.
struct RunningJob {
    token: CancellationToken,
    reason: Arc<Mutex<Option<CancelReason>>>,
    /// The job has returned and its completion is being recorded: its lease is still renewed
    /// until then, so that a slow store does not get it rescued and run twice.
    finished: bool,
}

impl RunningJob {
    fn cancel(&self, reason: CancelReason) {
        let mut slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(reason);
        self.token.cancel();
    }
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    registry: JobRegistry,
    config: EngineConfig,
    /// Wakes the firing timer: a schedule was created or edited.
    schedules_changed: Notify,
    /// Wakes the workers: a run was queued or a slot freed.
    work_available: Notify,
    events: broadcast::Sender<EngineEvent>,
    running: Mutex<HashMap<RunId, RunningJob>>,
    /// When the engine was made: this instance's start, as it registers itself.
    started_at: jiff::Timestamp,
}

/// The scheduler engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        registry: JobRegistry,
        config: EngineConfig,
    ) -> Engine {
        let (events, _) = broadcast::channel(4096);
        let started_at = clock.now();
        Engine {
            inner: Arc::new(Inner {
                started_at,
                store,
                clock,
                registry,
                config,
                schedules_changed: Notify::new(),
                work_available: Notify::new(),
                events,
                running: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn registry(&self) -> &JobRegistry {
        &self.inner.registry
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Events as they happen (fired, claimed, finished, rescued…), for tests and status.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Wakes the firing timer at once (a schedule changed).
    pub fn notify_schedules_changed(&self) {
        self.inner.schedules_changed.notify_one();
    }

    /// Wakes the workers at once (a run was queued).
    pub fn notify_work_available(&self) {
        self.inner.work_available.notify_one();
    }

    /// The runs this instance is executing now.
    pub fn running_runs(&self) -> Vec<RunId> {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    fn emit(&self, event: EngineEvent) {
        // No subscriber is fine.
        let _ = self.inner.events.send(event);
    }

    /// Starts the firing timer, the workers, the heartbeats and lease rescue in the background,
    /// and queues the `run_on_start` schedules without waiting for them. Everything stops when
    /// `shutdown` is cancelled; await [`EngineHandle::stopped`] for the end of the shutdown.
    pub fn start(&self, shutdown: CancellationToken) -> EngineHandle {
        work::start(self, &shutdown)
    }
}
