//! What every handler shares: the engine (and through it the store and the clock), the API's
//! settings, the scheduler's state as the service reports it, and the API key cache.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use tidings_engine::Engine;
use tidings_engine::draft::DraftDefaults;
use utoipa::ToSchema;

use crate::auth::KeyCache;
use crate::stats::StatsCache;

/// The API's settings; [`ApiConfig::default`] is what `tidings serve` uses without
/// configuration.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Accepted as an admin key in addition to the stored keys (`TIDINGS_API_KEY`).
    pub bootstrap_key: Option<String>,
    /// The largest request body accepted.
    pub body_limit: usize,
    /// How long a request may take before it is answered `408`.
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser; empty: CORS off.
    pub cors_origins: Vec<String>,
    /// `/metrics` without an API key.
    pub public_metrics: bool,
    /// The database, for `/api/status` (`sqlite://data/tidings.db`; never a password).
    pub database: String,
    /// The configured sources, as `/api/sources`, `/api/cache/status` and the sync routes
    /// know them.
    pub sources: Vec<SourceInfo>,
    /// The source of seed 000's `/api/cache/update-full` and `/update-incremental`; `None`:
    /// the first of `sources`.
    pub default_source: Option<String>,
}

/// A configured source, as the API describes it (never a token).
#[derive(Clone, Debug)]
pub struct SourceInfo {
    /// The name under `[sources.NAME]`.
    pub name: String,
    /// `csv` or `airtable`.
    pub kind: String,
    /// The CSV path, or `airtable base appX table Y`.
    pub location: String,
    /// Its cache is stale when no sync succeeded for this long.
    pub stale_after: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bootstrap_key: None,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            public_metrics: true,
            database: String::new(),
            sources: Vec::new(),
            default_source: None,
        }
    }
}

/// Whether the scheduler (firing and workers) runs in this process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SchedulerState {
    /// Not started yet.
    Starting,
    Running {
        since: Timestamp,
    },
    /// It could not start; the API serves without it.
    Failed {
        reason: String,
    },
    /// Shutting down.
    Stopping,
}

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) config: ApiConfig,
    pub(crate) drafts: DraftDefaults,
    pub(crate) started_at: Timestamp,
    pub(crate) scheduler: RwLock<SchedulerState>,
    pub(crate) metrics: Option<PrometheusHandle>,
    pub(crate) keys: KeyCache,
    /// `/api/stats`' copy of the current statistics snapshot.
    pub(crate) stats: StatsCache,
}

impl ApiState {
    /// `drafts` gives schedules created over the API their defaults (zone, misfire grace, the
    /// job kinds' retry policies); `metrics` renders `/metrics` (none: `/metrics` answers 404).
    pub fn new(
        engine: Engine,
        config: ApiConfig,
        drafts: DraftDefaults,
        metrics: Option<PrometheusHandle>,
    ) -> ApiState {
        let started_at = engine.clock().now();
        let keys = KeyCache::new(
            engine.store().clone(),
            engine.clock().clone(),
            config.bootstrap_key.clone(),
        );
        ApiState {
            inner: Arc::new(Inner {
                engine,
                config,
                drafts,
                started_at,
                scheduler: RwLock::new(SchedulerState::Starting),
                metrics,
                keys,
                stats: StatsCache::new(),
            }),
        }
    }

    /// How often the `aggregate` schedule refreshes the statistics (default 15 minutes):
    /// `/api/stats` calls a snapshot older than twice this `stale`.
    pub fn set_stats_refresh_interval(&self, interval: Duration) {
        self.inner.stats.set_refresh_interval(interval);
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The configured source named `name`.
    pub(crate) fn source(&self, name: &str) -> Option<&SourceInfo> {
        self.inner.config.sources.iter().find(|s| s.name == name)
    }

    /// Records the scheduler's state, for `/readyz` and `/api/status`.
    pub fn set_scheduler(&self, state: SchedulerState) {
        *self
            .inner
            .scheduler
            .write()
            .unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub fn scheduler(&self) -> SchedulerState {
        self.inner
            .scheduler
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
