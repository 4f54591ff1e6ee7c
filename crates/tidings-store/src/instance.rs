//! The `tidings serve` processes sharing a store: each registers itself when it starts, renews
//! `last_seen_at` with its heartbeats, and removes itself when it stops cleanly. An instance not
//! seen for a while died without saying so; maintenance prunes it.

use jiff::Timestamp;
use serde::Serialize;

/// One `tidings serve` process, as it registered itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// `<hostname>-<pid>-<4 hex digits>`: the lease owner of the runs it executes.
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// The tidings version it runs.
    pub version: String,
    pub started_at: Timestamp,
    /// Its latest heartbeat.
    pub last_seen_at: Timestamp,
}
