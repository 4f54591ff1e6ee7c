//! Feedback records as cached: one table for every source, keyed by `(source, external_id)`,
//! with the columns dashboards filter and group by, and every field of the original as JSON.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A cached record's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeedbackId(pub i64);

impl fmt::Display for FeedbackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One piece of feedback as a source gives it, mapped to tidings' columns. What the source does
/// not have is `None` (Airtable omits empty cells: a missing field is null, not an error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    /// The record's id in its source (an Airtable record id, a CSV id column or line key).
    pub external_id: String,
    /// When the feedback was given.
    pub created_at: Option<Timestamp>,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    /// Where it came from: email, chat, survey, app store…
    pub channel: Option<String>,
    /// What dashboards group by: the tool, venue or product it is about.
    pub group: Option<String>,
    /// As given, e.g. 1–5.
    pub rating: Option<f64>,
    /// `positive`, `neutral` or `negative`, when the source or tidings has scored it.
    pub sentiment_label: Option<String>,
    /// -1 to 1.
    pub sentiment_score: Option<f64>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Vec<String>,
    /// The team's workflow state: new, in progress, replied…
    pub status: Option<String>,
    /// A number the source attaches (order value, seats…).
    pub value: Option<f64>,
    /// Every field of the original, by its source's field names.
    pub raw: serde_json::Value,
}

/// A cached record: what the source gave, and tidings' bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    pub id: FeedbackId,
    /// The source's name (`[sources.NAME]`).
    pub source: String,
    #[serde(flatten)]
    pub record: FeedbackRecord,
    /// When tidings first stored it.
    pub first_seen_at: Timestamp,
    /// When tidings last changed it.
    pub synced_at: Timestamp,
}
