//! Airtable's answers: a page of records, an error body, and one record as a
//! [`FeedbackRecord`].

use serde::Deserialize;
use serde_json::{Map, Value};
use tidings_core::Zone;
use tidings_store::FeedbackRecord;

use super::AirtableSource;
use super::client::BadRecord;
use crate::cell;
use crate::mapping::{Column, FieldMapping};

/// One page of `GET /v0/{base}/{table}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    pub(crate) records: Vec<RawRecord>,
    #[serde(default)]
    pub(crate) offset: Option<String>,
}

/// A record as Airtable sends it; empty cells are absent from `fields`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawRecord {
    pub(crate) id: String,
    #[serde(rename = "createdTime", default)]
    pub(crate) created_time: Option<String>,
    #[serde(default)]
    pub(crate) fields: Map<String, Value>,
}

/// Airtable's error body, in either of its shapes: `{"error": {"type", "message"}}`,
/// `{"error": "NOT_FOUND"}`, or `{"errors": [{"error", "message"}]}` (rate limits).
#[derive(Debug, Default)]
pub(crate) struct ErrorBody {
    pub(crate) kind: String,
    pub(crate) message: String,
}

impl ErrorBody {
    pub(crate) fn parse(body: &[u8]) -> ErrorBody {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return ErrorBody::default();
        };
        let error = value
            .get("error")
            .or_else(|| value.get("errors").and_then(|errors| errors.get(0)));
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        match error {
            Some(Value::String(kind)) => ErrorBody {
                kind: kind.clone(),
                message: text(value.get("message")),
            },
            Some(object) => ErrorBody {
                kind: text(object.get("type").or_else(|| object.get("error"))),
                message: text(object.get("message")),
            },
            None => ErrorBody::default(),
        }
    }

    /// `: KIND: message`, or nothing when the body said nothing.
    pub(crate) fn summary(&self) -> String {
        match (self.kind.is_empty(), self.message.is_empty()) {
            (true, true) => String::new(),
            (false, true) => format!(": {}", self.kind),
            (true, false) => format!(": {}", self.message),
            (false, false) => format!(": {}: {}", self.kind, self.message),
        }
    }

    /// The summary, or the start of a body that was not Airtable's JSON.
    pub(crate) fn summary_or(&self, body: &[u8]) -> String {
        let summary = self.summary();
        if let Some(summary) = summary.strip_prefix(": ") {
            return summary.to_owned();
        }
        let text = String::from_utf8_lossy(body);
        cell::shown(text.chars().take(200).collect::<String>().trim())
    }
}

/// What to change in the configuration after a 422 of this kind.
pub(crate) fn fix_for(kind: &str) -> &'static str {
    match kind {
        "INVALID_FILTER_BY_FORMULA" => {
            "fix `filter_formula` in the source's configuration (field names go in braces: \
             YEAR({Created})=2025)"
        }
        "UNKNOWN_FIELD_NAME" => {
            "a name in `fields` (or in `mapping`) is not a field of the table; check its spelling \
             and case"
        }
        "VIEW_NAME_NOT_FOUND" => "`view` names no view of the table",
        _ => "check `filter_formula`, `view`, `fields` and `mapping` in the source's configuration",
    }
}

/// Turns Airtable records into feedback records with a source's mapping.
pub(crate) struct RecordMapper {
    mapping: FieldMapping,
    /// Whether the configuration names the field holding the id; otherwise the record id is.
    configured_id: bool,
    zone: Zone,
}

impl RecordMapper {
    pub(crate) fn new(source: &AirtableSource) -> RecordMapper {
        // With no field names, only configured (non-empty) columns resolve to a field.
        let configured_id = source
            .mapping
            .resolve(std::iter::empty())
            .field(Column::ExternalId)
            .is_some();
        let mapping = if configured_id {
            source.mapping.clone()
        } else {
            source.mapping.clone().without(Column::ExternalId)
        };
        RecordMapper {
            mapping,
            configured_id,
            zone: source.zone.clone(),
        }
    }

    pub(crate) fn map(&self, record: RawRecord) -> Result<FeedbackRecord, BadRecord> {
        let RawRecord {
            id,
            created_time,
            fields,
        } = record;
        match self.mapping.map_fields(fields, self.zone.tz()) {
            Ok(mut mapped) => {
                if !self.configured_id {
                    mapped.external_id.clone_from(&id);
                }
                if mapped.created_at.is_none() {
                    mapped.created_at = created_time.and_then(|t| t.parse().ok());
                }
                Ok(mapped)
            }
            Err(problems) => Err(BadRecord { id, problems }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: Value) -> RawRecord {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_record_id_is_the_id_and_created_time_the_fallback() {
        let source = AirtableSource::new("appX", "T");
        let mapper = RecordMapper::new(&source);
        let record = mapper
            .map(raw(json!({
                "id": "rec1",
                "createdTime": "2025-01-02T03:04:05.000Z",
                "fields": {"ID": "not this", "Feedback": "Slow"}
            })))
            .unwrap();
        assert_eq!(record.external_id, "rec1");
        assert_eq!(
            record.created_at,
            Some("2025-01-02T03:04:05Z".parse().unwrap())
        );
        assert_eq!(record.body.as_deref(), Some("Slow"));
    }

    #[test]
    fn a_configured_id_field_wins() {
        let mut source = AirtableSource::new("appX", "T");
        source.mapping = FieldMapping::default().with(Column::ExternalId, "Feedback ID");
        let mapper = RecordMapper::new(&source);
        let record = mapper
            .map(raw(json!({"id": "rec1", "fields": {"Feedback ID": 42}})))
            .unwrap();
        assert_eq!(record.external_id, "42");
        let bad = mapper
            .map(raw(json!({"id": "rec2", "fields": {}})))
            .unwrap_err();
        assert_eq!(bad.id, "rec2");
        assert_eq!(bad.problems.len(), 1);
    }

    #[test]
    fn error_bodies_in_every_shape() {
        let e =
            ErrorBody::parse(br#"{"error":{"type":"INVALID_FILTER_BY_FORMULA","message":"bad"}}"#);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            ("INVALID_FILTER_BY_FORMULA", "bad")
        );
        let e = ErrorBody::parse(br#"{"error":"NOT_FOUND"}"#);
        assert_eq!(e.kind, "NOT_FOUND");
        let e =
            ErrorBody::parse(br#"{"errors":[{"error":"RATE_LIMIT_REACHED","message":"slow"}]}"#);
        assert_eq!(e.summary(), ": RATE_LIMIT_REACHED: slow");
        assert_eq!(
            ErrorBody::parse(b"<html>").summary_or(b"<html>"),
            "\"<html>\""
        );
    }
}
