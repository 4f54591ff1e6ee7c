//! Workers: claim runs, execute their jobs (timeout, cancellation, panics), keep their leases
//! alive, record completions in batches; rescue runs whose lease expired; shut down with grace.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tidings_core::RunTrigger;
use tidings_store::{
    Run, RunClaimParams, RunCompletion, RunEnqueueParams, RunEnqueued, RunHeartbeatParams, RunId,
    RunOutcome, RunRescueParams, ScheduleListParams, StoreError,
};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::job::{JobContext, JobError};
use crate::{CancelReason, Engine, EngineEvent, RunningJob};

/// After a job's token fires, how long it may take to wind down before it is aborted.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// How long the workers wait for more slots to free up before claiming for a few.
const GATHER: Duration = Duration::from_millis(5);

/// Completions recorded per store call, at most.
const COMPLETION_BATCH: usize = 500;

/// Runs rescued per store call.
const RESCUE_BATCH: u32 = 100;

/// The background engine: await [`EngineHandle::stopped`] after cancelling its token.
pub struct EngineHandle {
    tasks: JoinSet<()>,
    engine: Engine,
}

impl EngineHandle {
    /// Waits until the engine has shut down: running jobs finished (or were returned to the
    /// queue after the grace) and their completions recorded; then removes this instance from
    /// the store's list.
    pub async fn stopped(mut self) {
        while self.tasks.join_next().await.is_some() {}
        self.engine.deregister_instance().await;
    }
}

pub(crate) fn start(engine: &Engine, shutdown: &CancellationToken) -> EngineHandle {
    let mut tasks = JoinSet::new();
    tasks.spawn(engine.clone().fire_loop(shutdown.clone()));
    tasks.spawn(engine.clone().worker_loop(shutdown.clone()));
    tasks.spawn(engine.clone().heartbeat_loop(shutdown.clone(), true));
    tasks.spawn(engine.clone().rescue_loop(shutdown.clone()));
    tasks.spawn(engine.clone().changes_loop(shutdown.clone()));
    let startup = engine.clone();
    tasks.spawn(async move {
        if let Err(error) = startup.enqueue_run_on_start().await {
            tracing::error!(%error, "could not queue the run_on_start schedules");
        }
    });
    EngineHandle {
        tasks,
        engine: engine.clone(),
    }
}

/// The result of one attempt, before it is recorded.
struct Executed {
    completion: RunCompletion,
    kind: String,
    elapsed: Duration,
}

impl Engine {
    /// Claims up to `limit` runs due now, executes them concurrently and records their
    /// completions; returns the runs as recorded. One step of the workers, for tests and tools.
    pub async fn work_once(&self, limit: u32) -> Result<Vec<Run>, StoreError> {
        let claimed = self.claim(limit).await?;
        let mut executions = JoinSet::new();
        for run in claimed {
            let engine = self.clone();
            executions.spawn(async move { engine.execute(run).await });
        }
        let mut executed = Vec::new();
        while let Some(done) = executions.join_next().await {
            if let Ok(done) = done {
                executed.push(done);
            }
        }
        self.record(executed).await
    }

    /// Claims the run `id` alone, executes it here — its lease renewed while it runs — and
    /// records its completion; `None` when it is not claimable (not yet due, or another
    /// instance took it first). `stop` cancels the job (it ends `cancelled`). For tools that run
    /// one job in the foreground, like `tidings sync`.
    pub async fn work_run(
        &self,
        id: RunId,
        stop: CancellationToken,
    ) -> Result<Option<Run>, StoreError> {
        let now = self.clock().now();
        let claimed = self
            .store()
            .run_claim(RunClaimParams {
                instance: self.config().instance.clone(),
                now,
                lease: self.config().lease,
                limit: 1,
                kinds: self.registry().kinds(),
                only: Some(id),
            })
            .await?;
        let Some(run) = claimed.into_iter().next() else {
            return Ok(None);
        };
        self.emit(EngineEvent::Started {
            run_id: run.id,
            attempt: run.attempt,
        });
        let beats = CancellationToken::new();
        let heartbeat = tokio::spawn(self.clone().heartbeat_loop(beats.clone(), false));
        let engine = self.clone();
        let stopper = tokio::spawn(async move {
            stop.cancelled().await;
            engine.cancel_local(id, CancelReason::Requested);
        });
        let executed = self.execute(run).await;
        stopper.abort();
        // Recorded while the lease is still renewed; then the heartbeat loop ends at once,
        // the run being no longer registered as running.
        let recorded = self.record(vec![executed]).await;
        beats.cancel();
        let _ = heartbeat.await;
        Ok(recorded?.into_iter().next())
    }

    /// Rescues runs whose lease expired at the clock's current time. One step of maintenance.
    pub async fn rescue_expired(&self) -> Result<Vec<Run>, StoreError> {
        let rescued = self
            .store()
            .run_rescue_expired(RunRescueParams {
                now: self.clock().now(),
                limit: RESCUE_BATCH,
            })
            .await?;
        for run in &rescued {
            tracing::warn!(
                run_id = %run.id,
                kind = %run.kind,
                state = %run.state,
                attempt = run.attempt,
                "rescued a run whose worker was lost (lease expired)"
            );
            self.emit(EngineEvent::Rescued {
                run: Box::new(run.clone()),
            });
        }
        if !rescued.is_empty() {
            self.notify_work_available();
        }
        Ok(rescued)
    }

    /// Queues one run of every enabled `run_on_start` schedule (unless `max_instances` runs of
    /// it are already queued or running).
    pub async fn enqueue_run_on_start(&self) -> Result<Vec<Run>, StoreError> {
        let mut queued = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store()
                .schedule_list(ScheduleListParams {
                    enabled: Some(true),
                    limit: 1000,
                    cursor,
                    ..ScheduleListParams::default()
                })
                .await?;
            for schedule in page.items.iter().filter(|s| s.policy.run_on_start) {
                let now = self.clock().now();
                let enqueued = self
                    .store()
                    .run_enqueue(RunEnqueueParams {
                        schedule_id: Some(schedule.id),
                        kind: schedule.kind.clone(),
                        params: schedule.params.clone(),
                        trigger: RunTrigger::Startup,
                        retry: schedule.policy.retry,
                        timeout: schedule.policy.timeout,
                        run_after: now,
                        now,
                        max_instances: Some(schedule.policy.fire.max_instances),
                        parent_run_id: None,
                    })
                    .await?;
                match enqueued {
                    RunEnqueued::Queued(run) => {
                        tracing::info!(schedule = %schedule.name, run_id = %run.id, "queued at startup (run_on_start)");
                        queued.push(*run);
                    }
                    RunEnqueued::AtCapacity(_) => {
                        tracing::info!(schedule = %schedule.name, "run_on_start: a run is already queued or running");
                    }
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.emit(EngineEvent::StartupQueued {
            runs: queued.iter().map(|r| r.id).collect(),
        });
        if !queued.is_empty() {
            self.notify_work_available();
        }
        Ok(queued)
    }

    async fn claim(&self, limit: u32) -> Result<Vec<Run>, StoreError> {
        let now = self.clock().now();
        let timer = Instant::now();
        let claimed = self
            .store()
            .run_claim(RunClaimParams {
                instance: self.config().instance.clone(),
                now,
                lease: self.config().lease,
                limit,
                kinds: self.registry().kinds(),
                only: None,
            })
            .await?;
        tracing::trace!(asked = limit, claimed = claimed.len(), took = ?timer.elapsed(), "claim");
        for run in &claimed {
            if let Some(scheduled_for) = run.scheduled_for
                && run.attempt == 1
            {
                let late = now.duration_since(scheduled_for).as_secs_f64().max(0.0);
                metrics::histogram!("tidings_fire_lateness_seconds").record(late);
            }
            self.emit(EngineEvent::Started {
                run_id: run.id,
                attempt: run.attempt,
            });
        }
        Ok(claimed)
    }

    /// Runs one attempt of `run`: the job under its timeout and cancellation token, with panics
    /// caught. Never fails: every ending becomes an outcome.
    async fn execute(&self, run: Run) -> Executed {
        let token = CancellationToken::new();
        let reason = Arc::new(Mutex::new(None));
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                run.id,
                RunningJob {
                    token: token.clone(),
                    reason: reason.clone(),
                    finished: false,
                },
            );
        if run.cancel_requested {
            token.cancel();
            reason
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(CancelReason::Requested);
        }
        let started = Instant::now();
        let outcome = self.attempt(&run, token, &reason).await;
        // Kept (and its lease renewed) until its completion is recorded: see `record`.
        if let Some(job) = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&run.id)
        {
            job.finished = true;
        }
        Executed {
            completion: RunCompletion {
                run_id: run.id,
                instance: self.config().instance.clone(),
                attempt: run.attempt,
                finished_at: self.clock().now(),
                outcome,
            },
            kind: run.kind,
            elapsed: started.elapsed(),
        }
    }

    async fn attempt(
        &self,
        run: &Run,
        token: CancellationToken,
        reason: &Mutex<Option<CancelReason>>,
    ) -> RunOutcome {
        let Some(job) = self.registry().get(&run.kind) else {
            return RunOutcome::Failed {
                error: format!(
                    "no job kind `{}` on instance {}",
                    run.kind,
                    self.config().instance
                ),
                retry_at: None,
            };
        };
        let ctx = JobContext::new(
            run.clone(),
            token.clone(),
            self.clock().clone(),
            self.store().clone(),
        );
        let mut handle = tokio::spawn(async move { job.run(ctx).await });
        let timeout = Duration::try_from(run.timeout).unwrap_or(Duration::from_secs(3600));
        let ended = tokio::select! {
            ended = &mut handle => Some(ended),
            () = tokio::time::sleep(timeout) => {
                token.cancel();
                let _ = tokio::time::timeout(CANCEL_GRACE, &mut handle).await;
                handle.abort();
                return self.retry_or(run, format!("timed out after {}", seconds(run.timeout)), true);
            }
            () = token.cancelled() => None,
        };
        let ended = match ended {
            Some(ended) => ended,
            // Cancelled: give the job a moment to finish cooperatively, then stop it.
            None => match tokio::time::timeout(CANCEL_GRACE, &mut handle).await {
                Ok(ended) => ended,
                Err(_) => {
                    handle.abort();
                    let why = *reason.lock().unwrap_or_else(PoisonError::into_inner);
                    return cancelled_outcome(why);
                }
            },
        };
        let why = *reason.lock().unwrap_or_else(PoisonError::into_inner);
        match ended {
            Ok(Ok(summary)) => RunOutcome::Succeeded {
                summary: Some(summary),
            },
            Ok(Err(JobError::Retryable(error))) => match why {
                Some(why) => cancelled_outcome(Some(why)),
                None => self.retry_or(run, error, false),
            },
            Ok(Err(JobError::Fatal(error))) => RunOutcome::Failed {
                error,
                retry_at: None,
            },
            Ok(Err(JobError::Cancel(reason))) => match why {
                Some(CancelReason::Shutdown) => cancelled_outcome(why),
                _ => RunOutcome::Cancelled { reason },
            },
            Ok(Err(JobError::Snooze(delay))) => RunOutcome::Snoozed {
                until: self
                    .clock()
                    .now()
                    .checked_add(delay)
                    .unwrap_or(Timestamp::MAX),
            },
            Err(join) if join.is_panic() => {
                let message = panic_message(&*join.into_panic());
                tracing::error!(run_id = %run.id, kind = %run.kind, panic = %message, "job panicked");
                self.retry_or(run, format!("job panicked: {message}"), false)
            }
            Err(_) => cancelled_outcome(why),
        }
    }

    /// A failure (or timeout) retried after the backoff when attempts are left.
    fn retry_or(&self, run: &Run, error: String, timed_out: bool) -> RunOutcome {
        let retry_at = run
            .retry
            .retries_after(run.attempt)
            .then(|| {
                let delay = run.retry.delay(run.attempt, run.id.0 as u64);
                self.clock().now().checked_add(delay).ok()
            })
            .flatten();
        if timed_out {
            RunOutcome::TimedOut { error, retry_at }
        } else {
            RunOutcome::Failed { error, retry_at }
        }
    }

    /// Records finished attempts, retrying while the store is unavailable.
    /// Records the completions of `executed`, then stops renewing their leases — also when the
    /// store cannot be reached: the runs are then rescued once their leases expire.
    async fn record(&self, executed: Vec<Executed>) -> Result<Vec<Run>, StoreError> {
        let recorded = self.record_completions(&executed).await;
        let mut running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for done in &executed {
            running.remove(&done.completion.run_id);
        }
        recorded
    }

    async fn record_completions(&self, executed: &[Executed]) -> Result<Vec<Run>, StoreError> {
        if executed.is_empty() {
            return Ok(Vec::new());
        }
        let completions: Vec<RunCompletion> =
            executed.iter().map(|e| e.completion.clone()).collect();
        let mut failures = 0;
        let timer = Instant::now();
        let recorded = loop {
            match self.store().run_complete(completions.clone()).await {
                Ok(recorded) => break recorded,
                Err(error) if error.is_unavailable() && failures < 20 => {
                    let wait = self.store_failed(&error, &mut failures);
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(error),
            }
        };
        tracing::trace!(completions = completions.len(), took = ?timer.elapsed(), "record");
        for run_id in &recorded.refused {
            tracing::warn!(run_id = %run_id, instance = %self.config().instance, "completion refused: this instance no longer holds the run's lease (it was rescued elsewhere)");
            self.emit(EngineEvent::CompletionRefused { run_id: *run_id });
        }
        for done in executed {
            let Some(run) = recorded
                .completed
                .iter()
                .find(|r| r.id == done.completion.run_id)
            else {
                continue;
            };
            metrics::counter!("tidings_runs_total", "kind" => done.kind.clone(), "state" => run.state.as_str())
                .increment(1);
            metrics::histogram!("tidings_run_duration_seconds", "kind" => done.kind.clone())
                .record(done.elapsed.as_secs_f64());
            match &done.completion.outcome {
                RunOutcome::Succeeded { .. } => {
                    tracing::info!(run_id = %run.id, kind = %run.kind, attempt = done.completion.attempt, elapsed = ?done.elapsed, "run succeeded");
                }
                RunOutcome::Failed { error, retry_at }
                | RunOutcome::TimedOut { error, retry_at } => {
                    tracing::warn!(run_id = %run.id, kind = %run.kind, attempt = done.completion.attempt, %error, retry_at = ?retry_at, state = %run.state, "run attempt failed");
                }
                other => {
                    tracing::info!(run_id = %run.id, kind = %run.kind, state = %run.state, outcome = ?other, "run attempt ended");
                }
            }
            self.emit(EngineEvent::Finished {
                run: Box::new(run.clone()),
            });
        }
        if recorded.completed.iter().any(|r| r.state.is_active()) {
            self.notify_work_available();
        }
        Ok(recorded.completed)
    }

    fn is_finished_locally(&self, id: RunId) -> bool {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .is_none_or(|job| job.finished)
    }

    pub(crate) fn cancel_local(&self, id: RunId, reason: CancelReason) {
        if let Some(job) = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            job.cancel(reason);
        }
    }

    fn cancel_all_local(&self, reason: CancelReason) {
        for job in self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            job.cancel(reason);
        }
    }

    /// The worker loop: keeps up to `concurrency` jobs running until `shutdown`, then lets them
    /// finish within the grace and returns the rest to the queue.
    async fn worker_loop(self, shutdown: CancellationToken) {
        let concurrency = self.config().concurrency.max(1);
        let slots = Arc::new(Semaphore::new(concurrency));
        let (done_tx, done_rx) = mpsc::unbounded_channel::<Executed>();
        let recorder = tokio::spawn(self.clone().record_loop(done_rx));
        let mut jobs = JoinSet::new();
        let mut failures = 0_u32;
        // Claiming for one freed slot at a time would cost a store round trip per job; when
        // only a few slots are free and jobs are still running, wait a moment for more to
        // free up and claim them together.
        let gather_below = (concurrency as u32 / 2).max(1);
        let mut gathered = false;
        while !shutdown.is_cancelled() {
            while jobs.try_join_next().is_some() {}
            let free = slots.available_permits() as u32;
            if free > 0 && free < gather_below && !jobs.is_empty() && !gathered {
                gathered = true;
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    Some(_) = jobs.join_next() => {}
                    () = tokio::time::sleep(GATHER) => {}
                }
                continue;
            }
            gathered = false;
            let mut wait = self.config().idle_poll;
            if free > 0 {
                let asked = free.min(self.config().claim_batch.max(1));
                match self.claim(asked).await {
                    Ok(claimed) => {
                        failures = 0;
                        let full = claimed.len() as u32 == asked;
                        for run in claimed {
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                break;
                            };
                            let engine = self.clone();
                            let done = done_tx.clone();
                            jobs.spawn(async move {
                                let executed = engine.execute(run).await;
                                drop(permit);
                                let _ = done.send(executed);
                            });
                        }
                        if full {
                            continue;
                        }
                        if let Ok(next) = self.store().run_next_available_at().await {
                            wait = self.until(next);
                        }
                    }
                    Err(error) => wait = self.store_failed(&error, &mut failures),
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.work_available.notified() => {}
                () = tokio::time::sleep(wait) => {}
                Some(_) = jobs.join_next(), if !jobs.is_empty() => {}
            }
        }
        // Shutdown: no more claims. Running jobs get the grace, then are cancelled and requeued.
        let running = jobs.len();
        if running > 0 {
            tracing::info!(running, grace = ?self.config().shutdown_grace, "waiting for running jobs to finish");
            let deadline = tokio::time::sleep(self.config().shutdown_grace);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    next = jobs.join_next() => if next.is_none() { break },
                    () = &mut deadline => {
                        tracing::warn!(running = jobs.len(), "shutdown grace over; cancelling jobs and returning their runs to the queue");
                        self.cancel_all_local(CancelReason::Shutdown);
                        while jobs.join_next().await.is_some() {}
                        break;
                    }
                }
            }
        }
        drop(done_tx);
        let _ = recorder.await;
        self.emit(EngineEvent::Stopped);
        tracing::info!("workers stopped");
    }

    /// Records completions as they arrive, batching those that arrive together.
    async fn record_loop(self, mut done: mpsc::UnboundedReceiver<Executed>) {
        while let Some(first) = done.recv().await {
            let mut batch = vec![first];
            while batch.len() < COMPLETION_BATCH {
                match done.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            if let Err(error) = self.record(batch).await {
                tracing::error!(%error, "could not record run completions; their leases will expire and the runs will be rescued");
            }
            self.notify_work_available();
        }
    }

    /// Renews the leases of the runs this instance executes; cancels those lost or asked to
    /// be cancelled. With `announce`, also records that the instance is alive.
    async fn heartbeat_loop(self, shutdown: CancellationToken, announce: bool) {
        let mut failures = 0_u32;
        if announce {
            self.register_instance().await;
        }
        let mut first = true;
        loop {
            if announce && !first && !shutdown.is_cancelled() {
                self.instance_seen().await;
            }
            first = false;
            let mut wait = self.config().heartbeat;
            let runs = self.running_runs();
            if !runs.is_empty() {
                let beat = self
                    .store()
                    .run_heartbeat(RunHeartbeatParams {
                        instance: self.config().instance.clone(),
                        runs,
                        now: self.clock().now(),
                        lease: self.config().lease,
                    })
                    .await;
                match beat {
                    Ok(beat) => {
                        failures = 0;
                        for id in beat.lost {
                            // A finished job's completion may have been recorded since the
                            // heartbeat's list was made; if it was rescued instead, recording
                            // refuses the completion and says so.
                            if self.is_finished_locally(id) {
                                continue;
                            }
                            tracing::warn!(run_id = %id, "lease lost; stopping the job");
                            self.cancel_local(id, CancelReason::LeaseLost);
                        }
                        for id in beat.cancel_requested {
                            tracing::info!(run_id = %id, "cancel requested; cancelling the job");
                            self.cancel_local(id, CancelReason::Requested);
                        }
                    }
                    Err(error) => wait = self.store_failed(&error, &mut failures).min(wait),
                }
            }
            // Heartbeats continue through the shutdown grace: the loop ends once shutdown has
            // begun and no job is left running here.
            if shutdown.is_cancelled() {
                if self.running_runs().is_empty() {
                    break;
                }
                tokio::time::sleep(wait.min(Duration::from_millis(100))).await;
            } else {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }

    async fn rescue_loop(self, shutdown: CancellationToken) {
        let mut failures = 0_u32;
        let mut prune = crate::cluster::PruneTimer::new();
        while !shutdown.is_cancelled() {
            if prune.due()
                && let Err(error) = self.prune().await
            {
                tracing::warn!(%error, "pruning old runs and dead instances failed; trying again later");
            }
            let wait = match self.rescue_expired().await {
                Ok(_) => {
                    failures = 0;
                    if let Ok(depth) = self.store().run_queue_depth(self.clock().now()).await {
                        metrics::gauge!("tidings_queue_depth").set(depth as f64);
                    }
                    self.config().rescue_every
                }
                Err(error) => self.store_failed(&error, &mut failures),
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn cancelled_outcome(reason: Option<CancelReason>) -> RunOutcome {
    match reason {
        Some(CancelReason::Shutdown) => RunOutcome::Requeued {
            reason: "shutdown: returned to the queue".to_owned(),
        },
        Some(CancelReason::LeaseLost) => RunOutcome::Failed {
            error: "stopped: this instance lost the run's lease".to_owned(),
            retry_at: None,
        },
        Some(CancelReason::Requested) | None => RunOutcome::Cancelled {
            reason: "cancelled on request".to_owned(),
        },
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

fn seconds(duration: jiff::SignedDuration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs} s")
    } else {
        format!("{secs:.3} s")
    }
}
