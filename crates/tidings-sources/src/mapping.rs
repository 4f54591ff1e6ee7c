//! Which source field feeds each [`FeedbackRecord`] column, and turning one source row into a
//! record. Source-agnostic: a row is a map of field name → JSON value, which a CSV row (all
//! strings) and an Airtable record's `fields` both are.
//!
//! Configuration names a field per column; a column left out is matched against common header
//! names (see [`Column::default_fields`]), compared case-insensitively and ignoring spaces and
//! punctuation, so `Record ID`, `record_id` and `RecordId` are the same name. A column mapped to
//! `""` is turned off.
//!
//! ```toml
//! [sources.survey.mapping]
//! body = "What could we do better?"
//! group = "Store"
//! rating = ""          # the file's "Score" column is not a rating
//! ```

use std::collections::BTreeMap;
use std::fmt;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tidings_store::{FeedbackRecord, SentimentOrigin};

use crate::cell;

/// A column of [`FeedbackRecord`] that a source field can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    ExternalId,
    CreatedAt,
    UpdatedAt,
    CustomerName,
    CustomerEmail,
    Channel,
    Group,
    Rating,
    SentimentLabel,
    SentimentScore,
    Title,
    Body,
    Tags,
    Status,
    Value,
}

impl Column {
    /// Every column, in [`FeedbackRecord`]'s order.
    pub const ALL: [Column; 15] = [
        Column::ExternalId,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::CustomerName,
        Column::CustomerEmail,
        Column::Channel,
        Column::Group,
        Column::Rating,
        Column::SentimentLabel,
        Column::SentimentScore,
        Column::Title,
        Column::Body,
        Column::Tags,
        Column::Status,
        Column::Value,
    ];

    /// The column's name in configuration and in [`FeedbackRecord`].
    pub fn name(self) -> &'static str {
        match self {
            Column::ExternalId => "external_id",
            Column::CreatedAt => "created_at",
            Column::UpdatedAt => "updated_at",
            Column::CustomerName => "customer_name",
            Column::CustomerEmail => "customer_email",
            Column::Channel => "channel",
            Column::Group => "group",
            Column::Rating => "rating",
            Column::SentimentLabel => "sentiment_label",
            Column::SentimentScore => "sentiment_score",
            Column::Title => "title",
            Column::Body => "body",
            Column::Tags => "tags",
            Column::Status => "status",
            Column::Value => "value",
        }
    }

    /// The field names that feed this column when configuration does not name one, best first,
    /// as common Airtable and spreadsheet exports spell them. Matched case-insensitively,
    /// ignoring spaces and punctuation.
    pub fn default_fields(self) -> &'static [&'static str] {
        match self {
            Column::ExternalId => &["ID", "Record ID", "external_id"],
            Column::CreatedAt => &["Created", "created_at", "Created time", "Date"],
            Column::UpdatedAt => &["Last Modified", "updated_at", "Last modified time"],
            Column::CustomerName => &["Name", "Customer", "customer_name"],
            Column::CustomerEmail => &["Email", "customer_email", "Email address"],
            Column::Channel => &["Channel", "Source"],
            Column::Group => &["Tool", "Venue", "Product", "Group"],
            Column::Rating => &["Rating", "Score", "Stars"],
            Column::SentimentLabel => &["Sentiment", "sentiment_label"],
            Column::SentimentScore => &["sentiment_score"],
            Column::Title => &["Title", "Subject", "Summary"],
            Column::Body => &["Feedback", "Comment", "Comments", "Body", "Message"],
            Column::Tags => &["Tags"],
            Column::Status => &["Status"],
            Column::Value => &["Value", "Amount"],
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which source field feeds each column: configured names, and defaults for the rest.
///
/// Deserializes from a table of column → field name; unknown columns are an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldMapping {
    fields: BTreeMap<Column, String>,
}

impl FieldMapping {
    /// Feeds `column` from the field named `field` (matched exactly, else case-insensitively).
    pub fn with(mut self, column: Column, field: impl Into<String>) -> FieldMapping {
        self.fields.insert(column, field.into());
        self
    }

    /// Leaves `column` empty even when a field has one of its default names.
    pub fn without(mut self, column: Column) -> FieldMapping {
        self.fields.insert(column, String::new());
        self
    }

    /// Decides which of `field_names` feeds each column. Configured names win; then each column
    /// not configured takes the first of its [`Column::default_fields`] present, skipping fields
    /// already taken. A CSV reader resolves once against its header; an Airtable reader can
    /// resolve per record, since Airtable leaves empty cells out ([`FieldMapping::map_fields`]).
    pub fn resolve<'a>(&self, field_names: impl IntoIterator<Item = &'a str>) -> ResolvedMapping {
        let names: Vec<&str> = field_names.into_iter().collect();
        let keys: Vec<String> = names.iter().map(|n| match_key(n)).collect();
        let mut taken = vec![false; names.len()];
        let mut fields: [Option<String>; 15] = Default::default();
        let mut unmatched = Vec::new();

        for (column, configured) in &self.fields {
            if configured.is_empty() {
                continue;
            }
            let key = match_key(configured);
            let found = names
                .iter()
                .position(|n| n == configured)
                .or_else(|| keys.iter().position(|k| *k == key));
            match found {
                Some(i) => {
                    taken[i] = true;
                    fields[*column as usize] = Some(names[i].to_owned());
                }
                None => {
                    unmatched.push((*column, configured.clone()));
                    fields[*column as usize] = Some(configured.clone());
                }
            }
        }
        for column in Column::ALL {
            if self.fields.contains_key(&column) {
                continue;
            }
            let found = column.default_fields().iter().find_map(|candidate| {
                let candidate = match_key(candidate);
                (0..names.len()).find(|&i| !taken[i] && keys[i] == candidate)
            });
            if let Some(i) = found {
                taken[i] = true;
                fields[column as usize] = Some(names[i].to_owned());
            }
        }
        ResolvedMapping { fields, unmatched }
    }

    /// Maps one row whose fields may differ from row to row (an Airtable record), resolving the
    /// mapping against this row's own field names.
    pub fn map_fields(
        &self,
        row: Map<String, Value>,
        zone: &TimeZone,
    ) -> Result<FeedbackRecord, Vec<FieldProblem>> {
        self.resolve(row.keys().map(String::as_str))
            .map_row(row, zone)
    }
}

/// A [`FieldMapping`] decided against a set of field names: at most one field per column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMapping {
    fields: [Option<String>; 15],
    unmatched: Vec<(Column, String)>,
}

/// What is wrong with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub column: Column,
    /// The source's name for the field.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.field, self.column, self.message)
    }
}

impl ResolvedMapping {
    /// The field that feeds `column`, if any.
    pub fn field(&self, column: Column) -> Option<&str> {
        self.fields[column as usize].as_deref()
    }

    /// Configured columns whose field was not among the names resolved against. A CSV reader
    /// treats these as a configuration error; for Airtable a missing field is just empty.
    pub fn unmatched(&self) -> &[(Column, String)] {
        &self.unmatched
    }

    /// Maps one source row to a record, or says everything wrong with it at once.
    ///
    /// Without an id field the record's id is derived from the row's content
    /// ([`content_id`]); `raw` keeps every field of the row as given.
    pub fn map_row(
        &self,
        row: Map<String, Value>,
        zone: &TimeZone,
    ) -> Result<FeedbackRecord, Vec<FieldProblem>> {
        let mut cells = Cells {
            mapping: self,
            row: &row,
            problems: Vec::new(),
        };
        let text = |value: &Value| cell::text(value, "name");
        let when = |value: &Value| cell::timestamp(value, zone);
        let external_id = match self.field(Column::ExternalId) {
            Some(_) => cells.required(Column::ExternalId, |v| cell::text(v, "id")),
            None => Some(content_id(&row)),
        };
        let created_at = cells.read(Column::CreatedAt, when);
        let updated_at = cells.read(Column::UpdatedAt, when);
        let customer_name = cells.read(Column::CustomerName, text);
        let customer_email = cells.read(Column::CustomerEmail, |v| cell::text(v, "email"));
        let channel = cells.read(Column::Channel, text);
        let group = cells.read(Column::Group, text);
        let rating = cells.read(Column::Rating, cell::number);
        let sentiment_label = cells.read(Column::SentimentLabel, |v| {
            Ok(text(v)?.map(|label| label.to_lowercase()))
        });
        let sentiment_score = cells.read(Column::SentimentScore, |v| match cell::number(v)? {
            Some(score) if !(-1.0..=1.0).contains(&score) => {
                Err(format!("{score} is outside -1 to 1"))
            }
            score => Ok(score),
        });
        let title = cells.read(Column::Title, text);
        let body = cells.read(Column::Body, text);
        let tags = cells
            .read(Column::Tags, |v| cell::tags(v).map(Some))
            .unwrap_or_default();
        let status = cells.read(Column::Status, text);
        let value = cells.read(Column::Value, cell::number);
        let problems = cells.problems;
        let (sentiment_label, sentiment_score, sentiment_origin) = sentiment(
            sentiment_label,
            sentiment_score,
            title.as_deref(),
            body.as_deref(),
        );

        match external_id {
            Some(external_id) if problems.is_empty() => Ok(FeedbackRecord {
                external_id,
                created_at,
                updated_at,
                customer_name,
                customer_email,
                channel,
                group,
                rating,
                sentiment_label,
                sentiment_score,
                sentiment_origin,
                title,
                body,
                tags,
                status,
                value,
                raw: Value::Object(row).into(),
            }),
            _ => Err(problems),
        }
    }
}

/// A record's sentiment label, score and where they came from.
type Sentiment = (Option<String>, Option<f64>, Option<SentimentOrigin>);

/// The record's sentiment: the source's own when it has a label or a score (a score alone
/// gets the label VADER's thresholds give it), otherwise computed here from the title and body
/// by the lexicon analyser (`tidings-sentiment`); none for a record without text. Every sync
/// maps its records again, so a changed text gets its sentiment computed again.
fn sentiment(
    label: Option<String>,
    score: Option<f64>,
    title: Option<&str>,
    body: Option<&str>,
) -> Sentiment {
    use tidings_sentiment::{Analyzer, Label};
    match (label, score) {
        (Some(label), score) => (Some(label), score, Some(SentimentOrigin::Source)),
        (None, Some(score)) => (
            Some(Label::from_score(score).as_str().to_owned()),
            Some(score),
            Some(SentimentOrigin::Source),
        ),
        (None, None) => {
            let text = match (title, body) {
                (Some(title), Some(body)) => format!("{title}. {body}"),
                (Some(text), None) | (None, Some(text)) => text.to_owned(),
                (None, None) => return (None, None, None),
            };
            if text.trim().is_empty() {
                return (None, None, None);
            }
            let computed = Analyzer::shared().analyze(&text);
            (
                Some(computed.label.as_str().to_owned()),
                Some(computed.score),
                Some(SentimentOrigin::Computed),
            )
        }
    }
}

/// One row being read column by column, collecting every problem rather than stopping at the
/// first, so that a report shows all that is wrong with a line.
struct Cells<'a> {
    mapping: &'a ResolvedMapping,
    row: &'a Map<String, Value>,
    problems: Vec<FieldProblem>,
}

impl<'a> Cells<'a> {
    /// The column's value; `None` when no field feeds it, the field is absent or empty, or the
    /// value is bad (recorded as a problem).
    fn read<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&'a Value) -> Result<Option<T>, String>,
    ) -> Option<T> {
        let field = self.mapping.field(column)?;
        let value = self.row.get(field)?;
        parse(value).unwrap_or_else(|message| {
            self.problem(column, field, message);
            None
        })
    }

    /// Like [`Cells::read`], but an absent or empty value is a problem too.
    fn required<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&'a Value) -> Result<Option<T>, String>,
    ) -> Option<T> {
        let field = self.mapping.field(column)?;
        let value = match self.row.get(field) {
            Some(value) => parse(value),
            None => Ok(None),
        };
        match value {
            Ok(Some(value)) => Some(value),
            Ok(None) => {
                self.problem(column, field, "is empty".to_owned());
                None
            }
            Err(message) => {
                self.problem(column, field, message);
                None
            }
        }
    }

    fn problem(&mut self, column: Column, field: &str, message: String) {
        self.problems.push(FieldProblem {
            column,
            field: field.to_owned(),
            message,
        });
    }
}

/// An id for a row whose source has none: `row-` and the first 128 bits of a SHA-256 over the
/// row's non-empty fields, sorted by name.
///
/// Why content and not the file name and line number: a line key changes for every row below an
/// inserted or deleted line, so re-importing an edited file would duplicate most of it. A content
/// key keeps every unchanged row's id wherever it moves in the file or which file it is in; an
/// edited row becomes a new record (the old one stays until a full sync removes it), and two
/// identical rows are one record. Empty fields are left out so that adding an empty column does
/// not change every id.
pub fn content_id(row: &Map<String, Value>) -> String {
    let mut fields: Vec<(&String, &Value)> = row
        .iter()
        .filter(|(_, value)| match value {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            _ => true,
        })
        .collect();
    fields.sort_unstable_by_key(|(name, _)| *name);
    let mut hasher = Sha256::new();
    for (name, value) in fields {
        hasher.update(name.as_bytes());
        hasher.update([0x1f]);
        match value {
            Value::String(s) => hasher.update(s.as_bytes()),
            other => hasher.update(other.to_string().as_bytes()),
        }
        hasher.update([0x1e]);
    }
    let digest = hasher.finalize();
    format!("row-{}", crate::hex(&digest[..16]))
}

/// The form names are compared in: lower case, letters and digits only.
fn match_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn sentiment_is_the_sources_when_given_and_computed_from_the_text_otherwise() {
        // The source's label wins, with or without a score.
        assert_eq!(
            sentiment(Some("negative".to_owned()), None, None, Some("Great!")),
            (
                Some("negative".to_owned()),
                None,
                Some(SentimentOrigin::Source)
            )
        );
        // A score alone gets its label.
        assert_eq!(
            sentiment(None, Some(0.6), None, Some("meh")),
            (
                Some("positive".to_owned()),
                Some(0.6),
                Some(SentimentOrigin::Source)
            )
        );
        // Neither: computed from title and body.
        let (label, score, origin) = sentiment(None, None, Some("Late"), Some("Not good at all."));
        assert_eq!(label.as_deref(), Some("negative"));
        assert_eq!(origin, Some(SentimentOrigin::Computed));
        assert!(score.is_some_and(|s| s < -0.05), "{score:?}");
        let (label, _, _) = sentiment(None, None, None, Some("Love it, thank you 👍"));
        assert_eq!(label.as_deref(), Some("positive"));
        // No text, no sentiment.
        assert_eq!(sentiment(None, None, None, Some("  ")), (None, None, None));
        assert_eq!(sentiment(None, None, None, None), (None, None, None));
    }

    use serde_json::json;

    use super::*;

    fn row(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn defaults_match_common_headers_ignoring_case_and_punctuation() {
        let header = [
            "Record ID",
            "created_at",
            "LAST MODIFIED",
            "Customer",
            "e-mail",
            "Source",
            "Venue",
            "stars",
            "Sentiment",
            "Sentiment Score",
            "Subject",
            "Message",
            "tags",
            "Status",
            "Amount",
            "Unrelated",
        ];
        let resolved = FieldMapping::default().resolve(header);
        let fields: Vec<Option<&str>> = Column::ALL.iter().map(|&c| resolved.field(c)).collect();
        assert_eq!(
            fields,
            [
                Some("Record ID"),
                Some("created_at"),
                Some("LAST MODIFIED"),
                Some("Customer"),
                Some("e-mail"),
                Some("Source"),
                Some("Venue"),
                Some("stars"),
                Some("Sentiment"),
                Some("Sentiment Score"),
                Some("Subject"),
                Some("Message"),
                Some("tags"),
                Some("Status"),
                Some("Amount"),
            ]
        );
        assert!(resolved.unmatched().is_empty());
    }

    #[test]
    fn the_first_default_name_present_wins() {
        let resolved = FieldMapping::default().resolve(["Date", "Comment", "Created", "Feedback"]);
        assert_eq!(resolved.field(Column::CreatedAt), Some("Created"));
        assert_eq!(resolved.field(Column::Body), Some("Feedback"));
        assert_eq!(resolved.field(Column::Rating), None);
    }

    #[test]
    fn explicit_mapping_wins_and_takes_its_field_from_the_defaults() {
        let mapping: FieldMapping = toml::from_str(
            r#"
            body = "Summary"
            rating = ""
            group = "store"
            external_id = "Ticket"
            "#,
        )
        .unwrap();
        let resolved = mapping.resolve(["Summary", "Score", "Store", "Title"]);
        assert_eq!(resolved.field(Column::Body), Some("Summary"));
        // "Summary" is a default title field, but the body took it; "Title" is next in line.
        assert_eq!(resolved.field(Column::Title), Some("Title"));
        assert_eq!(resolved.field(Column::Rating), None);
        assert_eq!(resolved.field(Column::Group), Some("Store"));
        assert_eq!(
            resolved.unmatched(),
            [(Column::ExternalId, "Ticket".to_owned())]
        );
        assert_eq!(
            mapping,
            FieldMapping::default()
                .with(Column::Body, "Summary")
                .without(Column::Rating)
                .with(Column::Group, "store")
                .with(Column::ExternalId, "Ticket")
        );
    }

    #[test]
    fn unknown_columns_in_config_are_refused() {
        let err = toml::from_str::<FieldMapping>(r#"bdy = "Text""#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `bdy`"), "{err}");
    }

    #[test]
    fn a_row_maps_to_a_record_with_every_field_kept_raw() {
        let source = json!({
            "ID": "rec42",
            "Created": "2025-03-09T07:00:00.000Z",
            "Last Modified": "2025-03-10 08:00",
            "Name": " Ada ",
            "Email": "ada@example.com",
            "Channel": "email",
            "Tool": "Scheduler",
            "Rating": "4,5",
            "Sentiment": "Positive",
            "sentiment_score": 0.75,
            "Title": "",
            "Feedback": "Works well",
            "Tags": "ux; speed",
            "Status": "new",
            "Value": 120,
            "Extra": "kept"
        });
        let record = FieldMapping::default()
            .map_fields(row(source.clone()), &TimeZone::UTC)
            .unwrap();
        assert_eq!(
            record,
            FeedbackRecord {
                external_id: "rec42".to_owned(),
                created_at: Some("2025-03-09T07:00:00Z".parse().unwrap()),
                updated_at: Some("2025-03-10T08:00:00Z".parse().unwrap()),
                customer_name: Some("Ada".to_owned()),
                customer_email: Some("ada@example.com".to_owned()),
                channel: Some("email".to_owned()),
                group: Some("Scheduler".to_owned()),
                rating: Some(4.5),
                sentiment_label: Some("positive".to_owned()),
                sentiment_score: Some(0.75),
                sentiment_origin: Some(SentimentOrigin::Source),
                title: None,
                body: Some("Works well".to_owned()),
                tags: vec!["ux".to_owned(), "speed".to_owned()],
                status: Some("new".to_owned()),
                value: Some(120.0),
                raw: source.into(),
            }
        );
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let source = json!({
            "ID": "",
            "Created": "03/09/2025",
            "Rating": "five",
            "sentiment_score": "2",
        });
        let problems = FieldMapping::default()
            .map_fields(row(source), &TimeZone::UTC)
            .unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "ID (external_id): is empty",
                "Created (created_at): \"03/09/2025\" is not a date or time (expected RFC 3339 \
                 (2025-03-09T07:00:00Z, 2025-03-09T07:00:00.000+01:00), 2025-03-09, or \
                 2025-03-09 07:00[:00] in the source's zone)",
                "Rating (rating): \"five\" is not a number",
                "sentiment_score (sentiment_score): 2 is outside -1 to 1",
            ]
        );
    }

    #[test]
    fn rows_without_an_id_field_get_an_id_from_their_content() {
        let mapping = FieldMapping::default();
        let a = row(json!({"Feedback": "Slow", "Rating": "2"}));
        let id = mapping
            .map_fields(a.clone(), &TimeZone::UTC)
            .unwrap()
            .external_id;
        assert!(id.starts_with("row-") && id.len() == 36, "{id}");

        // Field order and empty fields do not change it; content does.
        let reordered = row(json!({"Rating": "2", "Notes": "", "Feedback": "Slow"}));
        assert_eq!(content_id(&reordered), id);
        let edited = row(json!({"Feedback": "Slow!", "Rating": "2"}));
        assert_ne!(content_id(&edited), id);
        // A field's name is part of the content.
        assert_ne!(
            content_id(&row(json!({"Feedback": "2", "Rating": "Slow"}))),
            id
        );
    }

    #[test]
    fn absent_fields_are_empty_not_errors() {
        let mapping = FieldMapping::default().with(Column::Rating, "Stars");
        let record = mapping
            .map_fields(row(json!({"ID": "rec1"})), &TimeZone::UTC)
            .unwrap();
        assert_eq!(record.rating, None);
        assert_eq!(record.body, None);
        assert!(record.tags.is_empty());
    }
}
