//! Leases: claiming queued runs, renewing the leases of running ones, and rescuing the runs
//! of workers that stopped renewing.

use std::collections::HashMap;

use tidings_store::{
    Run, RunClaimParams, RunHeartbeat, RunHeartbeatParams, RunId, RunRescueParams, RunTransition,
    StoreResult,
};

use crate::SqliteStore;
use crate::complete::leave_running;
use crate::error::db_error;
use crate::rows::{self, ms, ms_after, to_json};

/// Candidates looked at beyond `limit`, at most, to make up for runs held back by their
/// schedule's `max_instances`. Looking only at the oldest `limit + spare` due runs keeps a claim
/// proportional to what it takes, not to the length of the queue.
const MAX_SPARE: u32 = 100;

/// Claims up to `limit` due runs for `instance` in one write transaction.
///
/// There is one writer, and the transaction holds SQLite's write lock from its first statement
/// (`BEGIN IMMEDIATE`), so no other claimer — in this process or another — can see the same
/// runs as queued: that is SQLite's `FOR UPDATE SKIP LOCKED`.
pub(crate) async fn claim(store: &SqliteStore, params: RunClaimParams) -> StoreResult<Vec<Run>> {
    if params.limit == 0 {
        return Ok(Vec::new());
    }
    let mut tx = store.begin_write().await?;
    // `candidate` is the head of the queue, read in order from the partial index of queued
    // runs (named, because without statistics the planner prefers the state index and sorts
    // the whole queue); `due` numbers each schedule's candidates in claim order (oldest `run_after`, then id). A run
    // may start while its number, plus the runs of its schedule already running, stays within
    // the schedule's `max_instances` — so the places left are shared out in claim order within
    // this one statement. Runs without a schedule (ad-hoc, or their schedule was deleted) are
    // not limited.
    let rows = sqlx::query(
        "WITH candidate AS (
             SELECT r.id, r.schedule_id, r.run_after
             FROM runs AS r INDEXED BY runs_claim
             WHERE r.state = 'queued' AND r.run_after <= ?1
               AND (json_array_length(?4) = 0 OR r.kind IN (SELECT value FROM json_each(?4)))
               AND (?7 IS NULL OR r.id = ?7)
             ORDER BY r.run_after, r.id
             LIMIT ?6
         ),
         due AS (
             SELECT id, schedule_id, run_after,
                    row_number() OVER (PARTITION BY schedule_id
                                       ORDER BY run_after, id) AS nth
             FROM candidate
         ),
         claimable AS (
             SELECT due.id
             FROM due LEFT JOIN schedules AS s ON s.id = due.schedule_id
             WHERE s.id IS NULL
                OR due.nth + (SELECT COUNT(*) FROM runs AS x
                              WHERE x.schedule_id = s.id
                                AND x.state IN ('queued', 'running') -- to use runs_active
                                AND x.state = 'running')
                   <= s.max_instances
             ORDER BY due.run_after, due.id
             LIMIT ?5
         )
         UPDATE runs
         SET state = 'running',
             attempt = attempt + 1,
             started_at = COALESCE(started_at, ?1),
             lease_owner = ?2,
             lease_expires_at = ?3
         WHERE id IN claimable
         RETURNING *",
    )
    .bind(ms(params.now))
    .bind(&params.instance)
    .bind(ms_after(params.now, params.lease))
    .bind(to_json(&params.kinds)?)
    .bind(i64::from(params.limit))
    .bind(i64::from(
        params.limit.saturating_add(params.limit.min(MAX_SPARE)),
    ))
    .bind(params.only.map(|id| id.0))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut claimed = rows::runs(&rows)?;
    claimed.sort_by_key(|run| (run.run_after, run.id));

    if !claimed.is_empty() {
        // The new attempt. A snoozed or requeued attempt left its row (outcome `queued`) under
        // the number this claim uses again: it is replaced.
        let ids: Vec<i64> = claimed.iter().map(|run| run.id.0).collect();
        sqlx::query(
            "INSERT INTO run_attempts (run_id, number, instance, started_at)
             SELECT id, attempt, lease_owner, ?2 FROM runs
             WHERE id IN (SELECT value FROM json_each(?1))
             ON CONFLICT (run_id, number) DO UPDATE
             SET instance = excluded.instance, started_at = excluded.started_at,
                 finished_at = NULL, outcome = NULL, error = NULL",
        )
        .bind(to_json(&ids)?)
        .bind(ms(params.now))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(claimed)
}

/// Renews the leases `instance` still holds among `runs`.
pub(crate) async fn heartbeat(
    store: &SqliteStore,
    params: RunHeartbeatParams,
) -> StoreResult<RunHeartbeat> {
    if params.runs.is_empty() {
        return Ok(RunHeartbeat::default());
    }
    let ids: Vec<i64> = params.runs.iter().map(|id| id.0).collect();
    let rows: Vec<(i64, bool)> = sqlx::query_as(
        "UPDATE runs SET lease_expires_at = ?3
         WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'running' AND lease_owner = ?2
         RETURNING id, cancel_requested",
    )
    .bind(to_json(&ids)?)
    .bind(&params.instance)
    .bind(ms_after(params.now, params.lease))
    .fetch_all(&store.writer)
    .await
    .map_err(db_error)?;
    let renewed: HashMap<i64, bool> = rows.into_iter().collect();

    let mut beat = RunHeartbeat::default();
    for id in params.runs {
        match renewed.get(&id.0) {
            Some(cancel_requested) => {
                beat.renewed.push(id);
                if *cancel_requested {
                    beat.cancel_requested.push(id);
                }
            }
            None => beat.lost.push(id),
        }
    }
    Ok(beat)
}

/// Ends the attempts whose lease expired before `now` (their worker died or hung): each run is
/// cancelled if that was asked, retried after its backoff if attempts are left, or failed.
pub(crate) async fn rescue_expired(
    store: &SqliteStore,
    params: RunRescueParams,
) -> StoreResult<Vec<Run>> {
    if params.limit == 0 {
        return Ok(Vec::new());
    }
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query(
        "SELECT * FROM runs
         WHERE state = 'running' AND lease_expires_at < ?1
         ORDER BY lease_expires_at, id
         LIMIT ?2",
    )
    .bind(ms(params.now))
    .bind(i64::from(params.limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_error)?;
    let expired = rows::runs(&rows)?;

    let mut rescued = Vec::with_capacity(expired.len());
    for run in &expired {
        let leave = RunTransition::for_lost_lease(run, params.now);
        if let Some(run) = leave_running(&mut tx, leave).await? {
            rescued.push(run);
        }
    }
    tx.commit().await.map_err(db_error)?;
    if !rescued.is_empty() {
        tracing::debug!(
            runs = ?rescued.iter().map(|run| run.id).collect::<Vec<RunId>>(),
            "rescued runs whose worker lease expired"
        );
    }
    Ok(rescued)
}
