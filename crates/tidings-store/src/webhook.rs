//! Completion webhooks. When a run of a schedule with a `callback_url` ends — succeeded, failed,
//! timed out or cancelled, by its worker, by lease rescue or while still queued — the store
//! queues its delivery in the same transaction: a run of kind [`WEBHOOK_KIND`], trigger
//! `webhook`, whose `parent_run_id` is the finished run and whose `schedule_id` is empty (so it
//! never counts in the schedule's statistics nor against its `max_instances`).
//!
//! A delivery is an ordinary run: it is claimed, retried with backoff, rescued and listed like
//! any other, and since it is written with the transition it reports, a delivery is never lost
//! to a crash after the completion commits, nor queued for a completion that rolled back.

use jiff::{SignedDuration, Timestamp};
use tidings_core::RetryPolicy;

use crate::RunId;

/// The job kind of deliveries.
pub const WEBHOOK_KIND: &str = "webhook";

/// How long one delivery attempt may take.
pub const WEBHOOK_TIMEOUT: SignedDuration = SignedDuration::from_secs(30);

/// How deliveries are retried: 8 attempts, waiting 10 s after the first failure and doubling
/// (10 s, 20 s … 640 s, about 21 minutes in all before the delivery fails).
pub const WEBHOOK_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    backoff: SignedDuration::from_secs(10),
    max_backoff: SignedDuration::from_secs(3600),
};

/// The delivery a finished run owes its schedule's `callback_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The finished run.
    pub parent: RunId,
    pub url: String,
    /// When the run ended: the delivery is created and claimable from then.
    pub at: Timestamp,
}

impl WebhookDelivery {
    /// The delivery run's params: `{"url": …}`.
    pub fn params(&self) -> serde_json::Value {
        serde_json::json!({ "url": self.url })
    }
}
