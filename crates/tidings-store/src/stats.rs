//! Dashboard statistics: what the `aggregate` job reads from the feedback cache (one streaming
//! scan of the columns it needs) and the snapshot it writes, which `GET /api/stats` serves.
//!
//! A snapshot is written whole, in one transaction that also makes it the current one and
//! deletes the previous one: readers see the previous snapshot or the new one, never a mix.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::RunId;

/// What records are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatsGrouping {
    /// The record's `group` (the tool, venue or product it is about).
    Group,
    Source,
    Channel,
}

impl StatsGrouping {
    pub const ALL: [StatsGrouping; 3] = [
        StatsGrouping::Group,
        StatsGrouping::Source,
        StatsGrouping::Channel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatsGrouping::Group => "group",
            StatsGrouping::Source => "source",
            StatsGrouping::Channel => "channel",
        }
    }

    pub fn parse(text: &str) -> Option<StatsGrouping> {
        StatsGrouping::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

impl fmt::Display for StatsGrouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A period statistics cover, ending at the snapshot's `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StatsPeriod {
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week7,
    #[serde(rename = "30d")]
    Month30,
    /// Since local midnight.
    #[serde(rename = "today")]
    Today,
    /// Since Monday 00:00 local.
    #[serde(rename = "week")]
    CalendarWeek,
    /// Since the 1st, 00:00 local.
    #[serde(rename = "month")]
    CalendarMonth,
}

impl StatsPeriod {
    pub const ALL: [StatsPeriod; 7] = [
        StatsPeriod::Hour,
        StatsPeriod::Day,
        StatsPeriod::Week7,
        StatsPeriod::Month30,
        StatsPeriod::Today,
        StatsPeriod::CalendarWeek,
        StatsPeriod::CalendarMonth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatsPeriod::Hour => "1h",
            StatsPeriod::Day => "24h",
            StatsPeriod::Week7 => "7d",
            StatsPeriod::Month30 => "30d",
            StatsPeriod::Today => "today",
            StatsPeriod::CalendarWeek => "week",
            StatsPeriod::CalendarMonth => "month",
        }
    }

    pub fn parse(text: &str) -> Option<StatsPeriod> {
        StatsPeriod::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for StatsPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `feedback_stats_scan`: the records created in `[created_from, created_to)` are streamed;
/// records without `created_at` are only counted.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackStatsScanParams {
    pub created_from: Timestamp,
    pub created_to: Timestamp,
}

/// The columns of one record that statistics read.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackStatsItem {
    pub created_at: Timestamp,
    pub source: String,
    pub group: Option<String>,
    pub channel: Option<String>,
    pub rating: Option<f64>,
    pub sentiment_label: Option<String>,
    pub sentiment_score: Option<f64>,
    pub tags: Vec<String>,
}

/// What a scan went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedbackStatsScanned {
    /// Records streamed to the sink.
    pub rows_scanned: u64,
    /// Records left out because they have no `created_at`.
    pub without_created_at: u64,
}

/// A snapshot's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatsSnapshotId(pub i64);

impl fmt::Display for StatsSnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One group whose statistics could not be computed; the snapshot has no rows for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsGroupError {
    pub grouping: StatsGrouping,
    pub group: String,
    pub error: String,
}

/// One row of a snapshot: the statistics of one group (or of all, `group: None`) of a
/// grouping over one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsRow {
    pub grouping: StatsGrouping,
    /// `None` for the `all` row.
    pub group: Option<String>,
    pub period: StatsPeriod,
    pub stats: GroupStats,
}

/// A snapshot's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshotMeta {
    pub id: StatsSnapshotId,
    /// The instant the periods end at.
    pub as_of: Timestamp,
    /// When the snapshot was written.
    pub computed_at: Timestamp,
    pub duration_ms: u64,
    pub rows_scanned: u64,
    /// Records left out because they have no `created_at`.
    pub without_created_at: u64,
    /// Groups with statistics, over every grouping (the `all` rows not counted).
    pub groups: u64,
    pub errors: Vec<StatsGroupError>,
    /// The IANA zone of the calendar periods.
    pub zone: String,
    /// The `aggregate` run that computed it, if a run did.
    pub run_id: Option<RunId>,
}

/// A whole snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSnapshot {
    pub meta: StatsSnapshotMeta,
    pub rows: Vec<StatsRow>,
}

/// `stats_snapshot_write`: the new snapshot; its id is assigned by the store.
#[derive(Debug, Clone)]
pub struct StatsSnapshotWriteParams {
    pub as_of: Timestamp,
    pub computed_at: Timestamp,
    pub duration_ms: u64,
    pub rows_scanned: u64,
    pub without_created_at: u64,
    pub groups: u64,
    pub errors: Vec<StatsGroupError>,
    pub zone: String,
    pub run_id: Option<RunId>,
    pub rows: Vec<StatsRow>,
}

/// The statistics of one group over one period. Stored as JSON; see the `aggregate` job for
/// how each number is defined.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// Records created in the period.
    pub count: u64,
    /// Records created in the previous period of the same length (for calendar periods: the
    /// previous calendar period up to the same elapsed wall-clock time).
    pub previous_count: u64,
    /// `count − previous_count`: new since the previous period.
    pub change: i64,
    pub rating: RatingStats,
    pub sentiment: SentimentStats,
    /// The 10 most used tags, most used first (ties by tag).
    pub top_tags: Vec<TagCount>,
    /// Share of records replied to; `null` until replies exist.
    pub response_rate: Option<f64>,
    /// Mean seconds from feedback to reply; `null` until replies exist.
    pub average_response_seconds: Option<f64>,
}

/// Ratings of the period's records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingStats {
    /// Records with a rating.
    pub rated: u64,
    /// `null` without ratings.
    pub average: Option<f64>,
    /// Ratings rounded (half up) to 1–5: `histogram[0]` counts 1s, `histogram[4]` 5s.
    pub histogram: [u64; 5],
}

/// Sentiment of the period's records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentStats {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
    /// No label, or one that is none of the three.
    pub unknown: u64,
    /// Each count over `count`; `null` when the period has no records.
    pub shares: Option<SentimentShares>,
    /// Records with a score.
    pub scored: u64,
    /// Mean score (−1 to 1); `null` without scores.
    pub average_score: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentShares {
    pub positive: f64,
    pub neutral: f64,
    pub negative: f64,
    pub unknown: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub tag: String,
    pub count: u64,
}
