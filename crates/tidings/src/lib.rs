//! tidings as a library: the pieces the `tidings` binary is made of, public so that integration
//! tests can build and run the service in-process (`App::build`, `App::run_until_stopped`).
//!
//! `cli` is the command line, `config` the one typed configuration, `app` the running service,
//! `logging` the log output. `store` opens the database (the only place that names both
//! backends), `scheduler` wires the engine, `draft` turns schedules as people write them into
//! checked specs, and `reconcile` applies the schedules declared in the configuration.

pub mod app;
pub mod cli;
pub mod config;
pub mod draft;
pub mod logging;
pub mod reconcile;
pub mod scheduler;
pub mod secret;
mod shutdown;
pub mod store;

pub use app::{App, AppError};
pub use config::{Config, ConfigErrors, load};
pub use secret::Secret;
