//! Firing due schedules (`schedule_fire_due`).
//!
//! Schedules are fired in batches, each batch one write transaction of a handful of statements
//! however many schedules it holds: read the due schedules (with their queued and running
//! counts), plan each with `tidings_core::plan_fire`, insert the queued runs, insert the
//! `skipped`/`missed` records, then advance `next_run_at` and add to the statistics in one
//! guarded UPDATE. The rows of each write travel as one multi-row `VALUES` list, so 10,000
//! schedules due in the same second cost a few dozen statements, not tens of thousands. A batch
//! commits or rolls back whole, so no schedule is ever half fired.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use tidings_core::{FirePlan, Occurrences, RunState, RunTrigger, Trigger, plan_fire};
use tidings_store::{
    Run, RunId, ScheduleFireDueParams, ScheduleFired, ScheduleId, SchedulePolicy, StoreError,
    StoreResult,
};

use crate::SqliteStore;
use crate::error::{corrupt, db_error};
use crate::rows::{self, duration_ms, ms, to_json};

/// Schedules per write transaction: 10,000 due schedules take ten short transactions, and a
/// claim or completion waiting for the writer waits for one batch, not for all of them.
const BATCH: u32 = 1_000;

/// Rows per multi-row INSERT: 15 parameters each stays under SQLite's 32,766.
const INSERT_CHUNK: usize = 1_000;

pub(crate) async fn fire_due(
    store: &SqliteStore,
    params: ScheduleFireDueParams,
) -> StoreResult<Vec<ScheduleFired>> {
    let mut fired = Vec::new();
    let mut left = params.limit;
    while left > 0 {
        let batch = left.min(BATCH);
        match fire_batch(store, params.now, batch).await {
            Ok((selected, mut batch_fired)) => {
                fired.append(&mut batch_fired);
                left -= batch;
                if selected < batch as usize {
                    break;
                }
            }
            Err(error) if fired.is_empty() => return Err(error),
            Err(error) => {
                // The earlier batches are committed: report them. The failed batch's schedules
                // are still due, so the next call meets the error again and returns it.
                tracing::warn!(%error, "firing due schedules stopped part-way");
                break;
            }
        }
    }
    Ok(fired)
}

/// The enabled schedules due at ?1, earliest first, with how many of their runs are queued or
/// running (for `max_instances`).
const SELECT_DUE: &str = r#"
SELECT s.id, s.kind, s.params, s."trigger", s.policy, s.next_run_at,
       (SELECT COUNT(*) FROM runs AS r
        WHERE r.schedule_id = s.id AND r.state IN ('queued', 'running')) AS active
FROM schedules AS s
WHERE s.enabled = 1 AND s.next_run_at <= ?1
ORDER BY s.next_run_at, s.id
LIMIT ?2"#;

/// A due schedule as the planner and the inserts need it.
struct Due {
    id: i64,
    kind: String,
    /// As stored, copied into each run as is.
    params_text: String,
    params: serde_json::Value,
    trigger: Trigger,
    policy: SchedulePolicy,
    retry_text: String,
    next_run_at: Timestamp,
    active: u32,
}

impl Due {
    fn from_row(row: &SqliteRow) -> StoreResult<Due> {
        let get_text = |column: &str| row.try_get::<String, _>(column).map_err(db_error);
        let params_text = get_text("params")?;
        let policy: SchedulePolicy =
            serde_json::from_str(&get_text("policy")?).map_err(|e| corrupt("policy", e))?;
        let active: i64 = row.try_get("active").map_err(db_error)?;
        Ok(Due {
            id: row.try_get("id").map_err(db_error)?,
            kind: get_text("kind")?,
            params: serde_json::from_str(&params_text).map_err(|e| corrupt("params", e))?,
            params_text,
            trigger: serde_json::from_str(&get_text("trigger")?)
                .map_err(|e| corrupt("trigger", e))?,
            retry_text: to_json(&policy.retry)?,
            policy,
            next_run_at: rows::timestamp(row.try_get("next_run_at").map_err(db_error)?)?,
            active: u32::try_from(active).unwrap_or(u32::MAX),
        })
    }

    /// Runs store whole milliseconds.
    fn timeout(&self) -> SignedDuration {
        SignedDuration::from_millis(duration_ms(self.policy.timeout))
    }
}

/// A run row to insert for an occurrence of `due`.
struct NewRun<'a> {
    due: &'a Due,
    scheduled_for: Timestamp,
    state: RunState,
    error: Option<String>,
    occurrences: Option<Occurrences>,
}

/// Fires up to `batch` due schedules in one transaction; returns how many were due and what
/// firing them did.
async fn fire_batch(
    store: &SqliteStore,
    now: Timestamp,
    batch: u32,
) -> StoreResult<(usize, Vec<ScheduleFired>)> {
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query(SELECT_DUE)
        .bind(ms(now))
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    let selected = rows.len();
    if selected == 0 {
        return Ok((0, Vec::new()));
    }
    let due = rows
        .iter()
        .map(Due::from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let planned: Vec<(&Due, FirePlan)> = due
        .iter()
        .map(|d| {
            let plan = plan_fire(&d.trigger, &d.policy.fire, d.next_run_at, now, d.active);
            (d, plan)
        })
        .collect();
    let by_id: HashMap<i64, &Due> = planned.iter().map(|(d, _)| (d.id, *d)).collect();

    // The runs first: a `skipped` record may have to name one of them.
    let occurrences: Vec<NewRun<'_>> = planned
        .iter()
        .flat_map(|(d, plan)| {
            plan.run.iter().map(|t| NewRun {
                due: d,
                scheduled_for: *t,
                state: RunState::Queued,
                error: None,
                occurrences: None,
            })
        })
        .collect();
    let mut queued: HashMap<i64, Vec<Run>> = HashMap::new();
    for (id, schedule_id, scheduled_for, _) in insert_runs(&mut tx, &occurrences, now).await? {
        if let Some(d) = by_id.get(&schedule_id) {
            let run = queued_run(RunId(id), d, rows::timestamp(scheduled_for)?, now)?;
            queued.entry(schedule_id).or_default().push(run);
        }
    }
    for runs in queued.values_mut() {
        runs.sort_by_key(|run| run.scheduled_for);
    }

    let skipping: Vec<i64> = planned
        .iter()
        .filter(|(_, plan)| !plan.skipped.is_empty())
        .map(|(d, _)| d.id)
        .collect();
    let holders = oldest_active_runs(&mut tx, &skipping).await?;
    let mut records = Vec::new();
    for (d, plan) in &planned {
        if !plan.skipped.is_empty() {
            let error = skip_message(d.policy.fire.max_instances, holders.get(&d.id));
            records.extend(plan.skipped.iter().map(|t| NewRun {
                due: d,
                scheduled_for: *t,
                state: RunState::Skipped,
                error: Some(error.clone()),
                occurrences: Some(Occurrences {
                    count: 1,
                    first: *t,
                    last: *t,
                }),
            }));
        }
        if let Some(missed) = plan.missed {
            records.push(NewRun {
                due: d,
                scheduled_for: missed.first,
                state: RunState::Missed,
                error: Some(missed_message(&missed)),
                occurrences: Some(missed),
            });
        }
    }
    let mut skipped: HashMap<i64, u64> = HashMap::new();
    let mut missed: HashMap<i64, Occurrences> = HashMap::new();
    let missed_planned: HashMap<i64, Occurrences> = planned
        .iter()
        .filter_map(|(d, plan)| Some((d.id, plan.missed?)))
        .collect();
    for (_, schedule_id, _, state) in insert_runs(&mut tx, &records, now).await? {
        if state == RunState::Missed.as_str() {
            if let Some(m) = missed_planned.get(&schedule_id) {
                missed.insert(schedule_id, *m);
            }
        } else {
            *skipped.entry(schedule_id).or_default() += 1;
        }
    }

    let report: Vec<(Timestamp, ScheduleFired)> = planned
        .iter()
        .map(|(d, plan)| {
            let fired = ScheduleFired {
                schedule_id: ScheduleId(d.id),
                queued: queued.remove(&d.id).unwrap_or_default(),
                skipped: skipped.get(&d.id).copied().unwrap_or_default(),
                missed: missed.get(&d.id).copied(),
                next_run_at: plan.next_run_at,
            };
            (d.next_run_at, fired)
        })
        .collect();
    advance(&mut tx, &report).await?;
    tx.commit().await.map_err(db_error)?;
    let report = report.into_iter().map(|(_, fired)| fired).collect();
    Ok((selected, report))
}

/// Moves each schedule's `next_run_at` on and adds what firing created to its statistics,
/// guarded: only if `next_run_at` is still the value the plan was made from. Inside this write
/// transaction nothing else can have changed it since `SELECT_DUE` (SQLite has one writer at a
/// time), so the guard holding is the expected case; if it ever fails, the whole batch rolls
/// back — nothing of it was fired — and the caller tries again later.
async fn advance(
    conn: &mut SqliteConnection,
    fired: &[(Timestamp, ScheduleFired)],
) -> StoreResult<()> {
    let mut query =
        QueryBuilder::<Sqlite>::new("WITH fired (id, due, next, runs, skips, misses) AS (");
    query.push_values(fired, |mut row, (due, f)| {
        row.push_bind(f.schedule_id.0)
            .push_bind(ms(*due))
            .push_bind(f.next_run_at.map(ms))
            .push_bind(f.queued.len() as i64)
            .push_bind(f.skipped as i64)
            .push_bind(f.missed.map_or(0, |m| m.count as i64));
    });
    query.push(
        ")
         UPDATE schedules
         SET next_run_at = fired.next,
             total = schedules.total + fired.runs,
             skipped = schedules.skipped + fired.skips,
             missed = schedules.missed + fired.misses
         FROM fired
         WHERE schedules.id = fired.id AND schedules.next_run_at = fired.due",
    );
    let moved = query
        .build()
        .persistent(false)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?
        .rows_affected();
    if moved != fired.len() as u64 {
        return Err(StoreError::Conflict(format!(
            "{} of {} due schedules changed while they were fired; nothing was fired",
            fired.len() as u64 - moved,
            fired.len()
        )));
    }
    Ok(())
}

/// The oldest queued or running run of each of `schedules`, to name in `skipped` records.
async fn oldest_active_runs(
    conn: &mut SqliteConnection,
    schedules: &[i64],
) -> StoreResult<HashMap<i64, (RunId, RunState)>> {
    if schedules.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT r.schedule_id, r.id, r.state FROM runs AS r
         WHERE r.id IN (SELECT MIN(a.id) FROM runs AS a
                        WHERE a.schedule_id IN (SELECT value FROM json_each(?1))
                          AND a.state IN ('queued', 'running')
                        GROUP BY a.schedule_id)",
    )
    .bind(to_json(&schedules)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|(schedule_id, id, state)| Ok((schedule_id, (RunId(id), rows::run_state(&state)?))))
        .collect()
}

/// Inserts runs and returns `(id, schedule_id, scheduled_for, state)` of those inserted. The fire key
/// `(schedule_id, scheduled_for)` is unique: an occurrence that already has its row is skipped.
async fn insert_runs(
    conn: &mut SqliteConnection,
    runs: &[NewRun<'_>],
    now: Timestamp,
) -> StoreResult<Vec<(i64, i64, i64, String)>> {
    let mut inserted = Vec::with_capacity(runs.len());
    for chunk in runs.chunks(INSERT_CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(
            r#"INSERT INTO runs (schedule_id, kind, params, "trigger", scheduled_for, state,
                                 attempt, retry, timeout_ms, run_after, created_at, finished_at,
                                 error, occurrences_count, occurrences_last) "#,
        );
        query.push_values(chunk, |mut row, run| {
            let is_record = run.state != RunState::Queued;
            row.push_bind(run.due.id)
                .push_bind(run.due.kind.as_str())
                .push_bind(run.due.params_text.as_str())
                .push_bind(RunTrigger::Schedule.as_str())
                .push_bind(ms(run.scheduled_for))
                .push_bind(run.state.as_str())
                .push("0")
                .push_bind(run.due.retry_text.as_str())
                .push_bind(duration_ms(run.due.policy.timeout))
                .push_bind(ms(run.scheduled_for))
                .push_bind(ms(now))
                .push_bind(is_record.then_some(ms(now)))
                .push_bind(run.error.as_deref())
                .push_bind(run.occurrences.map(|o| o.count as i64))
                .push_bind(run.occurrences.map(|o| ms(o.last)));
        });
        query.push(
            " ON CONFLICT (schedule_id, scheduled_for) DO NOTHING
              RETURNING id, schedule_id, scheduled_for, state",
        );
        let rows: Vec<(i64, i64, i64, String)> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        inserted.extend(rows);
    }
    Ok(inserted)
}

/// The row `insert_runs` wrote for a queued occurrence, without reading it back.
fn queued_run(id: RunId, due: &Due, scheduled_for: Timestamp, now: Timestamp) -> StoreResult<Run> {
    Ok(Run {
        id,
        schedule_id: Some(ScheduleId(due.id)),
        kind: due.kind.clone(),
        params: due.params.clone(),
        trigger: RunTrigger::Schedule,
        scheduled_for: Some(scheduled_for),
        state: RunState::Queued,
        attempt: 0,
        retry: due.policy.retry,
        timeout: due.timeout(),
        run_after: scheduled_for,
        created_at: rows::timestamp(ms(now))?,
        started_at: None,
        finished_at: None,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        error: None,
        summary: None,
        progress: None,
        occurrences: None,
        parent_run_id: None,
    })
}

/// "skipped: max_instances (1) reached; run 42 is still running".
fn skip_message(max_instances: u32, holder: Option<&(RunId, RunState)>) -> String {
    match holder {
        Some((id, state)) => {
            format!("skipped: max_instances ({max_instances}) reached; run {id} is still {state}")
        }
        None => format!("skipped: max_instances ({max_instances}) reached"),
    }
}

fn missed_message(missed: &Occurrences) -> String {
    format!(
        "missed: {} occurrence(s) from {} to {} were not run (tidings was not running or was \
         late by more than the misfire grace, or they were coalesced)",
        missed.count, missed.first, missed.last
    )
}
