//! `http`: calls a URL and judges the answer.
//!
//! - The answer's status is in `expected_status` (default any 2xx): the run succeeds with
//!   `{"status", "elapsed_ms", "bytes", "body"}`, `body` being the first KiB as text, or the
//!   JSON itself when the response is JSON of at most a KiB.
//! - 408, 425, 429, 5xx, a timeout, a refused or broken connection: [`JobError::Retryable`];
//!   a 429 with `Retry-After: <seconds>` snoozes for that long instead (at most an hour).
//! - Any other status (a 404, a redirect to another origin): [`JobError::Fatal`], e.g.
//!   "POST https://… answered 404 Not Found; expected 2xx".
//! - A cancellation aborts the request: [`JobError::Cancel`].
//!
//! Header values may be secrets: no message, log line or `Debug` output shows one. They can
//! name environment variables (`${NAME}`), read from an [`Environment`] when the run starts.

pub(crate) mod client;
mod exchange;
mod params;
mod status;
mod template;

use std::sync::Arc;

use async_trait::async_trait;
use tidings_engine::{JobContext, JobError, ParamsError, TypedJob};
use tokio_util::sync::CancellationToken;

use self::params::HttpCall;
use crate::{Environment, ProcessEnvironment};

pub use self::client::USER_AGENT;
pub use self::params::{DEFAULT_TIMEOUT_SECONDS, HttpParams, MAX_TIMEOUT_SECONDS};

/// The `http` job kind. One instance shares one connection pool across its runs.
#[derive(Clone)]
pub struct HttpJob {
    client: reqwest::Client,
    environment: Arc<dyn Environment>,
}

impl HttpJob {
    /// A job reading `${NAME}` from the process environment.
    ///
    /// # Panics
    ///
    /// When no HTTP client can be built at all, as [`reqwest::Client::new`] does (a machine
    /// without a CA store falls back to bundled roots, so this is not expected).
    pub fn new() -> HttpJob {
        HttpJob::try_new().unwrap_or_else(|error| panic!("cannot build the HTTP client: {error}"))
    }

    /// A job reading `${NAME}` from the process environment, or why its client cannot be built.
    pub fn try_new() -> Result<HttpJob, reqwest::Error> {
        Ok(HttpJob {
            client: client::build()?,
            environment: Arc::new(ProcessEnvironment),
        })
    }

    /// Reads `${NAME}` from `environment` instead (tests inject a map).
    pub fn with_environment(mut self, environment: impl Environment) -> HttpJob {
        self.environment = Arc::new(environment);
        self
    }

    /// Makes the call `params` describe, stopping when `cancel` fires. [`TypedJob::run`] is
    /// this with the run's params and token.
    pub async fn call(
        &self,
        params: &HttpParams,
        cancel: &CancellationToken,
    ) -> Result<serde_json::Value, JobError> {
        let call = HttpCall::parse(params).map_err(JobError::fatal)?;
        exchange::exchange(&self.client, &*self.environment, &call, cancel).await
    }
}

impl Default for HttpJob {
    fn default() -> HttpJob {
        HttpJob::new()
    }
}

impl std::fmt::Debug for HttpJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpJob").finish_non_exhaustive()
    }
}

#[async_trait]
impl TypedJob for HttpJob {
    const KIND: &'static str = "http";
    type Params = HttpParams;

    fn check(&self, params: &HttpParams) -> Result<(), ParamsError> {
        HttpCall::parse(params).map(drop)
    }

    async fn run(
        &self,
        params: HttpParams,
        ctx: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        self.call(&params, &ctx.cancel).await
    }
}
