//! tidings as a library: the pieces the `tidings` binary is made of, public so that integration
//! tests can build and run the service in-process (`App::build`, `App::run_until_stopped`).
//!
//! `cli` is the command line, `config` the one typed configuration, `app` the running service,
//! `logging` the log output. This is the only crate that will name both store backends.

pub mod app;
pub mod cli;
pub mod config;
mod http;
pub mod logging;
pub mod secret;
mod shutdown;

pub use app::{App, AppError};
pub use config::{Config, ConfigErrors, load};
pub use secret::Secret;
