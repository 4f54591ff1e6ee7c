//! Firing: the timer that sleeps until the earliest `next_run_at` (or a change, or the idle
//! poll) and fires what is due. Exactly-once comes from the store's fire key and guarded
//! `next_run_at` update, not from this loop: several instances may run it at once.

use std::time::Duration;

use jiff::Timestamp;
use tidings_store::{ScheduleFireDueParams, ScheduleFired, StoreError};
use tokio_util::sync::CancellationToken;

use crate::{Engine, EngineEvent};

impl Engine {
    /// Fires every occurrence due at the clock's current time, in batches, and returns what was
    /// fired. One step of the firing loop.
    pub async fn fire_due(&self) -> Result<Vec<ScheduleFired>, StoreError> {
        let mut all = Vec::new();
        loop {
            let now = self.clock().now();
            let batch = self.config().fire_batch.max(1);
            let timer = std::time::Instant::now();
            let fired = self
                .store()
                .schedule_fire_due(ScheduleFireDueParams { now, limit: batch })
                .await?;
            tracing::trace!(fired = fired.len(), took = ?timer.elapsed(), "fire");
            let full = fired.len() as u32 >= batch;
            for schedule in &fired {
                self.record_fired(schedule);
            }
            if fired.iter().any(|s| !s.queued.is_empty()) {
                self.notify_work_available();
            }
            all.extend(fired);
            if !full {
                return Ok(all);
            }
        }
    }

    fn record_fired(&self, fired: &ScheduleFired) {
        let missed = fired.missed.map_or(0, |m| m.count);
        if let Some(range) = fired.missed {
            tracing::warn!(
                schedule_id = %fired.schedule_id,
                count = range.count,
                first = %range.first,
                last = %range.last,
                "occurrences missed (past the misfire grace or coalesced); recorded as one missed run"
            );
        }
        if fired.skipped > 0 {
            tracing::info!(schedule_id = %fired.schedule_id, skipped = fired.skipped, "occurrences skipped: max_instances reached");
        }
        for run in &fired.queued {
            tracing::debug!(schedule_id = %fired.schedule_id, run_id = %run.id, scheduled_for = ?run.scheduled_for, "fired");
        }
        metrics::counter!("tidings_occurrences_total", "outcome" => "queued")
            .increment(fired.queued.len() as u64);
        metrics::counter!("tidings_occurrences_total", "outcome" => "skipped")
            .increment(fired.skipped);
        metrics::counter!("tidings_occurrences_total", "outcome" => "missed").increment(missed);
        self.emit(EngineEvent::Fired {
            schedule_id: fired.schedule_id,
            queued: fired.queued.iter().map(|r| r.id).collect(),
            skipped: fired.skipped,
            missed,
            next_run_at: fired.next_run_at,
        });
    }

    /// The firing loop, until `shutdown`.
    pub(crate) async fn fire_loop(self, shutdown: CancellationToken) {
        let mut failures = 0_u32;
        while !shutdown.is_cancelled() {
            let wait = match self.fire_due().await {
                Ok(_) => {
                    failures = 0;
                    match self.store().schedule_next_due_at().await {
                        Ok(next) => self.until(next),
                        Err(error) => self.store_failed(&error, &mut failures),
                    }
                }
                Err(error) => self.store_failed(&error, &mut failures),
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.schedules_changed.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// How long to sleep until `next` (capped by the idle poll).
    pub(crate) fn until(&self, next: Option<Timestamp>) -> Duration {
        let idle = self.config().idle_poll;
        match next {
            None => idle,
            Some(next) => {
                let wait = next.duration_since(self.clock().now());
                if wait.is_negative() {
                    Duration::ZERO
                } else {
                    Duration::try_from(wait).unwrap_or(idle).min(idle)
                }
            }
        }
    }

    /// Logs a store failure and returns how long to back off (doubling up to 30 s).
    pub(crate) fn store_failed(&self, error: &StoreError, failures: &mut u32) -> Duration {
        *failures = failures.saturating_add(1);
        let wait =
            Duration::from_millis(250 * 2_u64.pow((*failures).min(7))).min(Duration::from_secs(30));
        tracing::error!(%error, retry_in = ?wait, "store operation failed; will retry");
        wait
    }
}
