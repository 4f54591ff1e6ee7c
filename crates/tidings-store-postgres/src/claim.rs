//! Claiming queued runs for a worker: never one run to two claimers, and never more running
//! runs of a schedule than its `max_instances`, however many instances claim at once.

use sqlx::{PgPool, Row};
use tidings_store::{Run, RunClaimParams};

use crate::error::Result;
use crate::rows::{self, duration_ms, ms};

/// Candidates locked beyond `limit`, at most, to make up for runs that turn out to be held
/// back by their schedule's `max_instances` within this same claim.
const MAX_SPARE: u32 = 100;

/// One transaction, two statements (after `BEGIN`):
///
/// 1. Lock candidate runs: queued, due, of an accepted kind, oldest `run_after` first, with
///    `FOR UPDATE SKIP LOCKED`, so concurrent claimers split the queue between them instead of
///    waiting on or double-claiming each other's rows. Runs of schedules already at
///    `max_instances` in the statement's snapshot are filtered out here, so they do not crowd
///    out claimable runs; that pre-check is only an optimisation. In the same statement, lock
///    the schedule rows of the candidates, in id order (a fixed order, so two claimers locking
///    overlapping sets wait on each other instead of deadlocking). This is where a claimer
///    waits for another one that is claiming runs of the same schedule.
/// 2. Count the running runs of those schedules, pick in candidate order up to `limit` runs
///    whose schedule stays within `max_instances` counting the ones picked in this call, mark
///    them running and open their attempt rows. This is a new statement, hence a new snapshot
///    in READ COMMITTED: its count sees every claim committed by whoever held the schedule
///    locks before us, and nobody can start a run of these schedules until we commit.
///
/// Why not one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING`: the running
/// count must be read by a statement that starts after the schedule locks are granted. Inside
/// one statement every subquery reads the snapshot taken before the lock wait, and would miss
/// the runs that the claimer we waited for has just started.
///
/// The schedule rows are locked `FOR NO KEY UPDATE`: it conflicts with itself, which is all the
/// serialisation claimers need, but not with the `KEY SHARE` lock that inserting a run of the
/// schedule takes for its foreign key, so enqueueing and firing do not queue behind claims.
///
/// Lock order is run rows then schedule rows, as in `run_complete` and `run_rescue_expired`;
/// only `schedule_delete` needs the opposite, and it is written to avoid it (see there).
pub(crate) async fn claim(pool: &PgPool, params: &RunClaimParams) -> Result<Vec<Run>> {
    if params.limit == 0 {
        return Ok(Vec::new());
    }
    let window = params.limit.saturating_add(params.limit.min(MAX_SPARE));
    // The candidates must come in order from the partial index of queued runs, never from
    // sorting the whole queue. Right after a burst of inserts (10,000 runs fired in one
    // second) the table's statistics still say it is nearly empty, and the planner then
    // prefers a bitmap scan plus a sort of every queued run: tens of milliseconds per claim.
    // Ruling bitmap scans out for this transaction keeps the ordered index scan whatever the
    // statistics say (ruling sorts out instead ruins the schedule-lock step). Sent with the
    // `BEGIN`, in one round trip.
    let mut tx = pool
        .begin_with("BEGIN; SET LOCAL enable_bitmapscan = off")
        .await?;

    let candidates = sqlx::query(
        "WITH candidate AS MATERIALIZED (
             SELECT r.id, r.schedule_id, r.run_after
             FROM runs AS r
             WHERE r.state = 'queued' AND r.run_after <= $1
               AND (cardinality($2::text[]) = 0 OR r.kind = ANY($2))
               AND ($4::bigint IS NULL OR r.id = $4)
               AND (r.schedule_id IS NULL
                    OR (SELECT count(*) FROM runs AS x
                        WHERE x.schedule_id = r.schedule_id AND x.state = 'running')
                       < (SELECT s.max_instances FROM schedules AS s WHERE s.id = r.schedule_id))
             ORDER BY r.run_after, r.id
             LIMIT $3
             FOR UPDATE OF r SKIP LOCKED
         ), schedule AS MATERIALIZED (
             SELECT s.id, s.max_instances
             FROM schedules AS s
             WHERE s.id IN (SELECT schedule_id FROM candidate)
             ORDER BY s.id
             FOR NO KEY UPDATE
         )
         SELECT c.id, c.schedule_id, s.max_instances
         FROM candidate AS c LEFT JOIN schedule AS s ON s.id = c.schedule_id
         ORDER BY c.run_after, c.id",
    )
    .bind(ms(params.now))
    .bind(&params.kinds)
    .bind(i64::from(window))
    .bind(params.only.map(|id| id.0))
    .fetch_all(&mut *tx)
    .await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }

    let mut ids: Vec<i64> = Vec::with_capacity(candidates.len());
    let mut schedules: Vec<Option<i64>> = Vec::with_capacity(candidates.len());
    let mut max_instances: Vec<Option<i32>> = Vec::with_capacity(candidates.len());
    for row in &candidates {
        ids.push(row.try_get("id")?);
        schedules.push(row.try_get("schedule_id")?);
        max_instances.push(row.try_get("max_instances")?);
    }

    // Statement 2. The running runs are counted by this statement, which starts after
    // statement 1 was granted the schedule locks, so its snapshot sees every claim committed
    // before. A candidate is the k-th of its schedule in candidate order; it fits
    // when the schedule's running runs plus k stay within `max_instances` (every earlier
    // candidate of the schedule then fits too, so k counts the ones picked before it). The
    // first `limit` that fit are claimed. A requeued or snoozed attempt keeps its row (outcome
    // `queued`) and its number, which the next claim reuses: that row is reopened for the new
    // try.
    let claimed = sqlx::query(
        "WITH candidate AS (
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::int[])
                 WITH ORDINALITY AS c (id, schedule_id, max_instances, position)
         ), running AS (
             SELECT schedule_id, count(*) AS running
             FROM runs
             WHERE schedule_id = ANY($2) AND state = 'running'
             GROUP BY schedule_id
         ), ranked AS (
             SELECT c.id, c.position,
                    c.schedule_id IS NULL
                    OR COALESCE(r.running, 0)
                       + row_number() OVER (PARTITION BY c.schedule_id ORDER BY c.position)
                       <= COALESCE(c.max_instances, 2147483647) AS fits
             FROM candidate AS c LEFT JOIN running AS r ON r.schedule_id = c.schedule_id
         ), pick AS (
             SELECT id FROM ranked WHERE fits ORDER BY position LIMIT $4
         ), claimed AS (
             UPDATE runs
             SET state = 'running', attempt = attempt + 1,
                 started_at = COALESCE(started_at, $5),
                 lease_owner = $6, lease_expires_at = $7
             WHERE id IN (SELECT id FROM pick)
             RETURNING *
         ), opened AS (
             INSERT INTO run_attempts (run_id, number, instance, started_at)
             SELECT id, attempt, $6, $5 FROM claimed
             ON CONFLICT (run_id, number) DO UPDATE
             SET instance = EXCLUDED.instance, started_at = EXCLUDED.started_at,
                 finished_at = NULL, outcome = NULL, error = NULL
         )
         SELECT * FROM claimed ORDER BY run_after, id",
    )
    .bind(&ids)
    .bind(&schedules)
    .bind(&max_instances)
    .bind(i64::from(params.limit))
    .bind(ms(params.now))
    .bind(&params.instance)
    .bind(ms(params.now) + duration_ms(params.lease))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows::runs(&claimed)
}
