//! Runs leaving `running`: the outcomes workers report (`run_complete`) and lost leases
//! (`run_rescue_expired`). Both build a list of [`RunTransition`]s and apply it with [`leave_running`]:
//! one guarded multi-row UPDATE of the runs, one of their attempts, the statistics of
//! their schedules, and the webhook deliveries of the runs that ended, all in the caller's
//! transaction, whatever the number of runs.

use std::collections::{HashMap, HashSet};

use sqlx::{PgPool, Postgres, Transaction};
use tidings_store::{
    Run, RunCompleted, RunCompletion, RunId, RunRescueParams, RunTransition, WebhookDelivery,
};

use crate::error::Result;
use crate::rows::{self, ms};
use crate::{stats, webhook};

/// Applies every completion whose guard holds, in one transaction; the others are refused. A
/// second completion of the same run in one batch is refused like any stale one.
pub(crate) async fn complete(pool: &PgPool, completions: &[RunCompletion]) -> Result<RunCompleted> {
    if completions.is_empty() {
        return Ok(RunCompleted::default());
    }
    let mut seen = HashSet::new();
    let leaves: Vec<RunTransition> = completions
        .iter()
        .filter(|completion| seen.insert(completion.run_id))
        .map(RunTransition::for_completion)
        .collect();
    let mut tx = pool.begin().await?;
    let moved = leave_running(&mut tx, &leaves).await?;
    tx.commit().await?;

    let mut result = RunCompleted::default();
    let mut moved: HashMap<RunId, Run> = moved.into_iter().map(|run| (run.id, run)).collect();
    for completion in completions {
        // A duplicate finds its run already taken by the first completion: refused.
        match moved.remove(&completion.run_id) {
            Some(run) => result.completed.push(run),
            None => result.refused.push(completion.run_id),
        }
    }
    Ok(result)
}

/// Ends the attempts whose lease expired before `now`. `SKIP LOCKED`: a run being completed
/// by its (late) worker or rescued by another instance right now is left to them.
pub(crate) async fn rescue_expired(pool: &PgPool, params: &RunRescueParams) -> Result<Vec<Run>> {
    if params.limit == 0 {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await?;
    let found = sqlx::query(
        "SELECT * FROM runs
         WHERE state = 'running' AND lease_expires_at < $1
         ORDER BY lease_expires_at, id
         LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(ms(params.now))
    .bind(i64::from(params.limit))
    .fetch_all(&mut *tx)
    .await?;
    let expired = rows::runs(&found)?;
    if expired.is_empty() {
        return Ok(Vec::new());
    }
    let leaves: Vec<RunTransition> = expired
        .iter()
        .map(|run| RunTransition::for_lost_lease(run, params.now))
        .collect();
    // All of them match their guard: we hold their row locks since the select.
    let rescued = leave_running(&mut tx, &leaves).await?;
    tx.commit().await?;
    if !rescued.is_empty() {
        tracing::debug!(
            runs = ?rescued.iter().map(|run| run.id).collect::<Vec<RunId>>(),
            "rescued runs whose worker lease expired"
        );
    }
    Ok(rescued)
}

/// Moves every run whose guard holds (running, under `owner`, at `attempt`), closes its
/// attempt, records final states on the schedules, and queues the webhook deliveries of the
/// runs that ended when their schedule has a `callback_url` (a statement only a batch with
/// such a run pays for). Returns the runs moved, in their new state, in the order of `leaves`.
async fn leave_running(
    tx: &mut Transaction<'static, Postgres>,
    leaves: &[RunTransition],
) -> Result<Vec<Run>> {
    let ids: Vec<i64> = leaves.iter().map(|l| l.run_id.0).collect();
    let owners: Vec<&str> = leaves.iter().map(|l| l.owner.as_str()).collect();
    let attempts: Vec<i32> = leaves
        .iter()
        .map(|l| i32::try_from(l.attempt).unwrap_or(i32::MAX))
        .collect();
    let states: Vec<&str> = leaves.iter().map(|l| l.state.as_str()).collect();
    let uncount: Vec<i32> = leaves
        .iter()
        .map(|l| i32::from(l.uncount_attempt))
        .collect();
    let run_after: Vec<Option<i64>> = leaves.iter().map(|l| l.run_after.map(ms)).collect();
    let finished_at: Vec<Option<i64>> = leaves
        .iter()
        .map(|l| l.state.is_final().then_some(ms(l.at)))
        .collect();
    let errors: Vec<Option<&str>> = leaves.iter().map(|l| l.error.as_deref()).collect();
    let summaries: Vec<Option<&serde_json::Value>> =
        leaves.iter().map(|l| l.summary.as_ref()).collect();

    // The guard is in the join: a completion whose run is no longer running under that owner
    // and attempt (rescued, cancelled, completed already) matches nothing and is refused.
    let moved = sqlx::query(
        "UPDATE runs AS r
         SET state = u.state,
             attempt = r.attempt - u.uncount,
             run_after = COALESCE(u.run_after, r.run_after),
             finished_at = u.finished_at,
             error = COALESCE(u.error, r.error),
             summary = COALESCE(u.summary, r.summary),
             lease_owner = NULL,
             lease_expires_at = NULL
         FROM UNNEST($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::integer[],
                     $6::bigint[], $7::bigint[], $8::text[], $9::jsonb[])
              AS u(id, owner, attempt, state, uncount, run_after, finished_at, error, summary)
         WHERE r.id = u.id AND r.state = 'running' AND r.lease_owner = u.owner
           AND r.attempt = u.attempt
         RETURNING r.*",
    )
    .bind(&ids)
    .bind(&owners)
    .bind(&attempts)
    .bind(&states)
    .bind(&uncount)
    .bind(&run_after)
    .bind(&finished_at)
    .bind(&errors)
    .bind(&summaries)
    .fetch_all(&mut **tx)
    .await?;
    let moved = rows::runs(&moved)?;
    if moved.is_empty() {
        return Ok(moved);
    }
    let applied: HashSet<RunId> = moved.iter().map(|run| run.id).collect();
    let closed: Vec<&RunTransition> = leaves
        .iter()
        .filter(|l| applied.contains(&l.run_id))
        .collect();

    sqlx::query(
        "UPDATE run_attempts AS a
         SET finished_at = u.finished_at, outcome = u.outcome, error = u.error
         FROM UNNEST($1::bigint[], $2::integer[], $3::bigint[], $4::text[], $5::text[])
              AS u(run_id, number, finished_at, outcome, error)
         WHERE a.run_id = u.run_id AND a.number = u.number",
    )
    .bind(closed.iter().map(|l| l.run_id.0).collect::<Vec<_>>())
    .bind(
        closed
            .iter()
            .map(|l| i32::try_from(l.attempt).unwrap_or(i32::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(closed.iter().map(|l| ms(l.at)).collect::<Vec<_>>())
    .bind(
        closed
            .iter()
            .map(|l| l.attempt_outcome.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        closed
            .iter()
            .map(|l| l.attempt_error.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;

    // In the order of `leaves`, so that the last final run of a schedule in the batch is the
    // one its statistics point to.
    let mut by_id: HashMap<RunId, Run> = moved.into_iter().map(|run| (run.id, run)).collect();
    let ordered: Vec<Run> = leaves
        .iter()
        .filter_map(|l| by_id.remove(&l.run_id))
        .collect();
    let callbacks = stats::record_final(tx, &ordered).await?;
    if !callbacks.is_empty() {
        // A run that ended has its `finished_at`, the instant its delivery is due.
        let deliveries: Vec<WebhookDelivery> = ordered
            .iter()
            .filter(|run| run.state.is_final())
            .filter_map(|run| {
                Some(WebhookDelivery {
                    parent: run.id,
                    url: callbacks.get(&run.schedule_id?.0)?.clone(),
                    at: run.finished_at?,
                })
            })
            .collect();
        webhook::queue(tx, &deliveries).await?;
    }
    Ok(ordered)
}
