//! The built-in job kinds of tidings, one module each:
//!
//! - [`noop`]: does nothing, optionally for a while (tests and benchmarks);
//! - [`http`]: calls a URL and judges the answer;
//! - [`webhook`]: delivers a finished run to its schedule's `callback_url`, signed;
//! - [`sync`]: brings a configured source's feedback into the store;
//! - [`aggregate`]: pre-computes the dashboard statistics snapshot.
//!
//! [`register_builtin`] adds all but `sync` to a [`JobRegistry`]; `sync` needs the configured
//! sources, so the binary registers a [`SyncJob`] made from them.

pub mod aggregate;
mod environment;
mod fields;
pub mod http;
pub mod noop;
pub mod sync;
pub mod webhook;

use tidings_engine::JobRegistry;

pub use crate::aggregate::{AggregateJob, AggregateParams, AggregateSettings};
pub use crate::environment::{Environment, ProcessEnvironment};
pub use crate::http::{HttpJob, HttpParams};
pub use crate::noop::{NoopJob, NoopParams};
pub use crate::sync::{SourceDef, SyncJob, SyncParams};
pub use crate::webhook::{WebhookJob, WebhookParams, WebhookSettings, verify_signature};

/// Adds every built-in job kind to `registry`; `webhooks` says how deliveries are signed.
///
/// # Panics
///
/// When the HTTP client of the `http` and `webhook` jobs cannot be built (see
/// [`HttpJob::new`]).
pub fn register_builtin(registry: &mut JobRegistry, webhooks: WebhookSettings) {
    registry
        .register(NoopJob)
        .register(AggregateJob::new(AggregateSettings::default()))
        .register(HttpJob::new())
        .register(WebhookJob::new(webhooks));
}
