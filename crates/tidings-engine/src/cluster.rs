//! What an instance does to share a store with others: it registers itself and stays seen while
//! it runs, wakes its timers when the store reports a change made elsewhere (PostgreSQL
//! `LISTEN/NOTIFY`) instead of waiting for the next poll, and takes part in maintenance —
//! pruning instances that died without saying so and runs older than the retention — which is
//! safe when several instances do it at once (every query is idempotent).

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use tidings_store::{Instance, StoreChange};
use tokio_util::sync::CancellationToken;

use crate::Engine;

/// How often the store is asked for a change feed again after it could not give one.
const FEED_RETRY: Duration = Duration::from_secs(30);
/// Runs deleted per store call while pruning.
const PRUNE_BATCH: u32 = 1000;
/// Store calls per pruning pass, at most: a large backlog is worked off over several passes.
const PRUNE_CALLS: u32 = 20;
/// How often the maintenance prunes.
pub(crate) const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl Engine {
    /// This instance as it registers itself.
    pub fn instance(&self) -> Instance {
        let now = self.clock().now();
        Instance {
            id: self.config().instance.clone(),
            host: self.config().host.clone(),
            pid: std::process::id(),
            version: self.config().version.clone(),
            started_at: self.inner.started_at,
            last_seen_at: now,
        }
    }

    /// Registers this instance; logged, not fatal, when the store refuses.
    pub(crate) async fn register_instance(&self) {
        if let Err(error) = self.store().instance_register(self.instance()).await {
            tracing::warn!(%error, "could not register this instance");
        }
    }

    /// Records that this instance is alive; registers it again if it was pruned meanwhile
    /// (a long pause, the database unreachable for a while).
    pub(crate) async fn instance_seen(&self) {
        match self
            .store()
            .instance_seen(&self.config().instance, self.clock().now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!("this instance had been pruned as dead; registering it again");
                self.register_instance().await;
            }
            Err(error) => tracing::debug!(%error, "could not record this instance's heartbeat"),
        }
    }

    /// Removes this instance at a clean stop.
    pub(crate) async fn deregister_instance(&self) {
        if let Err(error) = self.store().instance_remove(&self.config().instance).await {
            tracing::warn!(%error, "could not remove this instance from the store");
        }
    }

    /// Wakes the firing timer and the workers on every change the store reports, until
    /// shutdown. Without a feed (SQLite), or while it is down, the timers' polls do the work.
    pub(crate) async fn changes_loop(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let feed = tokio::select! {
                () = shutdown.cancelled() => return,
                feed = self.store().changes() => feed,
            };
            let mut feed = match feed {
                Ok(Some(feed)) => feed,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, retry_in_s = FEED_RETRY.as_secs(), "cannot listen for changes made by other instances; polling instead");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(FEED_RETRY) => continue,
                    }
                }
            };
            tracing::debug!("listening for changes made by other instances");
            loop {
                let change = tokio::select! {
                    () = shutdown.cancelled() => return,
                    change = feed.next() => change,
                };
                match change {
                    Some(StoreChange::RunsQueued) => self.notify_work_available(),
                    Some(StoreChange::SchedulesChanged) => self.notify_schedules_changed(),
                    Some(StoreChange::Reconnected) => {
                        self.notify_work_available();
                        self.notify_schedules_changed();
                    }
                    None => break,
                }
            }
        }
    }

    /// One pruning pass: instances not seen for three leases (at least a minute), and runs
    /// that ended longer than `run_retention` ago. Returns how many runs were deleted.
    pub async fn prune(&self) -> Result<u64, tidings_store::StoreError> {
        let now = self.clock().now();
        let silent = SignedDuration::try_from(self.config().heartbeat * 6)
            .unwrap_or(SignedDuration::from_mins(1))
            .max(SignedDuration::from_mins(1))
            .max(self.config().lease * 3);
        for id in self.store().instance_prune(now - silent).await? {
            tracing::info!(instance = %id, "pruned an instance not seen for {}s: it stopped without saying so", silent.as_secs());
        }
        let Some(retention) = self.config().run_retention else {
            return Ok(0);
        };
        let cutoff = now - retention;
        let mut deleted = 0;
        for _ in 0..PRUNE_CALLS {
            let batch = self.store().run_prune(cutoff, PRUNE_BATCH).await?;
            deleted += batch;
            if batch < u64::from(PRUNE_BATCH) {
                break;
            }
        }
        if deleted > 0 {
            tracing::info!(
                deleted,
                "pruned runs that ended more than {}h ago (runs.retention)",
                retention.as_hours()
            );
        }
        Ok(deleted)
    }
}

/// When the maintenance prunes next: at once, then every [`PRUNE_EVERY`].
#[derive(Debug)]
pub(crate) struct PruneTimer {
    next: Instant,
}

impl PruneTimer {
    pub(crate) fn new() -> PruneTimer {
        PruneTimer {
            next: Instant::now(),
        }
    }

    pub(crate) fn due(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next {
            return false;
        }
        self.next = now + PRUNE_EVERY;
        true
    }
}
