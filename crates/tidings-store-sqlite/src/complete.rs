//! A run leaving `running`: the outcome a worker reports (`run_complete`) or a lost lease
//! (`run_rescue_expired`, in `lease`). Both go through [`leave_running`], which moves the run,
//! closes its attempt, updates the schedule's statistics and queues the webhook delivery of a
//! run that ended, in the caller's transaction.

use std::collections::HashMap;

use sqlx::SqliteConnection;
use tidings_core::RunState;
use tidings_store::{
    Run, RunCompleted, RunCompletion, RunTransition, StoreResult, WebhookDelivery,
};

use crate::SqliteStore;
use crate::error::db_error;
use crate::rows::{self, ms, to_json};
use crate::webhook;

/// Applies `leave` if its guard holds; `None` when the run is no longer running under that
/// owner and attempt (rescued, cancelled, completed already).
pub(crate) async fn leave_running(
    conn: &mut SqliteConnection,
    leave: RunTransition,
) -> StoreResult<Option<Run>> {
    let is_final = leave.state.is_final();
    let row = sqlx::query(
        "UPDATE runs
         SET state = ?4,
             attempt = attempt - ?5,
             run_after = COALESCE(?6, run_after),
             finished_at = ?7,
             error = COALESCE(?8, error),
             summary = COALESCE(?9, summary),
             lease_owner = NULL,
             lease_expires_at = NULL
         WHERE id = ?1 AND state = 'running' AND lease_owner = ?2 AND attempt = ?3
         RETURNING *",
    )
    .bind(leave.run_id.0)
    .bind(&leave.owner)
    .bind(i64::from(leave.attempt))
    .bind(leave.state.as_str())
    .bind(i64::from(leave.uncount_attempt))
    .bind(leave.run_after.map(ms))
    .bind(is_final.then_some(ms(leave.at)))
    .bind(&leave.error)
    .bind(leave.summary.as_ref().map(to_json).transpose()?)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let run = rows::run(&row)?;

    sqlx::query(
        "UPDATE run_attempts SET finished_at = ?3, outcome = ?4, error = ?5
         WHERE run_id = ?1 AND number = ?2",
    )
    .bind(leave.run_id.0)
    .bind(i64::from(leave.attempt))
    .bind(ms(leave.at))
    .bind(leave.attempt_outcome.as_str())
    .bind(&leave.attempt_error)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;

    if let (true, Some(schedule_id)) = (is_final, run.schedule_id) {
        let (succeeded, failed) = leave.stats();
        let callback_url: Option<String> = sqlx::query_scalar(
            "UPDATE schedules
             SET succeeded = succeeded + ?2, failed = failed + ?3,
                 last_run_at = ?4, last_run_id = ?5, last_state = ?6
             WHERE id = ?1
             RETURNING callback_url",
        )
        .bind(schedule_id.0)
        .bind(succeeded)
        .bind(failed)
        .bind(run.started_at.map(ms))
        .bind(run.id.0)
        .bind(run.state.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .flatten();
        if let Some(url) = callback_url {
            let delivery = WebhookDelivery {
                parent: run.id,
                url,
                at: leave.at,
            };
            webhook::queue(conn, &[delivery]).await?;
        }
    }
    Ok(Some(run))
}

/// One completion, flattened for `json_each` in the set-based statements below.
#[derive(serde::Serialize)]
struct Row<'a> {
    id: i64,
    owner: &'a str,
    attempt: i64,
    state: &'static str,
    uncount: i64,
    run_after: Option<i64>,
    finished_at: Option<i64>,
    at: i64,
    error: Option<&'a str>,
    /// JSON text, so that `->>` yields it as text (or NULL).
    summary: Option<String>,
    attempt_outcome: &'static str,
    attempt_error: Option<&'a str>,
}

/// A schedule's share of a batch: counters to add and its latest final run.
#[derive(serde::Serialize)]
struct StatsRow {
    id: i64,
    succeeded: i64,
    failed: i64,
    last_run_at: Option<i64>,
    last_run_id: i64,
    last_state: &'static str,
}

/// Applies every completion whose guard holds, in one write transaction of three statements
/// whatever the batch size: the guarded run update, the attempts, and the schedules'
/// statistics. Each reads the batch from a materialized CTE, so the JSON is parsed once per
/// completion and the target rows are found by primary key. (Rescue, which is rare, goes run by run through [`leave_running`].)
///
/// The statistics update returns the schedules' `callback_url`s: only when one of them has a
/// URL does a fourth statement queue the webhook deliveries of the runs that ended, so a batch
/// without callbacks costs no more than before.
pub(crate) async fn complete(
    store: &SqliteStore,
    completions: Vec<RunCompletion>,
) -> StoreResult<RunCompleted> {
    let mut result = RunCompleted::default();
    if completions.is_empty() {
        return Ok(result);
    }
    let leaves: Vec<RunTransition> = completions
        .iter()
        .map(RunTransition::for_completion)
        .collect();
    let rows: Vec<Row<'_>> = leaves
        .iter()
        .map(|leave| {
            Ok(Row {
                id: leave.run_id.0,
                owner: &leave.owner,
                attempt: i64::from(leave.attempt),
                state: leave.state.as_str(),
                uncount: i64::from(leave.uncount_attempt),
                run_after: leave.run_after.map(ms),
                finished_at: leave.state.is_final().then_some(ms(leave.at)),
                at: ms(leave.at),
                error: leave.error.as_deref(),
                summary: leave.summary.as_ref().map(to_json).transpose()?,
                attempt_outcome: leave.attempt_outcome.as_str(),
                attempt_error: leave.attempt_error.as_deref(),
            })
        })
        .collect::<StoreResult<_>>()?;

    let mut tx = store.begin_write().await?;
    // The guard: still running, under this owner and attempt. Completions whose guard fails
    // (the run was rescued, cancelled or completed already) change nothing and are refused.
    let updated = sqlx::query(
        "WITH c AS MATERIALIZED (
             SELECT value ->> '$.id' AS id, value ->> '$.owner' AS owner,
                    value ->> '$.attempt' AS attempt, value ->> '$.state' AS state,
                    value ->> '$.uncount' AS uncount, value ->> '$.run_after' AS run_after,
                    value ->> '$.finished_at' AS finished_at, value ->> '$.error' AS error,
                    value ->> '$.summary' AS summary
             FROM json_each(?1)
         )
         UPDATE runs
         SET state = c.state,
             attempt = runs.attempt - c.uncount,
             run_after = COALESCE(c.run_after, runs.run_after),
             finished_at = c.finished_at,
             error = COALESCE(c.error, runs.error),
             summary = COALESCE(c.summary, runs.summary),
             lease_owner = NULL,
             lease_expires_at = NULL
         FROM c
         WHERE runs.id = c.id AND runs.state = 'running'
           AND runs.lease_owner = c.owner AND runs.attempt = c.attempt
         RETURNING *",
    )
    .bind(to_json(&rows)?)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let updated = rows::runs(&updated)?;
    let applied: std::collections::HashSet<i64> = updated.iter().map(|run| run.id.0).collect();
    let applied_rows: Vec<&Row<'_>> = rows
        .iter()
        .filter(|row| applied.contains(&row.id))
        .collect();

    if !applied_rows.is_empty() {
        sqlx::query(
            "WITH c AS MATERIALIZED (
                 SELECT value ->> '$.id' AS id, value ->> '$.attempt' AS attempt,
                        value ->> '$.at' AS at, value ->> '$.attempt_outcome' AS outcome,
                        value ->> '$.attempt_error' AS error
                 FROM json_each(?1)
             )
             UPDATE run_attempts
             SET finished_at = c.at, outcome = c.outcome, error = c.error
             FROM c
             WHERE run_attempts.run_id = c.id AND run_attempts.number = c.attempt",
        )
        .bind(to_json(&applied_rows)?)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }

    // Statistics: per schedule, the counters this batch adds and its last final run.
    let mut stats: Vec<StatsRow> = Vec::new();
    for run in updated.iter().filter(|run| run.state.is_final()) {
        let Some(schedule_id) = run.schedule_id else {
            continue;
        };
        let (succeeded, failed) = match run.state {
            RunState::Succeeded => (1, 0),
            RunState::Failed | RunState::TimedOut => (0, 1),
            _ => (0, 0),
        };
        match stats.iter_mut().find(|row| row.id == schedule_id.0) {
            Some(row) => {
                row.succeeded += succeeded;
                row.failed += failed;
                row.last_run_at = run.started_at.map(ms);
                row.last_run_id = run.id.0;
                row.last_state = run.state.as_str();
            }
            None => stats.push(StatsRow {
                id: schedule_id.0,
                succeeded,
                failed,
                last_run_at: run.started_at.map(ms),
                last_run_id: run.id.0,
                last_state: run.state.as_str(),
            }),
        }
    }
    if !stats.is_empty() {
        let callbacks: Vec<(i64, Option<String>)> = sqlx::query_as(
            "WITH c AS MATERIALIZED (
                 SELECT value ->> '$.id' AS id, value ->> '$.succeeded' AS succeeded,
                        value ->> '$.failed' AS failed, value ->> '$.last_run_at' AS last_run_at,
                        value ->> '$.last_run_id' AS last_run_id,
                        value ->> '$.last_state' AS last_state
                 FROM json_each(?1)
             )
             UPDATE schedules
             SET succeeded = schedules.succeeded + c.succeeded,
                 failed = schedules.failed + c.failed,
                 last_run_at = c.last_run_at, last_run_id = c.last_run_id,
                 last_state = c.last_state
             FROM c
             WHERE schedules.id = c.id
             RETURNING id, callback_url",
        )
        .bind(to_json(&stats)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let callbacks: HashMap<i64, String> = callbacks
            .into_iter()
            .filter_map(|(id, url)| Some((id, url?)))
            .collect();
        if !callbacks.is_empty() {
            webhook::queue(&mut tx, &deliveries(&leaves, &updated, &callbacks)).await?;
        }
    }
    tx.commit().await.map_err(db_error)?;

    // Report in the order the completions came.
    for completion in &completions {
        match updated.iter().find(|run| run.id == completion.run_id) {
            Some(run) => result.completed.push(run.clone()),
            None => result.refused.push(completion.run_id),
        }
    }
    Ok(result)
}

/// The deliveries owed by the runs of `updated` that ended and whose schedule has a callback
/// URL, in the order the completions came.
fn deliveries(
    leaves: &[RunTransition],
    updated: &[Run],
    callbacks: &HashMap<i64, String>,
) -> Vec<WebhookDelivery> {
    let mut by_id: HashMap<i64, &Run> = updated.iter().map(|run| (run.id.0, run)).collect();
    leaves
        .iter()
        .filter_map(|leave| {
            // Taken out, so that a run completed twice in the batch is delivered once.
            let run = by_id.remove(&leave.run_id.0)?;
            if !run.state.is_final() {
                return None;
            }
            let url = callbacks.get(&run.schedule_id?.0)?;
            Some(WebhookDelivery {
                parent: run.id,
                url: url.clone(),
                at: leave.at,
            })
        })
        .collect()
}
