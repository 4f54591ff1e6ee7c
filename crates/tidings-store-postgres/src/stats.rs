//! Schedule statistics that follow runs reaching a final state, kept in the transaction that
//! moves the runs so that they never drift.

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};
use tidings_core::RunState;
use tidings_store::Run;

use crate::error::Result;
use crate::rows::opt_ms;

/// Counts the final runs among `runs` (succeeded; failed and timed out) into their schedules
/// and points `last_run_*` at the last of them, in the order given. Returns the `callback_url`
/// of those schedules that have one, by schedule id, for their runs' webhook deliveries.
///
/// The schedule rows are locked in id order before the update: claimers lock schedule rows in
/// that order too, so concurrent completions and claims wait on each other instead of
/// deadlocking.
pub(crate) async fn record_final(
    tx: &mut Transaction<'static, Postgres>,
    runs: &[Run],
) -> Result<HashMap<i64, String>> {
    struct Delta {
        succeeded: i64,
        failed: i64,
        last: (Option<i64>, i64, &'static str),
    }
    let mut deltas: HashMap<i64, Delta> = HashMap::new();
    for run in runs.iter().filter(|run| run.state.is_final()) {
        let Some(schedule) = run.schedule_id else {
            continue;
        };
        let last = (opt_ms(run.started_at), run.id.0, run.state.as_str());
        let delta = deltas.entry(schedule.0).or_insert(Delta {
            succeeded: 0,
            failed: 0,
            last,
        });
        delta.last = last;
        match run.state {
            RunState::Succeeded => delta.succeeded += 1,
            RunState::Failed | RunState::TimedOut => delta.failed += 1,
            _ => {}
        }
    }
    if deltas.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: Vec<i64> = deltas.keys().copied().collect();
    ids.sort_unstable();
    sqlx::query("SELECT id FROM schedules WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(&ids)
        .execute(&mut **tx)
        .await?;
    let rows: Vec<&Delta> = ids.iter().filter_map(|id| deltas.get(id)).collect();
    let callbacks: Vec<(i64, Option<String>)> = sqlx::query_as(
        "UPDATE schedules AS s
         SET succeeded = s.succeeded + u.succeeded, failed = s.failed + u.failed,
             last_run_at = u.last_run_at, last_run_id = u.last_run_id, last_state = u.last_state
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                     $6::text[])
              AS u(id, succeeded, failed, last_run_at, last_run_id, last_state)
         WHERE s.id = u.id
         RETURNING s.id, s.callback_url",
    )
    .bind(&ids)
    .bind(rows.iter().map(|d| d.succeeded).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.failed).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.last.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.last.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.last.2).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(callbacks
        .into_iter()
        .filter_map(|(id, url)| Some((id, url?)))
        .collect())
}
