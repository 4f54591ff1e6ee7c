//! The built-in job kinds of tidings, one module each:
//!
//! - [`noop`]: does nothing, optionally for a while (tests and benchmarks);
//! - [`http`]: calls a URL and judges the answer.
//!
//! [`register_builtin`] adds them all to a [`JobRegistry`].

mod environment;
mod fields;
pub mod http;
pub mod noop;

use tidings_engine::JobRegistry;

pub use crate::environment::{Environment, ProcessEnvironment};
pub use crate::http::{HttpJob, HttpParams};
pub use crate::noop::{NoopJob, NoopParams};

/// Adds every built-in job kind to `registry`.
///
/// # Panics
///
/// When the `http` job's HTTP client cannot be built (see [`HttpJob::new`]).
pub fn register_builtin(registry: &mut JobRegistry) {
    registry.register(NoopJob).register(HttpJob::new());
}
