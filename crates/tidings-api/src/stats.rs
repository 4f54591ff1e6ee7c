//! `/api/stats`: the dashboard statistics, served only from the snapshot the `aggregate` job
//! wrote; nothing is computed here.
//!
//! The current snapshot is held in memory, indexed by grouping and period, and loaded once per
//! snapshot id: a request asks the store for the current id at most once a second (by the
//! engine's clock) and reloads only when it changed, so an answer costs no query at all most of
//! the time. When the store cannot be reached, the snapshot in memory is served.
//!
//! Requests are counted as hits (answered from the snapshot) or misses (no snapshot yet: 503;
//! a group not in it: 404), in `tidings_stats_requests_total{result}` and in each answer's
//! `snapshot.cache`. A snapshot is `stale` when it was computed more than two refresh intervals
//! ago (the interval is [`ApiState::set_stats_refresh_interval`], 15 minutes by default).

// utoipa's `params(Type)` expands to a qualified path.
#![allow(unused_qualifications)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tidings_store::{
    GroupStats, StatsGroupError, StatsGrouping, StatsPeriod, StatsSnapshot, StatsSnapshotId,
    StatsSnapshotMeta,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::ApiState;

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(stats_get))
        .routes(routes!(stats_groups))
}

/// How long the current snapshot's id is trusted before the store is asked again.
const ID_TTL: SignedDuration = SignedDuration::from_secs(1);

/// What a `503` asks the client to wait, in seconds.
const RETRY_AFTER_SECS: u64 = 30;

/// How many group names a `404` lists.
const NAMED_GROUPS: usize = 100;

/// The default refresh interval of the `aggregate` schedule.
pub(crate) const DEFAULT_REFRESH: Duration = Duration::from_secs(15 * 60);

/// A snapshot as served: its metadata and its rows by grouping and period, each already
/// serialised, so that an answer only copies JSON text.
struct Loaded {
    meta: StatsSnapshotMeta,
    periods: HashMap<(StatsGrouping, StatsPeriod), PeriodRows>,
    /// Every group of each grouping, sorted.
    groups: BTreeMap<StatsGrouping, Vec<String>>,
}

struct PeriodRows {
    all: Option<Box<RawValue>>,
    /// `[{"group": …, "stats": …}, …]`, by group key.
    entries: Box<RawValue>,
    groups: BTreeMap<String, Box<RawValue>>,
}

fn raw(value: &impl Serialize) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(value)
        .map_err(|e| ApiError::Internal(format!("cannot encode statistics: {e}")))
}

impl Loaded {
    fn new(snapshot: StatsSnapshot) -> Result<Loaded, ApiError> {
        #[derive(Default)]
        struct Rows {
            all: Option<GroupStats>,
            groups: BTreeMap<String, GroupStats>,
        }
        let mut rows_by: HashMap<_, Rows> = HashMap::new();
        let mut groups: BTreeMap<StatsGrouping, Vec<String>> = BTreeMap::new();
        for row in snapshot.rows {
            let rows = rows_by.entry((row.grouping, row.period)).or_default();
            match row.group {
                None => rows.all = Some(row.stats),
                Some(group) => {
                    if row.period == StatsPeriod::ALL[0] {
                        groups.entry(row.grouping).or_default().push(group.clone());
                    }
                    rows.groups.insert(group, row.stats);
                }
            }
        }
        for names in groups.values_mut() {
            names.sort();
        }
        let mut periods = HashMap::with_capacity(rows_by.len());
        for (key, rows) in rows_by {
            let entries: Vec<GroupStatsEntry<'_>> = rows
                .groups
                .iter()
                .map(|(group, stats)| GroupStatsEntry { group, stats })
                .collect();
            let entries = raw(&entries)?;
            let all = rows.all.as_ref().map(raw).transpose()?;
            let groups = rows
                .groups
                .iter()
                .map(|(group, stats)| Ok((group.clone(), raw(stats)?)))
                .collect::<Result<_, ApiError>>()?;
            periods.insert(
                key,
                PeriodRows {
                    all,
                    entries,
                    groups,
                },
            );
        }
        Ok(Loaded {
            meta: snapshot.meta,
            periods,
            groups,
        })
    }
}

/// The API's copy of the current snapshot, and the hit and miss counts.
pub(crate) struct StatsCache {
    loaded: Mutex<Option<Arc<Loaded>>>,
    /// When the store was last asked for the current id.
    checked_at: Mutex<Option<Timestamp>>,
    /// One load at a time: concurrent requests for a new snapshot wait for the first.
    loading: tokio::sync::Mutex<()>,
    refresh_ms: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl StatsCache {
    pub(crate) fn new() -> StatsCache {
        StatsCache {
            loaded: Mutex::new(None),
            checked_at: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
            refresh_ms: AtomicU64::new(u64::try_from(DEFAULT_REFRESH.as_millis()).unwrap_or(0)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub(crate) fn set_refresh_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self.refresh_ms.store(ms, Ordering::Relaxed);
    }

    fn loaded(&self) -> Option<Arc<Loaded>> {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn count(&self, hit: bool) {
        let (counter, result) = if hit {
            (&self.hits, "hit")
        } else {
            (&self.misses, "miss")
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tidings_stats_requests_total", "result" => result).increment(1);
    }
}

/// The current snapshot, from memory unless its id changed; `None` before the first snapshot.
async fn current(state: &ApiState) -> Result<Option<Arc<Loaded>>, ApiError> {
    let cache = &state.inner.stats;
    let now = state.engine().clock().now();
    let fresh = |checked_at: &Option<Timestamp>| {
        checked_at.is_some_and(|at| now.duration_since(at) < ID_TTL && now >= at)
    };
    let loaded = cache.loaded();
    if loaded.is_some()
        && fresh(
            &cache
                .checked_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    {
        return Ok(loaded);
    }
    let _loading = cache.loading.lock().await;
    // Another request may have checked while this one waited.
    let loaded = cache.loaded();
    if loaded.is_some()
        && fresh(
            &cache
                .checked_at
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    {
        return Ok(loaded);
    }
    let store = state.engine().store();
    let id: Option<StatsSnapshotId> = match store.stats_snapshot_current_id().await {
        Ok(id) => id,
        Err(error) if loaded.is_some() => {
            tracing::warn!(%error, "cannot check the current statistics snapshot; serving the one in memory");
            return Ok(loaded);
        }
        Err(error) => return Err(error.into()),
    };
    let loaded = match (id, loaded) {
        (None, _) => None,
        (Some(id), Some(loaded)) if loaded.meta.id == id => Some(loaded),
        (Some(_), _) => store
            .stats_snapshot_current()
            .await?
            .map(Loaded::new)
            .transpose()?
            .map(Arc::new),
    };
    *cache.loaded.lock().unwrap_or_else(PoisonError::into_inner) = loaded.clone();
    *cache
        .checked_at
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(now);
    Ok(loaded)
}

/// A statistics request that the snapshot cannot answer.
enum Miss {
    /// No snapshot yet: `503` with `Retry-After`.
    NotComputed,
    /// `404`, naming what exists.
    NotInSnapshot { detail: String, groups: Vec<String> },
}

impl IntoResponse for Miss {
    fn into_response(self) -> Response {
        match self {
            Miss::NotComputed => {
                let mut response = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "stats-not-ready",
                    "statistics are being computed; try again shortly".to_owned(),
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
                response
            }
            Miss::NotInSnapshot { detail, groups } => {
                let mut problem = Problem::new(StatusCode::NOT_FOUND, "stats-not-found", detail);
                problem.extra.insert("groups".to_owned(), groups.into());
                problem.into_response()
            }
        }
    }
}

/// `GET /api/stats`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// What records are grouped by: `group` (default), `source` or `channel`.
    grouping: Option<String>,
    /// One group's statistics; without it, every group's and `all`.
    group: Option<String>,
    /// `1h`, `24h` (default), `7d`, `30d`, `today`, `week` or `month`.
    period: Option<String>,
}

/// `GET /api/stats/groups`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsGroupsQuery {
    /// `group` (default), `source` or `channel`.
    grouping: Option<String>,
}

fn grouping(text: Option<&str>) -> Result<StatsGrouping, ApiError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(StatsGrouping::Group),
        Some(text) => StatsGrouping::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "grouping",
                format!("unknown grouping `{text}`; use `group`, `source` or `channel`"),
            )
        }),
    }
}

fn period(text: Option<&str>) -> Result<StatsPeriod, ApiError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(StatsPeriod::Day),
        Some(text) => StatsPeriod::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "period",
                format!(
                    "unknown period `{text}`; use one of {}",
                    StatsPeriod::ALL
                        .map(|p| format!("`{}`", p.as_str()))
                        .join(", ")
                ),
            )
        }),
    }
}

/// A group's statistics over a period. See the `aggregate` job for each number's definition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GroupStats)]
pub struct GroupStatsDoc {
    /// Records created in the period.
    count: u64,
    /// Records created in the previous period: the previous window of the same length for
    /// `1h`…`30d`; the previous day, week or month up to the same wall-clock time for
    /// `today`, `week` and `month`.
    previous_count: u64,
    /// `count − previous_count`: new since the previous period.
    change: i64,
    rating: RatingStatsDoc,
    sentiment: SentimentStatsDoc,
    /// The 10 most used tags, most used first (ties by tag).
    top_tags: Vec<TagCountDoc>,
    /// Share of records replied to; `null` until replies exist.
    response_rate: Option<f64>,
    /// Mean seconds from feedback to reply; `null` until replies exist.
    average_response_seconds: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RatingStats)]
pub struct RatingStatsDoc {
    /// Records with a rating.
    rated: u64,
    /// Mean rating; `null` without ratings.
    average: Option<f64>,
    /// Ratings rounded half up to 1–5: the counts of 1, 2, 3, 4 and 5.
    #[schema(min_items = 5, max_items = 5)]
    histogram: Vec<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SentimentStats)]
pub struct SentimentStatsDoc {
    positive: u64,
    neutral: u64,
    negative: u64,
    /// No label, or another label.
    unknown: u64,
    /// Each count over `count`; `null` when the period has no records.
    shares: Option<SentimentSharesDoc>,
    /// Records with a sentiment score.
    scored: u64,
    /// Mean sentiment score, −1 to 1; `null` without scores.
    average_score: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SentimentShares)]
pub struct SentimentSharesDoc {
    positive: f64,
    neutral: f64,
    negative: f64,
    unknown: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TagCount)]
pub struct TagCountDoc {
    tag: String,
    count: u64,
}

/// One group's statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupStatsEntry<'a> {
    /// The group's key; `(none)` for records without a value.
    group: &'a str,
    #[schema(value_type = GroupStatsDoc)]
    stats: &'a GroupStats,
}

/// A group that could not be computed; it has no statistics in the snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsErrorView {
    /// `group`, `source` or `channel`.
    grouping: String,
    group: String,
    error: String,
}

/// Hits and misses of `/api/stats` since the process started.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsCacheView {
    hits: u64,
    misses: u64,
}

/// The snapshot an answer comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsSnapshotView {
    id: i64,
    /// The instant the periods end at.
    as_of: Timestamp,
    computed_at: Timestamp,
    /// How long computing it took.
    duration_ms: u64,
    /// Records read.
    rows_scanned: u64,
    /// Records left out because they have no creation time.
    without_created_at: u64,
    /// Groups with statistics, over every grouping.
    groups: u64,
    /// Groups that failed and are left out.
    errors: Vec<StatsErrorView>,
    /// The IANA zone of `today`, `week` and `month`.
    zone: String,
    /// The `aggregate` run that computed it.
    run_id: Option<i64>,
    /// Seconds since it was computed.
    age_seconds: i64,
    /// True when older than two refresh intervals: the refresh is not running.
    stale: bool,
    refresh_interval_seconds: u64,
    cache: StatsCacheView,
}

fn snapshot_view(state: &ApiState, meta: &StatsSnapshotMeta) -> StatsSnapshotView {
    let cache = &state.inner.stats;
    let refresh_ms = cache.refresh_ms.load(Ordering::Relaxed);
    let age = state
        .engine()
        .clock()
        .now()
        .duration_since(meta.computed_at);
    let stale_after = SignedDuration::from_millis(
        i64::try_from(refresh_ms.saturating_mul(2)).unwrap_or(i64::MAX),
    );
    StatsSnapshotView {
        id: meta.id.0,
        as_of: meta.as_of,
        computed_at: meta.computed_at,
        duration_ms: meta.duration_ms,
        rows_scanned: meta.rows_scanned,
        without_created_at: meta.without_created_at,
        groups: meta.groups,
        errors: meta
            .errors
            .iter()
            .map(|e: &StatsGroupError| StatsErrorView {
                grouping: e.grouping.as_str().to_owned(),
                group: e.group.clone(),
                error: e.error.clone(),
            })
            .collect(),
        zone: meta.zone.clone(),
        run_id: meta.run_id.map(|id| id.0),
        age_seconds: age.as_secs(),
        stale: age > stale_after,
        refresh_interval_seconds: refresh_ms / 1000,
        cache: StatsCacheView {
            hits: cache.hits.load(Ordering::Relaxed),
            misses: cache.misses.load(Ordering::Relaxed),
        },
    }
}

/// Statistics of a grouping over a period: one group's (`group` and `stats`), or every
/// group's and all records' (`groups` and `all`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsAnswer<'a> {
    /// `group`, `source` or `channel`.
    grouping: &'static str,
    period: &'static str,
    /// With `?group=`: the group asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    /// With `?group=`: its statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<GroupStatsDoc>)]
    stats: Option<&'a RawValue>,
    /// Without `?group=`: every group, by key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<GroupStatsEntry>>)]
    groups: Option<&'a RawValue>,
    /// Without `?group=`: all records of the groups listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<GroupStatsDoc>)]
    all: Option<&'a RawValue>,
    snapshot: StatsSnapshotView,
}

/// Pre-computed statistics per group and period, from the current snapshot (never computed on
/// request).
#[utoipa::path(
    get, path = "/api/stats", tag = "stats",
    params(StatsQuery),
    responses(
        (status = 200, description = "The statistics, with the snapshot they come from", body = StatsAnswer),
        (status = 404, description = "The group is not in the snapshot; `groups` lists those that are", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown grouping or period", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No snapshot yet (statistics are being computed), or the database cannot be reached", body = Problem, content_type = "application/problem+json",
            headers(("retry-after" = u64, description = "Seconds to wait, when no snapshot exists yet"))
        ),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn stats_get(
    State(state): State<ApiState>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Response, ApiError> {
    let grouping = grouping(query.grouping.as_deref())?;
    let period = period(query.period.as_deref())?;
    let cache = &state.inner.stats;
    let Some(loaded) = current(&state).await? else {
        cache.count(false);
        return Ok(Miss::NotComputed.into_response());
    };
    let names: &[String] = loaded.groups.get(&grouping).map_or(&[], Vec::as_slice);
    let rows = loaded.periods.get(&(grouping, period));
    let group = query.group.filter(|g| !g.is_empty());
    let (stats, groups, all) = match (&group, rows) {
        (Some(group), Some(rows)) if rows.groups.contains_key(group) => {
            (rows.groups.get(group).map(AsRef::as_ref), None, None)
        }
        (None, Some(rows)) => (None, Some(rows.entries.as_ref()), rows.all.as_deref()),
        (group, _) => {
            cache.count(false);
            let detail = match group {
                Some(group) => format!(
                    "group `{group}` has no {grouping} statistics for period `{period}` in snapshot {}; \
                     {} groups have",
                    loaded.meta.id,
                    names.len()
                ),
                None => format!(
                    "snapshot {} has no {grouping} statistics for period `{period}`",
                    loaded.meta.id
                ),
            };
            return Ok(Miss::NotInSnapshot {
                detail,
                groups: names.iter().take(NAMED_GROUPS).cloned().collect(),
            }
            .into_response());
        }
    };
    cache.count(true);
    Ok(Json(StatsAnswer {
        grouping: grouping.as_str(),
        period: period.as_str(),
        group,
        stats,
        groups,
        all,
        snapshot: snapshot_view(&state, &loaded.meta),
    })
    .into_response())
}

/// The groups of a grouping in the current snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsGroupsAnswer {
    grouping: String,
    /// Sorted; `(none)` holds the records without a value.
    groups: Vec<String>,
    snapshot: StatsSnapshotView,
}

/// The groups the current snapshot has statistics for.
#[utoipa::path(
    get, path = "/api/stats/groups", tag = "stats",
    params(StatsGroupsQuery),
    responses(
        (status = 200, description = "The groups, with the snapshot", body = StatsGroupsAnswer),
        (status = 422, description = "An unknown grouping", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No snapshot yet (statistics are being computed), or the database cannot be reached", body = Problem, content_type = "application/problem+json",
            headers(("retry-after" = u64, description = "Seconds to wait, when no snapshot exists yet"))
        ),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn stats_groups(
    State(state): State<ApiState>,
    ApiQuery(query): ApiQuery<StatsGroupsQuery>,
) -> Result<Response, ApiError> {
    let grouping = grouping(query.grouping.as_deref())?;
    let cache = &state.inner.stats;
    let Some(loaded) = current(&state).await? else {
        cache.count(false);
        return Ok(Miss::NotComputed.into_response());
    };
    cache.count(true);
    Ok(Json(StatsGroupsAnswer {
        grouping: grouping.as_str().to_owned(),
        groups: loaded.groups.get(&grouping).cloned().unwrap_or_default(),
        snapshot: snapshot_view(&state, &loaded.meta),
    })
    .into_response())
}
