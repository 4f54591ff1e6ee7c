//! What the commands that work on the store share: the configuration, the store — a SQLite file
//! opened shared, so that they work beside a running server — with its migrations applied, and
//! an engine that is never started, whose methods apply the same checks as the API.

use std::sync::Arc;

use anyhow::anyhow;
use jiff::Timestamp;
use tidings_core::Zone;
use tidings_engine::Engine;
use tidings_store::{Schedule, ScheduleKey, Store, StoreError};

use super::{DatabaseArgs, Failure, GlobalArgs};
use crate::config::Config;
use crate::scheduler;
use crate::store::{self, Access};

pub(crate) struct Session {
    pub(crate) config: Config,
    pub(crate) engine: Engine,
}

impl Session {
    pub(crate) async fn open(
        global: &GlobalArgs,
        database: &DatabaseArgs,
    ) -> Result<Session, Failure> {
        let config = global.load_config_with(database)?;
        let url = &config.database.url;
        let store = store::open(url, Access::Tool)
            .await
            .map_err(Failure::runtime)?;
        store.migrate().await.map_err(|error| {
            Failure::runtime(anyhow!(
                "cannot migrate the database {url}: {}",
                store::scrub(error.to_string(), url)
            ))
        })?;
        let engine = scheduler::engine(store, &config, scheduler::instance_id());
        Ok(Session { config, engine })
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.engine.clock().now()
    }

    /// The zone instants are shown in when no schedule names one: `scheduler.timezone`.
    pub(crate) fn zone(&self) -> &Zone {
        &self.config.scheduler.timezone
    }

    /// The schedule named `text` (a name, or an id).
    pub(crate) async fn schedule(&self, text: &str) -> Result<Schedule, Failure> {
        let key = schedule_key(text)?;
        self.store().schedule_get(&key).await.map_err(store_failure)
    }
}

/// A schedule's name or id as typed.
pub(crate) fn schedule_key(text: &str) -> Result<ScheduleKey, Failure> {
    ScheduleKey::parse(text.trim()).map_err(|e| Failure::usage(anyhow!("{e}")))
}

/// A store error as a failure of the work (exit 1), except a name already taken (exit 2).
pub(crate) fn store_failure(error: StoreError) -> Failure {
    match error {
        StoreError::NotFound { entity, key } => Failure::runtime(anyhow!("no {entity} {key}")),
        StoreError::Conflict(message) => Failure::usage(anyhow!("{message}")),
        other => Failure::runtime(other),
    }
}
