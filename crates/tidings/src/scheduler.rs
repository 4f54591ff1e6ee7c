//! The scheduler as this binary runs it: the job kinds it knows, this instance's id, and the
//! engine's settings from `[scheduler]` and `[server]`.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use tidings_core::SystemClock;
use tidings_engine::{Engine, EngineConfig, JobRegistry};
use tidings_store::Store;

use crate::config::Config;
use crate::draft::signed;

/// Every job kind this build can run.
pub fn job_registry() -> JobRegistry {
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry);
    registry
}

/// Where the host name is read from; on other systems the instance is named "tidings".
const HOSTNAME_FILE: &str = "/proc/sys/kernel/hostname";

/// This process's instance id, `<hostname>-<pid>-<4 hex digits>`: recorded as the lease owner of
/// the runs it executes, so that `tidings runs show` says which machine and process ran what.
/// The random suffix tells apart two processes that reuse a pid (a restart in a container).
pub fn instance_id() -> String {
    let host = std::fs::read_to_string(HOSTNAME_FILE)
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tidings".to_owned());
    let pid = std::process::id();
    let suffix = RandomState::new().hash_one((&host, pid)) & 0xffff;
    format!("{host}-{pid}-{suffix:04x}")
}

/// How often a `serve` process looks for runs whose lease expired, at most.
const RESCUE_EVERY: Duration = Duration::from_secs(5);

/// The engine's settings: `[scheduler]` for concurrency, lease (renewed every third of it) and
/// `min_interval`; `server.shutdown_grace` for how long running jobs may finish on shutdown.
pub fn engine_config(config: &Config, instance: String) -> EngineConfig {
    let lease = config.scheduler.lease;
    EngineConfig {
        instance,
        concurrency: config.scheduler.concurrency.max(1) as usize,
        lease: signed(lease),
        heartbeat: lease / 3,
        rescue_every: RESCUE_EVERY.min(lease),
        shutdown_grace: config.server.shutdown_grace,
        min_interval: signed(config.scheduler.min_interval),
        ..EngineConfig::default()
    }
}

/// An engine on `store` with every built-in job kind and the system clock.
pub fn engine(store: Arc<dyn Store>, config: &Config, instance: String) -> Engine {
    Engine::new(
        store,
        Arc::new(SystemClock),
        job_registry(),
        engine_config(config, instance),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_name_the_host_and_process() {
        let id = instance_id();
        let pid = std::process::id().to_string();
        let mut parts = id.rsplitn(3, '-');
        let suffix = parts.next().unwrap();
        assert_eq!(suffix.len(), 4, "{id}");
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_eq!(parts.next(), Some(pid.as_str()), "{id}");
        assert!(!parts.next().unwrap().is_empty(), "{id}");
    }

    #[test]
    fn the_engine_follows_the_scheduler_settings() {
        let mut config = Config::default();
        config.scheduler.lease = Duration::from_secs(3);
        config.scheduler.concurrency = 4;
        config.server.shutdown_grace = Duration::from_secs(7);
        let engine = engine_config(&config, "me".to_owned());
        assert_eq!(engine.instance, "me");
        assert_eq!(engine.concurrency, 4);
        assert_eq!(engine.lease, jiff::SignedDuration::from_secs(3));
        assert_eq!(engine.heartbeat, Duration::from_secs(1));
        assert_eq!(engine.rescue_every, Duration::from_secs(3));
        assert_eq!(engine.shutdown_grace, Duration::from_secs(7));
        assert_eq!(engine.min_interval, jiff::SignedDuration::from_secs(1));
    }
}
