//! Reconciling the `[[schedules]]` of the configuration into the store when `serve` starts: a
//! declared schedule missing from the store is created (origin `config`), one that differs is
//! updated, and a schedule of origin `config` that is no longer declared is disabled — not
//! deleted, so its history stays. The file wins: a declared schedule disabled or edited from the
//! command line is put back as declared at the next start.
//!
//! Airtable sources that no declared schedule syncs get default schedules (origin `default`),
//! created once and then left to the user, and a first full sync when they have never synced.

use jiff::Timestamp;
use serde_json::json;
use tidings_core::{RunState, RunTrigger, Trigger};
use tidings_engine::draft::ScheduleDraft;
use tidings_engine::{Engine, EngineError};
use tidings_store::{
    RunEnqueueParams, RunEnqueued, RunListParams, Schedule, ScheduleKey, ScheduleListParams,
    ScheduleName, ScheduleOrigin, ScheduleSpec, StoreError,
};
use tracing::{info, warn};

use crate::config::{Config, DeclaredSchedule, SourceConfig};
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

/// The default schedules of an Airtable source: incremental syncs hourly in New York office
/// hours, and a full sync late on Sunday (the seeds' "EST" is New York time, summer included).
const DEFAULT_SYNCS: [(&str, &str, &str, &str); 2] = [
    (
        "",
        "0 9-18 * * 1-5",
        "incremental",
        "hourly incremental sync on weekdays, 9:00-18:00 New York time",
    ),
    (
        ":full",
        "59 23 * * 0",
        "full",
        "weekly full sync, Sunday 23:59 New York time: records deleted in the source leave the cache",
    ),
];

/// The zone of the default schedules.
const DEFAULT_SYNC_ZONE: &str = "America/New_York";

/// What [`source_schedules`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SourceSchedules {
    /// Default schedules created, by name.
    pub created: Vec<String>,
    /// Full syncs queued for sources that never synced, by source.
    pub first_syncs: Vec<String>,
}

/// Creates the default `stats:refresh` schedule (the `aggregate` job every `[stats]
/// refresh_every`, and at start) when sources are configured, unless the configuration
/// declares an `aggregate` schedule.
/// Gives each Airtable source that no configured schedule syncs its default schedules
/// (`sync:NAME`, `sync:NAME:full`, origin `default`), creating only those missing by name: a
/// default schedule edited or disabled over the API or the command line stays as it was made.
/// Then queues a full sync of every Airtable source that has never synced, unless one is
/// already queued or running. Fails only when the store does.
pub async fn source_schedules(
    engine: &Engine,
    config: &Config,
) -> Result<SourceSchedules, StoreError> {
    let defaults = crate::draft::defaults(&config.scheduler);
    let mut done = SourceSchedules::default();
    for (name, source) in &config.sources {
        if !matches!(source, SourceConfig::Airtable(_)) {
            continue;
        }
        let declared = config
            .schedules
            .iter()
            .any(|schedule| syncs(schedule.draft_kind(), schedule.draft_params(), name));
        let mut full_schedule = None;
        if !declared {
            for (suffix, cron, mode, description) in DEFAULT_SYNCS {
                let schedule_name = format!("sync:{name}{suffix}");
                let schedule = ensure_default(
                    engine,
                    &defaults,
                    &schedule_name,
                    cron,
                    json!({ "source": name, "mode": mode }),
                    description,
                    &mut done,
                )
                .await?;
                if mode == "full" {
                    full_schedule = schedule;
                }
            }
        }
        if engine.store().source_state_get(name).await?.is_none() {
            queue_first_sync(engine, name, full_schedule.as_ref(), &mut done).await?;
        }
    }
    let declared = config
        .schedules
        .iter()
        .any(|schedule| schedule.draft_kind() == Some("aggregate"));
    // Statistics are of the feedback: without a source there is nothing to compute.
    if !declared && !config.sources.is_empty() {
        let draft = ScheduleDraft {
            name: Some(STATS_SCHEDULE.to_owned()),
            description: Some(
                "recompute the statistics that /api/stats serves (every [stats] refresh_every)"
                    .to_owned(),
            ),
            interval: Some(tidings_core::duration::format(config.stats.refresh_every)),
            kind: Some("aggregate".to_owned()),
            run_on_start: Some(true),
            ..ScheduleDraft::default()
        };
        ensure_default_draft(engine, &defaults, draft, &mut done).await?;
    }
    Ok(done)
}

/// The default schedule of the `aggregate` job, unless the configuration declares one.
pub const STATS_SCHEDULE: &str = "stats:refresh";

/// Whether a schedule of `kind` with `params` syncs the source `name`.
fn syncs(kind: Option<&str>, params: Option<&serde_json::Value>, name: &str) -> bool {
    kind == Some("sync")
        && params
            .and_then(|params| params.get("source"))
            .and_then(serde_json::Value::as_str)
            == Some(name)
}

async fn ensure_default(
    engine: &Engine,
    defaults: &DraftDefaults,
    name: &str,
    cron: &str,
    params: serde_json::Value,
    description: &str,
    done: &mut SourceSchedules,
) -> Result<Option<Schedule>, StoreError> {
    let draft = ScheduleDraft {
        name: Some(name.to_owned()),
        description: Some(description.to_owned()),
        cron: Some(cron.to_owned()),
        timezone: Some(DEFAULT_SYNC_ZONE.to_owned()),
        kind: Some("sync".to_owned()),
        params: Some(params),
        ..ScheduleDraft::default()
    };
    ensure_default_draft(engine, defaults, draft, done).await
}

/// Creates the schedule `draft` describes (origin `default`) unless one of its name exists.
async fn ensure_default_draft(
    engine: &Engine,
    defaults: &DraftDefaults,
    draft: ScheduleDraft,
    done: &mut SourceSchedules,
) -> Result<Option<Schedule>, StoreError> {
    let name = draft.name.clone().unwrap_or_default();
    let key = ScheduleKey::Name(
        ScheduleName::parse(&name).map_err(|error| StoreError::Internal(error.to_string()))?,
    );
    match engine.store().schedule_get(&key).await {
        Ok(schedule) => return Ok(Some(schedule)),
        Err(StoreError::NotFound { .. }) => {}
        Err(error) => return Err(error),
    }
    let description = draft.description.clone().unwrap_or_default();
    let spec = match draft.to_spec(None, None, defaults, engine.clock().now()) {
        Ok(spec) => spec,
        Err(problems) => {
            for problem in problems {
                warn!("default schedule `{name}` not created: {problem}");
            }
            return Ok(None);
        }
    };
    match engine.schedule_create(spec, ScheduleOrigin::Default).await {
        Ok(schedule) => {
            info!(
                "created default schedule `{name}` (id {}): {description}; edit or disable it like any schedule",
                schedule.id
            );
            done.created.push(name);
            Ok(Some(schedule))
        }
        Err(EngineError::Invalid(problems)) => {
            for problem in problems {
                warn!("default schedule `{name}` not created: {problem}");
            }
            Ok(None)
        }
        Err(EngineError::Store(error)) => Err(error),
    }
}

/// Queues a full sync of a source that has never synced, as a run of its full schedule when it
/// has one (so that it shows in that schedule's history).
async fn queue_first_sync(
    engine: &Engine,
    source: &str,
    full_schedule: Option<&Schedule>,
    done: &mut SourceSchedules,
) -> Result<(), StoreError> {
    let active = engine
        .store()
        .run_list(RunListParams {
            kind: Some("sync".to_owned()),
            states: vec![RunState::Queued, RunState::Running],
            limit: 1000,
            ..RunListParams::default()
        })
        .await?;
    if active
        .items
        .iter()
        .any(|run| syncs(Some("sync"), Some(&run.params), source))
    {
        return Ok(());
    }
    let now = engine.clock().now();
    let params = json!({ "source": source, "mode": "full" });
    let (schedule_id, retry, timeout) = match full_schedule {
        Some(schedule) => (
            Some(schedule.id),
            schedule.policy.retry,
            schedule.policy.timeout,
        ),
        None => {
            let kind = engine.registry().defaults("sync");
            (None, kind.retry, kind.timeout)
        }
    };
    let enqueued = engine
        .store()
        .run_enqueue(RunEnqueueParams {
            schedule_id,
            kind: "sync".to_owned(),
            params,
            trigger: RunTrigger::Startup,
            retry,
            timeout,
            run_after: now,
            now,
            max_instances: None,
            parent_run_id: None,
        })
        .await?;
    if let RunEnqueued::Queued(run) = enqueued {
        info!(
            "source `{source}` has never synced: queued a full sync (run {})",
            run.id
        );
        done.first_syncs.push(source.to_owned());
        engine.notify_work_available();
    }
    Ok(())
}
