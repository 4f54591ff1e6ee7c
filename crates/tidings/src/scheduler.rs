//! The scheduler as this binary runs it: the job kinds it knows (webhook deliveries signed as
//! `[webhooks]` says), this instance's id, and the engine's settings from `[scheduler]` and
//! `[server]`.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use tidings_core::SystemClock;
use tidings_engine::{Engine, EngineConfig, JobRegistry};
use tidings_jobs::{AggregateJob, AggregateSettings, SourceDef, SyncJob, WebhookSettings};
use tidings_store::Store;

use crate::config::{Config, SourceConfig};
use crate::draft::signed;

/// Every job kind this build can run, `sync` knowing `sources`, for checking params and reading
/// kind defaults. Nothing is delivered through it, so its webhooks are unsigned; [`engine`] signs
/// with the configured secret.
pub fn job_registry(sources: &BTreeMap<String, SourceConfig>) -> JobRegistry {
    registry_with(
        WebhookSettings::default(),
        SyncJob::new(source_defs(sources)),
    )
}

fn registry_with(webhooks: WebhookSettings, sync: SyncJob) -> JobRegistry {
    let mut registry = JobRegistry::new();
    tidings_jobs::register_builtin(&mut registry, webhooks);
    registry.register(sync);
    registry
}

fn source_defs(sources: &BTreeMap<String, SourceConfig>) -> BTreeMap<String, SourceDef> {
    sources
        .iter()
        .map(|(name, source)| {
            let def = match source {
                SourceConfig::Csv(csv) => SourceDef::Csv(csv.clone()),
                SourceConfig::Airtable(airtable) => SourceDef::Airtable(airtable.clone()),
            };
            (name.clone(), def)
        })
        .collect()
}

/// The `aggregate` kind with the configured zone (registering it again replaces the default).
fn register_aggregate(registry: &mut JobRegistry, config: &Config) {
    registry.register(AggregateJob::new(AggregateSettings {
        zone: config.stats.timezone.clone(),
        ..AggregateSettings::default()
    }));
}

/// How webhook deliveries are signed: with `webhooks.secret`, if set.
pub fn webhook_settings(config: &Config) -> WebhookSettings {
    WebhookSettings {
        secret: config
            .webhooks
            .secret
            .as_ref()
            .map(|secret| secret.expose().to_owned()),
    }
}

/// What `serve` warns at start when deliveries would go out unsigned, and how to sign them.
pub const UNSIGNED_WEBHOOKS: &str = "webhooks.secret is not set: deliveries to schedules' \
    callback_url go out without an X-Tidings-Signature, so receivers cannot tell them from \
    forgeries; set TIDINGS_WEBHOOKS__SECRET (or `secret` under [webhooks] in tidings.toml) to a \
    long random string shared with the receivers";

/// Logs [`UNSIGNED_WEBHOOKS`] once when no secret is configured; `serve` calls it at start.
pub fn warn_if_webhooks_unsigned(config: &Config) {
    if config.webhooks.secret.is_none() {
        tracing::warn!("{UNSIGNED_WEBHOOKS}");
    }
}

/// This machine's name, or "tidings" where it cannot be read.
fn host_name() -> String {
    std::fs::read_to_string(HOSTNAME_FILE)
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tidings".to_owned())
}

/// Where the host name is read from; on other systems the instance is named "tidings".
const HOSTNAME_FILE: &str = "/proc/sys/kernel/hostname";

/// This process's instance id, `<hostname>-<pid>-<4 hex digits>`: recorded as the lease owner of
/// the runs it executes, so that `tidings runs show` says which machine and process ran what.
/// The random suffix tells apart two processes that reuse a pid (a restart in a container).
pub fn instance_id() -> String {
    let host = host_name();
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
        host: host_name(),
        run_retention: config.runs.retention.map(signed),
        ..EngineConfig::default()
    }
}

/// An engine on `store` with every built-in job kind (webhooks signed as `[webhooks]` says)
/// and the system clock.
pub fn engine(store: Arc<dyn Store>, config: &Config, instance: String) -> Engine {
    let mut sync = SyncJob::new(source_defs(&config.sources));
    if config.stats.refresh_after_sync {
        sync = sync.then_run(crate::reconcile::STATS_SCHEDULE);
    }
    let mut registry = registry_with(webhook_settings(config), sync);
    register_aggregate(&mut registry, config);
    Engine::new(
        store,
        Arc::new(SystemClock),
        registry,
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
    fn webhooks_are_signed_with_the_configured_secret() {
        let mut config = Config::default();
        assert_eq!(webhook_settings(&config).secret, None);
        config.webhooks.secret = Some(crate::secret::Secret::new("whsec"));
        assert_eq!(webhook_settings(&config).secret.as_deref(), Some("whsec"));
        assert!(UNSIGNED_WEBHOOKS.contains("TIDINGS_WEBHOOKS__SECRET"));
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
