//! Firing due schedules: turning occurrences into queued runs, `skipped` and `missed` records,
//! exactly once per occurrence however many instances fire at the same time.
//!
//! Schedules are fired in chunks, one transaction per chunk, with a fixed number of statements
//! per chunk whatever its size (multi-row statements over `UNNEST`ed arrays), so that 10,000
//! schedules due in the same second cost a few dozen round trips, not tens of thousands. A
//! chunk commits or rolls back whole: no schedule is ever half fired.

use std::collections::HashMap;

use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row, Transaction};
use tidings_core::{FirePlan, Occurrences, RunState, Trigger, plan_fire};
use tidings_store::{
    Run, ScheduleFireDueParams, ScheduleFired, ScheduleId, SchedulePolicy, StoreError,
};

use crate::error::{Error, Result, retrying};
use crate::rows::{self, duration_ms, ms, opt_ms};

/// Schedules fired per transaction.
const CHUNK: u32 = 1000;

/// Chunks in a row whose `next_run_at` guard failed before giving up (see [`fire_chunk`]).
const GUARD_ATTEMPTS: u32 = 3;

pub(crate) async fn fire_due(
    pool: &PgPool,
    params: ScheduleFireDueParams,
) -> Result<Vec<ScheduleFired>> {
    let mut fired = Vec::new();
    // Schedules whose stored trigger or policy cannot be read: logged and left alone, so that
    // one corrupt row does not stop every other schedule from firing.
    let mut unreadable: Vec<i64> = Vec::new();
    let mut remaining = params.limit;
    let mut guard_failures = 0;
    while remaining > 0 {
        let size = remaining.min(CHUNK);
        let Some(chunk) = retrying(|| fire_chunk(pool, params.now, size, &unreadable)).await?
        else {
            guard_failures += 1;
            if guard_failures >= GUARD_ATTEMPTS {
                return Err(Error::Store(StoreError::Internal(
                    "schedules kept changing under their row locks while being fired".to_owned(),
                )));
            }
            continue;
        };
        guard_failures = 0;
        remaining = remaining.saturating_sub(chunk.taken);
        unreadable.extend(chunk.unreadable);
        fired.extend(chunk.fired);
        if chunk.selected < size {
            // Nothing else is due, or the rest is being fired by another instance right now.
            break;
        }
    }
    Ok(fired)
}

/// A due schedule as selected, with its plan.
struct Due {
    id: i64,
    /// The stored `next_run_at`: the first occurrence to fire, and the guard of the update.
    due: i64,
    kind: String,
    params: serde_json::Value,
    policy: SchedulePolicy,
    plan: FirePlan,
}

struct Chunk {
    fired: Vec<ScheduleFired>,
    /// Rows the select returned.
    selected: u32,
    /// Schedules that count against the caller's limit (all selected but the unreadable).
    taken: u32,
    unreadable: Vec<i64>,
}

/// How many runs of a schedule are queued or running, and one of them to name in `skipped`
/// records.
struct Active {
    count: u32,
    run_id: i64,
    state: RunState,
}

/// Fires up to `size` due schedules in one transaction. `None` when the `next_run_at` guard
/// failed for one of them and the chunk was rolled back.
async fn fire_chunk(
    pool: &PgPool,
    now: Timestamp,
    size: u32,
    unreadable: &[i64],
) -> Result<Option<Chunk>> {
    let mut tx = pool.begin().await?;

    // The due schedules, oldest occurrence first. SKIP LOCKED: a schedule another instance is
    // firing right now is simply not ours this time (it will have moved on when that instance
    // commits), so instances never wait on each other and never work on one schedule at once.
    // NO KEY UPDATE rather than UPDATE because we change only non-key columns: this lock does
    // not conflict with the KEY SHARE lock that inserting a run of the schedule takes (the
    // foreign key check), so a manual run being enqueued does not make the scheduler skip it.
    let selected = sqlx::query(
        "SELECT id, trigger, policy, kind, params, next_run_at
         FROM schedules
         WHERE enabled AND next_run_at <= $1 AND id <> ALL($2)
         ORDER BY next_run_at, id
         LIMIT $3
         FOR NO KEY UPDATE SKIP LOCKED",
    )
    .bind(ms(now))
    .bind(unreadable)
    .bind(i64::from(size))
    .fetch_all(&mut *tx)
    .await?;
    let mut chunk = Chunk {
        fired: Vec::new(),
        selected: count_u32(selected.len()),
        taken: 0,
        unreadable: Vec::new(),
    };
    if selected.is_empty() {
        return Ok(Some(chunk));
    }

    let mut read = Vec::with_capacity(selected.len());
    for row in &selected {
        match read_due(row) {
            Ok(due) => read.push(due),
            Err(error) => {
                let id: i64 = row.try_get("id")?;
                tracing::error!(
                    schedule_id = id,
                    ?error,
                    "cannot fire schedule: unreadable row"
                );
                chunk.unreadable.push(id);
            }
        }
    }
    chunk.taken = count_u32(read.len());
    let ids: Vec<i64> = read.iter().map(|d| d.id).collect();
    let active = active_runs(&mut tx, &ids).await?;
    let due: Vec<Due> = read
        .into_iter()
        .map(|d| {
            let count = active.get(&d.id).map_or(0, |a| a.count);
            let due_at = rows::instant("next_run_at", d.due)?;
            let plan = plan_fire(&d.trigger, &d.policy.fire, due_at, now, count);
            Ok(Due {
                id: d.id,
                due: d.due,
                kind: d.kind,
                params: d.params,
                policy: d.policy,
                plan,
            })
        })
        .collect::<Result<_>>()?;

    let mut queued = insert_runs(&mut tx, &due, now).await?;
    let recorded = insert_records(&mut tx, &due, &active, &queued, now).await?;
    if !advance(&mut tx, &due, &queued, &recorded).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    tx.commit().await?;

    for d in due {
        let record = recorded.get(&d.id);
        chunk.fired.push(ScheduleFired {
            schedule_id: ScheduleId(d.id),
            queued: queued.remove(&d.id).unwrap_or_default(),
            skipped: record.map_or(0, |r| r.skipped),
            missed: record.and_then(|r| r.missed),
            next_run_at: d.plan.next_run_at,
        });
    }
    Ok(Some(chunk))
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A selected schedule's columns, before planning.
struct DueRow {
    id: i64,
    due: i64,
    trigger: Trigger,
    policy: SchedulePolicy,
    kind: String,
    params: serde_json::Value,
}

fn read_due(row: &PgRow) -> Result<DueRow> {
    let Json(trigger) = row.try_get::<Json<Trigger>, _>("trigger")?;
    let Json(policy) = row.try_get::<Json<SchedulePolicy>, _>("policy")?;
    Ok(DueRow {
        id: row.try_get("id")?,
        due: row.try_get("next_run_at")?,
        trigger,
        policy,
        kind: row.try_get("kind")?,
        params: row.try_get("params")?,
    })
}

/// Queued and running runs of each schedule, naming one (a running one if any, else the
/// oldest) for the `skipped` message.
async fn active_runs(
    tx: &mut Transaction<'static, Postgres>,
    ids: &[i64],
) -> Result<HashMap<i64, Active>> {
    let found = sqlx::query(
        "SELECT DISTINCT ON (schedule_id)
                schedule_id, id, state, count(*) OVER (PARTITION BY schedule_id) AS active
         FROM runs
         WHERE schedule_id = ANY($1) AND state IN ('queued', 'running')
         ORDER BY schedule_id, state = 'running' DESC, id",
    )
    .bind(ids)
    .fetch_all(&mut **tx)
    .await?;
    found
        .iter()
        .map(|row| {
            let state: String = row.try_get("state")?;
            let count: i64 = row.try_get("active")?;
            Ok((
                row.try_get("schedule_id")?,
                Active {
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    run_id: row.try_get("id")?,
                    state: rows::run_state(&state)?,
                },
            ))
        })
        .collect()
}

/// Per-row columns of a multi-row insert into `runs`, one array each.
#[derive(Default)]
struct Columns {
    schedule_id: Vec<i64>,
    at: Vec<i64>,
    kind: Vec<String>,
    params: Vec<serde_json::Value>,
    retry: Vec<serde_json::Value>,
    timeout_ms: Vec<i64>,
}

impl Columns {
    fn push(&mut self, d: &Due, at: Timestamp) {
        self.schedule_id.push(d.id);
        self.at.push(ms(at));
        self.kind.push(d.kind.clone());
        self.params.push(d.params.clone());
        self.retry
            .push(serde_json::to_value(d.policy.retry).unwrap_or_default());
        self.timeout_ms.push(duration_ms(d.policy.timeout));
    }
}

/// The runs of every plan in one INSERT. The fire key makes an occurrence that already has a
/// row insert nothing, and it is then neither returned nor counted.
async fn insert_runs(
    tx: &mut Transaction<'static, Postgres>,
    due: &[Due],
    now: Timestamp,
) -> Result<HashMap<i64, Vec<Run>>> {
    let mut columns = Columns::default();
    for d in due {
        for &at in &d.plan.run {
            columns.push(d, at);
        }
    }
    if columns.schedule_id.is_empty() {
        return Ok(HashMap::new());
    }
    let inserted = sqlx::query(
        "INSERT INTO runs (schedule_id, kind, params, trigger, scheduled_for, state, attempt,
                           retry, timeout_ms, run_after, created_at)
         SELECT u.schedule_id, u.kind, u.params, 'schedule', u.at, 'queued', 0,
                u.retry, u.timeout_ms, u.at, $7
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::jsonb[], $5::jsonb[],
                     $6::bigint[]) AS u(schedule_id, at, kind, params, retry, timeout_ms)
         ORDER BY u.schedule_id, u.at
         ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
         RETURNING *",
    )
    .bind(&columns.schedule_id)
    .bind(&columns.at)
    .bind(&columns.kind)
    .bind(&columns.params)
    .bind(&columns.retry)
    .bind(&columns.timeout_ms)
    .bind(ms(now))
    .fetch_all(&mut **tx)
    .await?;
    let mut by_schedule: HashMap<i64, Vec<Run>> = HashMap::new();
    for row in &inserted {
        let run = rows::run(row)?;
        if let Some(schedule) = run.schedule_id {
            by_schedule.entry(schedule.0).or_default().push(run);
        }
    }
    for runs in by_schedule.values_mut() {
        runs.sort_by_key(|r| r.scheduled_for);
    }
    Ok(by_schedule)
}

/// What the `skipped` and `missed` records of one schedule came to.
#[derive(Default)]
struct Recorded {
    skipped: u64,
    missed: Option<Occurrences>,
}

/// The `skipped` and `missed` records of every plan in one INSERT.
async fn insert_records(
    tx: &mut Transaction<'static, Postgres>,
    due: &[Due],
    active: &HashMap<i64, Active>,
    queued: &HashMap<i64, Vec<Run>>,
    now: Timestamp,
) -> Result<HashMap<i64, Recorded>> {
    let mut columns = Columns::default();
    let mut state = Vec::new();
    let mut error = Vec::new();
    let mut count = Vec::new();
    let mut last = Vec::new();
    for d in due {
        if !d.plan.skipped.is_empty() {
            let reason = skipped_reason(d, active.get(&d.id), queued.get(&d.id));
            for &at in &d.plan.skipped {
                columns.push(d, at);
                state.push(RunState::Skipped.as_str());
                error.push(reason.clone());
                count.push(1_i64);
                last.push(ms(at));
            }
        }
        if let Some(missed) = d.plan.missed {
            columns.push(d, missed.first);
            state.push(RunState::Missed.as_str());
            error.push(format!(
                "missed: {} occurrence(s) from {} to {} were not run (tidings was not running \
                 or was late by more than the misfire grace, or they were coalesced)",
                missed.count, missed.first, missed.last
            ));
            count.push(i64::try_from(missed.count).unwrap_or(i64::MAX));
            last.push(ms(missed.last));
        }
    }
    if columns.schedule_id.is_empty() {
        return Ok(HashMap::new());
    }
    let inserted = sqlx::query(
        "INSERT INTO runs (schedule_id, kind, params, trigger, scheduled_for, state, attempt,
                           retry, timeout_ms, run_after, created_at, finished_at, error,
                           occurrences_count, occurrences_last)
         SELECT u.schedule_id, u.kind, u.params, 'schedule', u.at, u.state, 0,
                u.retry, u.timeout_ms, u.at, $11, $11, u.error, u.count, u.last
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::jsonb[], $5::jsonb[],
                     $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
              AS u(schedule_id, at, kind, params, retry, timeout_ms, state, error, count, last)
         ORDER BY u.schedule_id, u.at
         ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
         RETURNING schedule_id, state, scheduled_for, occurrences_count, occurrences_last",
    )
    .bind(&columns.schedule_id)
    .bind(&columns.at)
    .bind(&columns.kind)
    .bind(&columns.params)
    .bind(&columns.retry)
    .bind(&columns.timeout_ms)
    .bind(&state)
    .bind(&error)
    .bind(&count)
    .bind(&last)
    .bind(ms(now))
    .fetch_all(&mut **tx)
    .await?;
    let mut recorded: HashMap<i64, Recorded> = HashMap::new();
    for row in &inserted {
        let schedule: i64 = row.try_get("schedule_id")?;
        let state: String = row.try_get("state")?;
        let entry = recorded.entry(schedule).or_default();
        if state == RunState::Missed.as_str() {
            let count: i64 = row.try_get("occurrences_count")?;
            entry.missed = Some(Occurrences {
                count: u64::try_from(count).unwrap_or(0),
                first: rows::instant("scheduled_for", row.try_get("scheduled_for")?)?,
                last: rows::instant("occurrences_last", row.try_get("occurrences_last")?)?,
            });
        } else {
            entry.skipped += 1;
        }
    }
    Ok(recorded)
}

/// "skipped: max_instances (N) reached; run R is still queued|running", naming a run that was
/// active before this fire, or else the first one this fire queued.
fn skipped_reason(d: &Due, active: Option<&Active>, queued: Option<&Vec<Run>>) -> String {
    let limit = d.policy.fire.max_instances;
    let named = active.map(|a| (a.run_id, a.state)).or_else(|| {
        queued
            .and_then(|runs| runs.first())
            .map(|run| (run.id.0, run.state))
    });
    match named {
        Some((run, state)) => {
            format!("skipped: max_instances ({limit}) reached; run {run} is still {state}")
        }
        None => format!("skipped: max_instances ({limit}) reached"),
    }
}

/// Moves every schedule of the chunk to its next occurrence and adds what was actually
/// inserted to its statistics, in one statement guarded by the `next_run_at` we planned from.
/// Under our row lock the guard always holds; should it not, for even one schedule, returns
/// false and the caller rolls the whole chunk back ("another instance fired it").
async fn advance(
    tx: &mut Transaction<'static, Postgres>,
    due: &[Due],
    queued: &HashMap<i64, Vec<Run>>,
    recorded: &HashMap<i64, Recorded>,
) -> Result<bool> {
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
    let old: Vec<i64> = due.iter().map(|d| d.due).collect();
    let next: Vec<Option<i64>> = due.iter().map(|d| opt_ms(d.plan.next_run_at)).collect();
    let total: Vec<i64> = due
        .iter()
        .map(|d| as_i64(queued.get(&d.id).map_or(0, |runs| runs.len() as u64)))
        .collect();
    let skipped: Vec<i64> = due
        .iter()
        .map(|d| as_i64(recorded.get(&d.id).map_or(0, |r| r.skipped)))
        .collect();
    let missed: Vec<i64> = due
        .iter()
        .map(|d| {
            let missed = recorded.get(&d.id).and_then(|r| r.missed);
            as_i64(missed.map_or(0, |m| m.count))
        })
        .collect();
    let moved = sqlx::query(
        "UPDATE schedules AS s
         SET next_run_at = u.next_run_at,
             total = s.total + u.total,
             skipped = s.skipped + u.skipped,
             missed = s.missed + u.missed
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                     $6::bigint[])
              AS u(id, due, next_run_at, total, skipped, missed)
         WHERE s.id = u.id AND s.next_run_at = u.due",
    )
    .bind(&ids)
    .bind(&old)
    .bind(&next)
    .bind(&total)
    .bind(&skipped)
    .bind(&missed)
    .execute(&mut **tx)
    .await?;
    let all = moved.rows_affected() == ids.len() as u64;
    if !all {
        tracing::warn!(
            schedules = ids.len(),
            moved = moved.rows_affected(),
            "schedules changed while being fired; firing them again"
        );
    }
    Ok(all)
}
