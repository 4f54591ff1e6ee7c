//! One cell's value as a column value: text, numbers, timestamps and tags, from the shapes sources
//! give them in (CSV cells are always strings; Airtable gives strings, numbers, arrays and
//! collaborator objects). Empty means absent: `null`, `""` and whitespace-only cells are `None`.
//!
//! Each parser returns a message fit to show a user next to the field's name, never a panic.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

/// The forms [`parse_timestamp`] accepts, for error messages.
const TIMESTAMP_FORMS: &str = "expected RFC 3339 (2025-03-09T07:00:00Z, 2025-03-09T07:00:00.000+01:00), \
     2025-03-09, or 2025-03-09 07:00[:00] in the source's zone";

/// Text as given, trimmed. Numbers and booleans are written out; arrays (Airtable lookups and
/// multiple selects) are joined with `", "`; objects (Airtable collaborators) give their `prefer`
/// key, then `name`, then `email`.
pub(crate) fn text(value: &Value, prefer: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(non_empty(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                if let Some(part) = text(item, prefer)? {
                    parts.push(part);
                }
            }
            Ok((!parts.is_empty()).then(|| parts.join(", ")))
        }
        Value::Object(object) => [prefer, "name", "email"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .map(non_empty)
            .ok_or_else(|| "expected text, found an object without a name".to_owned()),
    }
}

/// A number: a JSON number, or text that [`parse_number`] accepts.
pub(crate) fn number(value: &Value) -> Result<Option<f64>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("{n} is not a finite number")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_number(s).map(Some),
        other => Err(format!("expected a number, found {}", kind(other))),
    }
}

/// Parses a number written by a person or a spreadsheet: `4`, `-0.5`, `4.5`, `1e3`, and the
/// decimal comma of European locales, `4,5`.
///
/// A comma is taken as the decimal separator only when it cannot be a thousands separator: one
/// comma, no dot, and not exactly three digits after it. `4,500` is rejected as ambiguous (4.5 in
/// Berlin, 4500 in Boston) rather than guessed, and so are `1,234.5` and `1.234,5`: a wrong number
/// imported silently is worse than a bad row with its line number.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let commas = s.matches(',').count();
    let normalized;
    let candidate = if commas == 0 {
        s
    } else {
        let decimals = s.rsplit(',').next().map_or(0, str::len);
        if commas > 1 || s.contains('.') {
            return Err(format!(
                "{} is not a number (thousands separators are not accepted; write 1234.5)",
                shown(text)
            ));
        }
        if decimals == 3 {
            return Err(format!(
                "{} is ambiguous: a decimal comma or a thousands separator? Write {} or {}",
                shown(text),
                s.replace(',', "."),
                s.replace(',', "")
            ));
        }
        normalized = s.replace(',', ".");
        &normalized
    };
    // Rust also parses `inf`, `NaN` and `infinity`; those are not numbers a person writes.
    let plain = candidate
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    match candidate.parse::<f64>() {
        Ok(n) if plain && n.is_finite() => Ok(n),
        _ => Err(format!("{} is not a number", shown(text))),
    }
}

/// A timestamp: text that [`parse_timestamp`] accepts.
pub(crate) fn timestamp(value: &Value, zone: &TimeZone) -> Result<Option<Timestamp>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_timestamp(s, zone).map(Some),
        other => Err(format!(
            "expected a date or time as text, found {}",
            kind(other)
        )),
    }
}

/// Parses a point in time in one of the forms sources write:
///
/// - RFC 3339 with an offset or `Z`, with or without fractional seconds (Airtable gives
///   `2025-03-09T07:00:00.000Z`); a space may stand for the `T`;
/// - a date, `2025-03-09`, taken as midnight in `zone`;
/// - a civil date and time without an offset, `2025-03-09 07:00` or `2025-03-09T07:00:00`, taken
///   in `zone`.
///
/// A civil time that a DST change skips or repeats in `zone` resolves the way RFC 5545 and
/// Temporal do ("compatible"): a skipped time moves forward by the gap, a repeated one takes the
/// earlier instant. Day-first and month-first forms such as `03/09/2025` are rejected: they are
/// ambiguous.
pub fn parse_timestamp(text: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    let s = text.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    // Only the plain forms: jiff's civil parsers would also take an offset and drop it.
    let bytes = s.as_bytes();
    let looks_civil = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && s.get(10..)
            .is_some_and(|time| !time.contains(['+', '-', 'Z', 'z', '[']));
    let civil = if !looks_civil {
        None
    } else if s.len() == 10 {
        s.parse::<Date>().ok().map(DateTime::from)
    } else {
        s.parse::<DateTime>().ok()
    };
    match civil {
        Some(dt) => zone
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|e| format!("{} is out of range: {e}", shown(text))),
        None => Err(format!(
            "{} is not a date or time ({TIMESTAMP_FORMS})",
            shown(text)
        )),
    }
}

/// Tags: a JSON array (Airtable's multiple select, or `["a","b"]` written in a CSV cell), or text
/// separated by commas or semicolons. Tags are trimmed, empty ones dropped, repeats removed
/// (the first spelling is kept), order kept.
pub(crate) fn tags(value: &Value) -> Result<Vec<String>, String> {
    let mut tags = Vec::new();
    match value {
        Value::Null => {}
        Value::String(s) => {
            let s = s.trim();
            if s.starts_with('[') {
                let items: Vec<Value> = serde_json::from_str(s).map_err(|e| {
                    format!("{} looks like a JSON array but is not one: {e}", shown(s))
                })?;
                push_tag_items(&items, &mut tags)?;
            } else {
                for part in s.split([',', ';']) {
                    push_tag(part, &mut tags);
                }
            }
        }
        Value::Array(items) => push_tag_items(items, &mut tags)?,
        Value::Number(n) => push_tag(&n.to_string(), &mut tags),
        other => return Err(format!("expected tags, found {}", kind(other))),
    }
    Ok(tags)
}

fn push_tag_items(items: &[Value], tags: &mut Vec<String>) -> Result<(), String> {
    for item in items {
        if let Some(tag) = text(item, "name")? {
            push_tag(&tag, tags);
        }
    }
    Ok(())
}

fn push_tag(tag: &str, tags: &mut Vec<String>) {
    let tag = tag.trim();
    if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
        tags.push(tag.to_owned());
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value quoted for an error message, cut short so one long cell cannot flood a report.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("\"{}…\"", &text[..end]),
        None => format!("\"{text}\""),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_in_the_forms_people_write() {
        assert_eq!(parse_number("4"), Ok(4.0));
        assert_eq!(parse_number(" 4.5 "), Ok(4.5));
        assert_eq!(parse_number("-0.25"), Ok(-0.25));
        assert_eq!(parse_number("4,5"), Ok(4.5));
        assert_eq!(parse_number("4,75"), Ok(4.75));
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(
            parse_number("4,500"),
            Err("\"4,500\" is ambiguous: a decimal comma or a thousands separator? Write 4.500 or 4500".to_owned())
        );
        assert!(parse_number("1,234.5").is_err());
        assert!(parse_number("1.234,5").is_err());
        assert!(parse_number("1,2,3").is_err());
        assert_eq!(
            parse_number("abc"),
            Err("\"abc\" is not a number".to_owned())
        );
        assert!(parse_number("NaN").is_err());
        assert!(parse_number("inf").is_err());
        assert!(parse_number("4 stars").is_err());
    }

    #[test]
    fn number_cells_accept_json_numbers_and_treat_empty_as_absent() {
        assert_eq!(number(&json!(3)), Ok(Some(3.0)));
        assert_eq!(number(&json!("  ")), Ok(None));
        assert_eq!(number(&Value::Null), Ok(None));
        assert_eq!(
            number(&json!(true)),
            Err("expected a number, found true/false".to_owned())
        );
    }

    #[test]
    fn timestamps_in_each_accepted_form() {
        let utc = TimeZone::UTC;
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let expected = ts("2025-03-09T07:00:00Z");
        for form in [
            "2025-03-09T07:00:00Z",
            "2025-03-09T08:00:00+01:00",
            "2025-03-09T07:00:00.000Z",
            "2025-03-09 07:00:00Z",
            "2025-03-09 07:00",
            "2025-03-09 07:00:00",
            "2025-03-09T07:00",
            " 2025-03-09T07:00:00 ",
        ] {
            assert_eq!(parse_timestamp(form, &utc), Ok(expected), "{form}");
        }
        assert_eq!(
            parse_timestamp("2025-03-09T07:00:00.123Z", &utc),
            Ok(ts("2025-03-09T07:00:00.123Z"))
        );
        assert_eq!(
            parse_timestamp("2025-03-09", &utc),
            Ok(ts("2025-03-09T00:00:00Z"))
        );
        // Civil forms are read in the source's zone; forms with an offset are not.
        assert_eq!(
            parse_timestamp("2025-03-09", &berlin),
            Ok(ts("2025-03-08T23:00:00Z"))
        );
        assert_eq!(
            parse_timestamp("2025-07-01 09:30", &berlin),
            Ok(ts("2025-07-01T07:30:00Z"))
        );
        assert_eq!(
            parse_timestamp("2025-03-09T07:00:00Z", &berlin),
            Ok(expected)
        );
    }

    #[test]
    fn timestamps_in_a_dst_gap_move_forward() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 02:30 does not exist on 2025-03-30 in Berlin: it becomes 03:30 CEST.
        assert_eq!(
            parse_timestamp("2025-03-30 02:30", &berlin),
            Ok(ts("2025-03-30T01:30:00Z"))
        );
    }

    #[test]
    fn ambiguous_and_malformed_timestamps_are_rejected() {
        let utc = TimeZone::UTC;
        for bad in [
            "03/09/2025",
            "09.03.2025",
            "yesterday",
            "2025-13-01",
            "2025-02-30 10:00",
        ] {
            let err = parse_timestamp(bad, &utc).unwrap_err();
            assert!(err.contains("is not a date or time"), "{bad}: {err}");
        }
        assert_eq!(
            timestamp(&json!(1_741_503_600), &utc),
            Err("expected a date or time as text, found a number".to_owned())
        );
        assert_eq!(timestamp(&json!(""), &utc), Ok(None));
    }

    #[test]
    fn tags_from_lists_and_separated_text() {
        assert_eq!(
            tags(&json!("billing, ux;  mobile")).unwrap(),
            ["billing", "ux", "mobile"]
        );
        assert_eq!(tags(&json!(r#"["a b", "c"]"#)).unwrap(), ["a b", "c"]);
        assert_eq!(tags(&json!(["x", "y", "x", ""])).unwrap(), ["x", "y"]);
        assert_eq!(tags(&json!(" , ;")).unwrap(), Vec::<String>::new());
        assert_eq!(tags(&Value::Null).unwrap(), Vec::<String>::new());
        assert!(
            tags(&json!("[broken"))
                .unwrap_err()
                .contains("looks like a JSON array")
        );
    }

    #[test]
    fn text_from_airtable_shapes() {
        assert_eq!(text(&json!("  hi "), "name"), Ok(Some("hi".to_owned())));
        assert_eq!(text(&json!(" "), "name"), Ok(None));
        assert_eq!(text(&json!(42), "name"), Ok(Some("42".to_owned())));
        assert_eq!(
            text(&json!(["a", "b"]), "name"),
            Ok(Some("a, b".to_owned()))
        );
        let collaborator = json!({"id": "usr1", "email": "ada@example.com", "name": "Ada"});
        assert_eq!(text(&collaborator, "name"), Ok(Some("Ada".to_owned())));
        assert_eq!(
            text(&collaborator, "email"),
            Ok(Some("ada@example.com".to_owned()))
        );
        assert!(text(&json!({"id": 1}), "name").is_err());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(100);
        assert_eq!(shown(&long), format!("\"{}…\"", "x".repeat(40)));
    }
}
