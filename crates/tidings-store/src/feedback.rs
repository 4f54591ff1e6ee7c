//! Feedback records as cached: one table for every source, keyed by `(source, external_id)`,
//! with the columns dashboards filter and group by, and every field of the original as JSON.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{RunId, StoreError};

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
    /// Whether the sentiment is the source's own or computed by tidings from the text; `None`
    /// without a sentiment (and for records cached before origins were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment_origin: Option<SentimentOrigin>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Vec<String>,
    /// The team's workflow state: new, in progress, replied…
    pub status: Option<String>,
    /// A number the source attaches (order value, seats…).
    pub value: Option<f64>,
    /// Every field of the original, by its source's field names.
    pub raw: RawJson,
}

/// Where a record's sentiment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentOrigin {
    /// The source's own sentiment field (its label, or its score labelled by tidings).
    Source,
    /// Computed by tidings' lexicon analyser from the title and body.
    Computed,
}

impl SentimentOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentOrigin::Source => "source",
            SentimentOrigin::Computed => "computed",
        }
    }

    /// The stored text back; `None` for anything else.
    pub fn parse(text: &str) -> Option<SentimentOrigin> {
        match text {
            "source" => Some(SentimentOrigin::Source),
            "computed" => Some(SentimentOrigin::Computed),
            _ => None,
        }
    }
}

impl fmt::Display for SentimentOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON value kept as its text: what the stores read back is written into API answers as it
/// is, never parsed into a [`serde_json::Value`] and serialised again. Made from a `Value` it is
/// compact with the keys of its objects sorted (serde_json's map), so equal values give equal
/// text and [`FeedbackRecord::content_hash`] does not depend on the order a source lists its
/// fields in. Read back from a store its text may be spaced or ordered differently (PostgreSQL's
/// `jsonb`); equality compares the values, not the text.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<serde_json::value::RawValue>);

impl RawJson {
    /// Checks that `text` is JSON, and keeps it as it is.
    pub fn from_text(text: String) -> Result<RawJson, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(RawJson)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value, parsed (for tests and the rare reader that looks inside).
    pub fn to_value(&self) -> serde_json::Value {
        // The text was checked when the `RawJson` was made.
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl From<Box<serde_json::value::RawValue>> for RawJson {
    fn from(raw: Box<serde_json::value::RawValue>) -> RawJson {
        RawJson(raw)
    }
}

impl From<serde_json::Value> for RawJson {
    fn from(value: serde_json::Value) -> RawJson {
        RawJson::from(&value)
    }
}

impl From<&serde_json::Value> for RawJson {
    fn from(value: &serde_json::Value) -> RawJson {
        // A `Value` always serialises, and its text is JSON.
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
        RawJson::from_text(text).unwrap_or_else(|_| RawJson(Box::default()))
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

impl PartialEq<serde_json::Value> for RawJson {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

impl FeedbackRecord {
    /// The SHA-256 (lowercase hex) of the record's JSON: equal for equal records, so a sync can
    /// tell an unchanged row and leave it alone. Object keys of `raw` are sorted by serde_json's
    /// map, so the order a source lists its fields in does not matter.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        // Serialising plain data to a Vec cannot fail; an empty hash would only ever mean
        // "changed", which is safe.
        let json = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&json)
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                use fmt::Write;
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }
}

/// `feedback_replace_source`: a full sync. `records` become the source's whole set.
#[derive(Debug, Clone)]
pub struct FeedbackReplaceParams {
    pub source: String,
    pub records: Vec<FeedbackRecord>,
    pub now: Timestamp,
}

/// `feedback_upsert`: an incremental sync, or one CSV file. Records not given are kept.
#[derive(Debug, Clone)]
pub struct FeedbackUpsertParams {
    pub source: String,
    pub records: Vec<FeedbackRecord>,
    pub now: Timestamp,
}

/// What a replace or an upsert did, record by record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedbackWritten {
    /// Records new to the cache.
    pub inserted: u64,
    /// Records whose content changed: rewritten, `synced_at` set.
    pub updated: u64,
    /// Records whose content hash was the same: not written, `synced_at` kept.
    pub unchanged: u64,
    /// The source's records missing from a full sync's set (always 0 for an upsert).
    pub deleted: u64,
}

/// What `feedback_list` sorts by; records without the value come last either way, and ties
/// are broken by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackSort {
    #[default]
    Created,
    Updated,
    Rating,
}

impl FeedbackSort {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackSort::Created => "created",
            FeedbackSort::Updated => "updated",
            FeedbackSort::Rating => "rating",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// `feedback_list`: newest created first unless `sort` and `order` say otherwise; every filter
/// is optional.
#[derive(Debug, Clone, Default)]
pub struct FeedbackListParams {
    pub source: Option<String>,
    /// Created at or after this instant.
    pub created_from: Option<Timestamp>,
    /// Created before this instant.
    pub created_to: Option<Timestamp>,
    /// Updated at or after this instant.
    pub updated_from: Option<Timestamp>,
    /// Updated before this instant.
    pub updated_to: Option<Timestamp>,
    pub group: Option<String>,
    pub channel: Option<String>,
    /// Rated at least this (records without a rating are left out).
    pub rating_min: Option<f64>,
    /// Rated at most this.
    pub rating_max: Option<f64>,
    /// This sentiment label.
    pub sentiment: Option<String>,
    pub status: Option<String>,
    /// Records carrying this tag.
    pub tag: Option<String>,
    /// A case-insensitive substring of the title, body or customer name.
    pub text: Option<String>,
    pub sort: FeedbackSort,
    pub order: SortOrder,
    /// Up to 10,000; 0 for the default of 50.
    pub limit: u32,
    pub cursor: Option<String>,
}

/// The largest page `feedback_list` returns.
pub const FEEDBACK_PAGE_MAX: u32 = 10_000;

/// A sort value: an instant in epoch milliseconds, or a rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeedbackSortKey {
    Millis(i64),
    Rating(f64),
}

/// Where a page of `feedback_list` starts: after the record with this sort value (`None` for a
/// record without one) and id. Encoded as `<sort>.<order>.<value or ~>.<id>`, so that a
/// cursor is refused by a list sorted another way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedbackCursor {
    pub key: Option<FeedbackSortKey>,
    pub id: FeedbackId,
}

impl FeedbackCursor {
    /// The cursor after `last` in a list sorted by `sort`.
    pub fn after(last: &Feedback, sort: FeedbackSort) -> FeedbackCursor {
        let key = match sort {
            FeedbackSort::Created => last
                .record
                .created_at
                .map(|at| FeedbackSortKey::Millis(at.as_millisecond())),
            FeedbackSort::Updated => last
                .record
                .updated_at
                .map(|at| FeedbackSortKey::Millis(at.as_millisecond())),
            FeedbackSort::Rating => last.record.rating.map(FeedbackSortKey::Rating),
        };
        FeedbackCursor { key, id: last.id }
    }

    pub fn encode(&self, sort: FeedbackSort, order: SortOrder) -> String {
        let key = match self.key {
            None => "~".to_owned(),
            Some(FeedbackSortKey::Millis(ms)) => ms.to_string(),
            // Rust prints the shortest text that parses back to the same f64.
            Some(FeedbackSortKey::Rating(rating)) => rating.to_string(),
        };
        format!("{}.{}.{key}.{}", sort.as_str(), order.as_str(), self.id)
    }

    /// Reads a cursor made by [`FeedbackCursor::encode`] for the same sort and order.
    pub fn parse(
        text: &str,
        sort: FeedbackSort,
        order: SortOrder,
    ) -> Result<FeedbackCursor, StoreError> {
        let invalid = || {
            StoreError::InvalidState(format!(
                "invalid cursor `{text}`: pass back the next_cursor of the previous page, \
                 with the same sort and order"
            ))
        };
        let prefix = format!("{}.{}.", sort.as_str(), order.as_str());
        let rest = text.strip_prefix(&prefix).ok_or_else(invalid)?;
        let (key, id) = rest.rsplit_once('.').ok_or_else(invalid)?;
        let id = id.parse::<i64>().map_err(|_| invalid())?;
        let key = match (key, sort) {
            ("~", _) => None,
            (key, FeedbackSort::Rating) => Some(FeedbackSortKey::Rating(
                key.parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite())
                    .ok_or_else(invalid)?,
            )),
            (key, _) => Some(FeedbackSortKey::Millis(
                key.parse::<i64>().map_err(|_| invalid())?,
            )),
        };
        Ok(FeedbackCursor {
            key,
            id: FeedbackId(id),
        })
    }
}

/// How a sync ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Everything fetched, the vanished deleted.
    Full,
    /// Records modified since the watermark, upserted.
    Incremental,
}

/// A source's sync bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceState {
    pub source: String,
    /// The latest modification time seen: the next incremental sync asks for records modified
    /// after it (minus an overlap). Never moves back.
    pub watermark: Option<Timestamp>,
    pub last_full_run_id: Option<RunId>,
    pub last_full_at: Option<Timestamp>,
    pub last_incremental_run_id: Option<RunId>,
    pub last_incremental_at: Option<Timestamp>,
}

/// `source_state_record`: a sync of `mode` finished at `at`. The watermark only moves forward:
/// an earlier or absent one leaves it as it is.
#[derive(Debug, Clone)]
pub struct SourceStateParams {
    pub source: String,
    pub mode: SyncMode,
    pub run_id: Option<RunId>,
    pub at: Timestamp,
    pub watermark: Option<Timestamp>,
}

/// A CSV file already imported, as `source_file_record` keeps it: a file whose size, mtime and
/// checksum match is not imported again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub source: String,
    pub path: String,
    pub size: u64,
    pub mtime: Timestamp,
    /// Lowercase hex.
    pub sha256: String,
    pub imported_at: Timestamp,
    /// Records imported from it.
    pub rows: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(external_id: &str) -> FeedbackRecord {
        FeedbackRecord {
            external_id: external_id.to_owned(),
            created_at: None,
            updated_at: None,
            customer_name: None,
            customer_email: None,
            channel: None,
            group: None,
            rating: Some(4.5),
            sentiment_label: None,
            sentiment_score: None,
            sentiment_origin: None,
            title: None,
            body: Some("Great".to_owned()),
            tags: vec!["a".to_owned()],
            status: None,
            value: None,
            raw: serde_json::json!({ "b": 1, "a": 2 }).into(),
        }
    }

    #[test]
    fn content_hash_tells_changed_records_apart() {
        let one = record("rec1");
        assert_eq!(one.content_hash(), record("rec1").content_hash());
        assert_eq!(one.content_hash().len(), 64);
        let mut changed = one.clone();
        changed.body = Some("Great!".to_owned());
        assert_ne!(one.content_hash(), changed.content_hash());
        let reordered = FeedbackRecord {
            raw: serde_json::from_str::<serde_json::Value>(r#"{"a":2,"b":1}"#)
                .unwrap()
                .into(),
            ..one.clone()
        };
        assert_eq!(one.content_hash(), reordered.content_hash());
    }

    #[test]
    fn cursors_round_trip_and_refuse_another_sort() {
        for (sort, key) in [
            (FeedbackSort::Created, Some(FeedbackSortKey::Millis(-5))),
            (FeedbackSort::Updated, None),
            (
                FeedbackSort::Rating,
                Some(FeedbackSortKey::Rating(0.1 + 0.2)),
            ),
        ] {
            let cursor = FeedbackCursor {
                key,
                id: FeedbackId(42),
            };
            let text = cursor.encode(sort, SortOrder::Asc);
            assert_eq!(
                FeedbackCursor::parse(&text, sort, SortOrder::Asc).unwrap(),
                cursor
            );
            assert!(FeedbackCursor::parse(&text, sort, SortOrder::Desc).is_err());
        }
        assert!(FeedbackCursor::parse("12", FeedbackSort::Created, SortOrder::Desc).is_err());
        assert!(
            FeedbackCursor::parse("rating.desc.NaN.1", FeedbackSort::Rating, SortOrder::Desc)
                .is_err()
        );
    }
}
