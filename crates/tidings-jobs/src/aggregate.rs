//! `aggregate`: pre-computes the dashboard statistics into a snapshot that `GET /api/stats`
//! serves.
//!
//! For each grouping (the record's `group`, its `source` and its `channel` by default) and
//! each period (`1h`, `24h`, `7d`, `30d`, `today`, `week`, `month`; calendar periods in the
//! configured zone, windows as [`periods`] defines them), per group and for `all`: `count`,
//! `previous_count` (the previous window, see [`periods`]) and `change` (`count −
//! previous_count`: new since the previous period), the ratings' `average` and `histogram`
//! (rounded half up to 1–5), the sentiment label counts (positive, neutral, negative, unknown)
//! and their shares of `count`, the mean sentiment score, the 10 most used tags with their
//! counts, and `response_rate` / `average_response_seconds` (`null` until replies exist).
//!
//! Period membership is by `created_at`; records without one are left out and counted in the
//! snapshot's `without_created_at`. Records without a group (or channel) are the group
//! `(none)`.
//!
//! **One pass**: the store streams the few columns statistics need of the records created
//! since the earliest window starts, in one statement, and [`tally`] counts each record into
//! every group and period it belongs to as it goes. `tidings-bench aggregate` measures it
//! against the alternative, one SQL query per grouping with conditional sums over the 14
//! windows plus one for the tags: for 1,000,000 records in 100 groups, 1.0 s (SQLite) and
//! 1.3 s (PostgreSQL) for the whole refresh, against 8.4 s and 6.7 s for those queries alone.
//!
//! A group whose records cannot be counted (a rating that does not round to 1–5, a sentiment
//! score outside −1…1) is logged, listed in the snapshot's `errors` and left out; the other
//! groups are written. The snapshot replaces the previous one atomically.

pub mod periods;
pub mod tally;

use std::time::Instant;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use tidings_core::Zone;
use tidings_engine::{JobContext, JobError, ParamsError, TypedJob};
use tidings_store::{
    FeedbackStatsScanParams, RunId, StatsGrouping, StatsSnapshotMeta, StatsSnapshotWriteParams,
    Store, StoreError,
};

pub use crate::aggregate::tally::{Aggregated, NO_GROUP, Tallies};
use crate::fields;

/// How many failed groups a summary names.
const SHOWN_ERRORS: usize = 10;

/// What the `aggregate` job is configured with.
#[derive(Debug, Clone)]
pub struct AggregateSettings {
    /// The zone of the calendar periods (`today`, `week`, `month`). Default UTC.
    pub zone: Zone,
    /// The groupings computed when the params do not say. Default: group, source, channel.
    pub groupings: Vec<StatsGrouping>,
}

impl Default for AggregateSettings {
    fn default() -> Self {
        AggregateSettings {
            zone: Zone::utc(),
            groupings: StatsGrouping::ALL.to_vec(),
        }
    }
}

/// `aggregate`'s params: `{}`, or `{"groupings": ["group", "channel"]}` to compute only those.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateParams {
    #[serde(default)]
    pub groupings: Option<Value>,
}

impl AggregateParams {
    fn groupings(&self) -> Result<Option<Vec<StatsGrouping>>, ParamsError> {
        let Some(names) = fields::optional::<Vec<String>>(
            AggregateJob::KIND,
            "groupings",
            self.groupings.as_ref(),
        )?
        else {
            return Ok(None);
        };
        let mut groupings = Vec::new();
        for name in names {
            let grouping = StatsGrouping::parse(&name).ok_or_else(|| {
                fields::field_error(
                    AggregateJob::KIND,
                    "groupings",
                    format_args!("unknown grouping `{name}`; use `group`, `source` or `channel`"),
                )
            })?;
            if !groupings.contains(&grouping) {
                groupings.push(grouping);
            }
        }
        if groupings.is_empty() {
            return Err(fields::field_error(
                AggregateJob::KIND,
                "groupings",
                "give at least one grouping",
            ));
        }
        Ok(Some(groupings))
    }
}

/// What one refresh did.
#[derive(Debug, Clone)]
pub struct AggregateSummary {
    pub snapshot: StatsSnapshotMeta,
    /// Snapshot rows written.
    pub rows: usize,
    pub duration_ms: u64,
}

impl AggregateSummary {
    /// The run's summary: `snapshot_id`, `as_of`, `zone`, `rows_scanned`,
    /// `without_created_at`, `groups`, `rows`, `failed_groups` (how many), `errors` (the first
    /// 10: `{grouping, group, error}`) and `duration_ms`.
    pub fn to_json(&self) -> Value {
        let meta = &self.snapshot;
        json!({
            "snapshot_id": meta.id,
            "as_of": meta.as_of,
            "zone": meta.zone,
            "rows_scanned": meta.rows_scanned,
            "without_created_at": meta.without_created_at,
            "groups": meta.groups,
            "rows": self.rows,
            "failed_groups": meta.errors.len(),
            "errors": meta.errors.iter().take(SHOWN_ERRORS).collect::<Vec<_>>(),
            "duration_ms": self.duration_ms,
        })
    }
}

/// Why a refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot compute the periods' windows: {0}")]
    Windows(#[from] jiff::Error),
}

/// The `aggregate` job kind. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct AggregateJob {
    settings: AggregateSettings,
}

impl AggregateJob {
    pub fn new(settings: AggregateSettings) -> AggregateJob {
        AggregateJob { settings }
    }

    /// Computes the statistics as of `as_of` and writes them as the current snapshot. Also
    /// what benchmarks and tools call directly.
    pub async fn refresh(
        &self,
        store: &dyn Store,
        as_of: Timestamp,
        groupings: Option<Vec<StatsGrouping>>,
        run_id: Option<RunId>,
    ) -> Result<AggregateSummary, AggregateError> {
        let started = Instant::now();
        let windows = periods::windows(as_of, self.settings.zone.tz())?;
        let earliest = windows
            .iter()
            .map(|w| w.previous.start.min(w.current.start))
            .min()
            .unwrap_or(as_of);
        let groupings = groupings.unwrap_or_else(|| self.settings.groupings.clone());
        let mut tallies = Tallies::new(windows, groupings);
        let scanned = store
            .feedback_stats_scan(
                FeedbackStatsScanParams {
                    created_from: earliest,
                    created_to: as_of,
                },
                &mut |item| tallies.add(&item),
            )
            .await?;
        let aggregated = tallies.finish();
        let rows = aggregated.rows.len();
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let snapshot = store
            .stats_snapshot_write(StatsSnapshotWriteParams {
                as_of,
                computed_at: as_of,
                duration_ms,
                rows_scanned: scanned.rows_scanned,
                without_created_at: scanned.without_created_at,
                groups: aggregated.groups,
                errors: aggregated.errors,
                zone: self.settings.zone.name().to_owned(),
                run_id,
                rows: aggregated.rows,
            })
            .await?;
        Ok(AggregateSummary {
            snapshot,
            rows,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}

#[async_trait]
impl TypedJob for AggregateJob {
    const KIND: &'static str = "aggregate";
    type Params = AggregateParams;

    fn check(&self, params: &AggregateParams) -> Result<(), ParamsError> {
        params.groupings().map(drop)
    }

    async fn run(&self, params: AggregateParams, ctx: JobContext) -> Result<Value, JobError> {
        let groupings = params.groupings().map_err(JobError::fatal)?;
        let as_of = ctx.now();
        let refresh = self.refresh(ctx.store.as_ref(), as_of, groupings, Some(ctx.run.id));
        let summary = tokio::select! {
            summary = refresh => summary,
            () = ctx.cancel.cancelled() => return Err(JobError::Cancel("cancelled before the snapshot was written".to_owned())),
        };
        match summary {
            Ok(summary) => {
                let summary = summary.to_json();
                ctx.progress.report(summary.clone()).await;
                Ok(summary)
            }
            Err(AggregateError::Store(error)) if error.is_unavailable() => {
                Err(JobError::retryable(error))
            }
            Err(error) => Err(JobError::fatal(error)),
        }
    }
}
