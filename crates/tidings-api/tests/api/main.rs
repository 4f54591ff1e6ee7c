//! The REST API end to end, as a client sees it: a real server on 127.0.0.1 over a real store
//! (a SQLite file, a fresh PostgreSQL schema), called over HTTP with real keys. One test binary,
//! a module per feature; every case runs on both backends ([`both_backends!`]).
//!
//! Time is a manual clock: a test that needs the scheduler to fire advances it and takes one
//! step of the engine (`TestApp::fire_and_work`); nothing sleeps. Every answer a test receives
//! is checked against the schema the OpenAPI document declares for its route, method and
//! status (`openapi::check_answer`), so a view that drifts from its documentation fails here.

// Test code, helpers included: a panic with the unwrapped error is how a test reports failure
// (clippy.toml's `allow-unwrap-in-tests` covers only `#[test]` functions).
#![allow(clippy::unwrap_used)]

#[macro_use]
mod helpers;

mod auth;
mod cron;
mod feedback;
mod keys;
mod openapi;
mod ops;
mod runs;
mod schedules;
mod sources;
mod stats;
