//! Reconciling the `[[schedules]]` of the configuration into the store when `serve` starts: a
//! declared schedule missing from the store is created (origin `config`), one that differs is
//! updated, and a schedule of origin `config` that is no longer declared is disabled — not
//! deleted, so its history stays. The file wins: a declared schedule disabled or edited from the
//! command line is put back as declared at the next start.

use jiff::Timestamp;
use tidings_core::Trigger;
use tidings_engine::{Engine, EngineError};
use tidings_store::{
    Schedule, ScheduleKey, ScheduleListParams, ScheduleOrigin, ScheduleSpec, StoreError,
};
use tracing::{info, warn};

use crate::config::{Config, DeclaredSchedule};
use crate::draft::DraftDefaults;

/// What reconciling did, by schedule name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub disabled: Vec<String>,
    /// Declared but left alone, with a warning logged (a name taken by a schedule from elsewhere,
    /// a `once` whose instant has passed).
    pub ignored: Vec<String>,
}

/// Schedules read per store call.
const PAGE: u32 = 500;

/// Brings the store in line with `config.schedules`. Fails only when the store does.
pub async fn declared_schedules(
    engine: &Engine,
    config: &Config,
) -> Result<Reconciled, StoreError> {
    let defaults = crate::draft::defaults(&config.scheduler);
    let mut done = Reconciled::default();
    for declared in &config.schedules {
        reconcile_one(engine, declared, &defaults, &mut done).await?;
    }
    for schedule in config_schedules(engine).await? {
        let still_declared = config.schedules.iter().any(|d| *d.name() == schedule.name);
        if still_declared || !schedule.enabled {
            continue;
        }
        engine
            .schedule_set_enabled(&ScheduleKey::Id(schedule.id), false)
            .await
            .map_err(into_store_error)?;
        info!(
            "schedule `{}` is no longer declared in the configuration; disabled it (its history is kept; `tidings schedules delete {}` removes it)",
            schedule.name, schedule.name
        );
        done.disabled.push(schedule.name.to_string());
    }
    Ok(done)
}

async fn reconcile_one(
    engine: &Engine,
    declared: &DeclaredSchedule,
    defaults: &DraftDefaults,
    done: &mut Reconciled,
) -> Result<(), StoreError> {
    let name = declared.name().to_string();
    let now = engine.clock().now();
    let key = ScheduleKey::Name(declared.name().clone());
    let existing = match engine.store().schedule_get(&key).await {
        Ok(schedule) => Some(schedule),
        Err(StoreError::NotFound { .. }) => None,
        Err(error) => return Err(error),
    };
    let previous = existing.as_ref().map(|s| &s.trigger);
    let spec = match declared.spec(previous, defaults, now) {
        Ok(spec) => spec,
        Err(problems) => {
            // Checked when the configuration was loaded; only a clock jump gets here.
            for problem in problems {
                warn!("declared schedule `{name}` not applied: {problem}");
            }
            done.ignored.push(name);
            return Ok(());
        }
    };
    match existing {
        None => {
            if once_has_passed(&spec, now) {
                warn!(
                    "declared schedule `{name}` fires once at an instant that has passed; not created"
                );
                done.ignored.push(name);
                return Ok(());
            }
            match engine.schedule_create(spec, ScheduleOrigin::Config).await {
                Ok(schedule) => {
                    info!(
                        "created schedule `{name}` (id {}) declared in the configuration",
                        schedule.id
                    );
                    done.created.push(name);
                }
                Err(error) => refused(&name, error, done)?,
            }
        }
        Some(schedule) if schedule.origin != ScheduleOrigin::Config => {
            warn!(
                "declared schedule `{name}` not applied: a schedule of that name (id {}) was created by {}; rename one of them, or delete the other with `tidings schedules delete {}`",
                schedule.id,
                schedule.origin.as_str(),
                schedule.id
            );
            done.ignored.push(name);
        }
        Some(schedule) if schedule.spec() == spec => done.unchanged.push(name),
        Some(schedule) => {
            match engine
                .schedule_update(&ScheduleKey::Id(schedule.id), spec)
                .await
            {
                Ok(_) => {
                    info!(
                        "updated schedule `{name}` (id {}) to match the configuration",
                        schedule.id
                    );
                    done.updated.push(name);
                }
                Err(error) => refused(&name, error, done)?,
            }
        }
    }
    Ok(())
}

/// A declaration the engine refused is logged and skipped; a store failure stops the start.
fn refused(name: &str, error: EngineError, done: &mut Reconciled) -> Result<(), StoreError> {
    match error {
        EngineError::Invalid(problems) => {
            for problem in problems {
                warn!("declared schedule `{name}` not applied: {problem}");
            }
            done.ignored.push(name.to_owned());
            Ok(())
        }
        EngineError::Store(error) => Err(error),
    }
}

fn into_store_error(error: EngineError) -> StoreError {
    match error {
        EngineError::Store(error) => error,
        invalid @ EngineError::Invalid(_) => StoreError::Internal(invalid.to_string()),
    }
}

fn once_has_passed(spec: &ScheduleSpec, now: Timestamp) -> bool {
    matches!(&spec.trigger, Trigger::Once(once) if once.at() <= now)
}

/// Every schedule of origin `config`.
async fn config_schedules(engine: &Engine) -> Result<Vec<Schedule>, StoreError> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = engine
            .store()
            .schedule_list(ScheduleListParams {
                origin: Some(ScheduleOrigin::Config),
                limit: PAGE,
                cursor,
                ..ScheduleListParams::default()
            })
            .await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}
