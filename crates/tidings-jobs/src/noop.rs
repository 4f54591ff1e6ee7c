//! `noop`: does nothing, optionally for a while. Tests and benchmarks use it to exercise the
//! engine without doing any work, so it stays cheap: no I/O, no allocation beyond its summary.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tidings_engine::{JobContext, JobError, ParamsError, TypedJob};

use crate::fields;

/// The longest a `noop` may sleep: one hour.
pub const MAX_SLEEP_MS: u64 = 3_600_000;

/// `noop`'s params: `{ "sleep_ms": 0..=3600000 }`, all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoopParams {
    /// How long to sleep, in milliseconds (default 0).
    #[serde(default)]
    pub sleep_ms: Option<serde_json::Value>,
}

impl NoopParams {
    /// How long the job sleeps, in milliseconds.
    pub fn sleep_ms(&self) -> Result<u64, ParamsError> {
        let sleep_ms: u64 =
            fields::optional(NoopJob::KIND, "sleep_ms", self.sleep_ms.as_ref())?.unwrap_or(0);
        if sleep_ms > MAX_SLEEP_MS {
            return Err(fields::field_error(
                NoopJob::KIND,
                "sleep_ms",
                format_args!("{sleep_ms} is more than the maximum of {MAX_SLEEP_MS} (one hour)"),
            ));
        }
        Ok(sleep_ms)
    }
}

/// The `noop` job kind. Returns `{}`, or `{"slept_ms": n}` after sleeping; a cancellation
/// during the sleep ends it with [`JobError::Cancel`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopJob;

#[async_trait]
impl TypedJob for NoopJob {
    const KIND: &'static str = "noop";
    type Params = NoopParams;

    fn check(&self, params: &NoopParams) -> Result<(), ParamsError> {
        params.sleep_ms().map(drop)
    }

    async fn run(
        &self,
        params: NoopParams,
        ctx: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        let sleep_ms = params.sleep_ms().map_err(JobError::fatal)?;
        if sleep_ms == 0 {
            return Ok(serde_json::json!({}));
        }
        tokio::select! {
            () = ctx.cancel.cancelled() => Err(JobError::Cancel(format!(
                "cancelled during a {sleep_ms} ms sleep"
            ))),
            () = tokio::time::sleep(Duration::from_millis(sleep_ms)) => {
                Ok(serde_json::json!({ "slept_ms": sleep_ms }))
            }
        }
    }
}
