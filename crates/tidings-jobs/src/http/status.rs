//! `expected_status`: which response statuses count as success. Written as codes (`204`,
//! `"204"`), classes (`"2xx"`) or inclusive ranges (`"200-299"`); one of them or a list.

use std::fmt;

use reqwest::StatusCode;

/// The statuses a call expects; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedStatus {
    ranges: Vec<StatusRange>,
}

/// An inclusive range of codes, shown as the user wrote it (normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StatusRange {
    low: u16,
    high: u16,
}

impl ExpectedStatus {
    /// Any 2xx: the default.
    pub(crate) fn success() -> ExpectedStatus {
        ExpectedStatus {
            ranges: vec![StatusRange {
                low: 200,
                high: 299,
            }],
        }
    }

    /// Parses a code, class or range, or a non-empty list of them.
    pub(crate) fn parse(value: &serde_json::Value) -> Result<ExpectedStatus, String> {
        let items = match value {
            serde_json::Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        if items.is_empty() {
            return Err("the list is empty; give at least one status, class or range".to_owned());
        }
        let ranges = items
            .iter()
            .map(StatusRange::parse)
            .collect::<Result<_, _>>()?;
        Ok(ExpectedStatus { ranges })
    }

    pub(crate) fn contains(&self, status: StatusCode) -> bool {
        let code = status.as_u16();
        self.ranges.iter().any(|r| (r.low..=r.high).contains(&code))
    }
}

impl StatusRange {
    fn parse(item: &serde_json::Value) -> Result<StatusRange, String> {
        let invalid = || {
            format!(
                "{item} is not a status code (100–599), a class like \"2xx\" or a range like \
                 \"200-204\""
            )
        };
        let code = |text: &str| {
            text.trim()
                .parse::<u16>()
                .ok()
                .filter(|code| (100..=599).contains(code))
        };
        let range = match item {
            serde_json::Value::Number(number) => {
                let code = number
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|code| (100..=599).contains(code))
                    .ok_or_else(invalid)?;
                StatusRange {
                    low: code,
                    high: code,
                }
            }
            serde_json::Value::String(text) => {
                let text = text.trim();
                let lower = text.to_ascii_lowercase();
                if let Some(class) = lower.strip_suffix("xx").and_then(|c| c.parse::<u16>().ok()) {
                    if !(1..=5).contains(&class) || lower.len() != 3 {
                        return Err(invalid());
                    }
                    StatusRange {
                        low: class * 100,
                        high: class * 100 + 99,
                    }
                } else if let Some((low, high)) = text.split_once('-') {
                    let (low, high) = code(low).zip(code(high)).ok_or_else(invalid)?;
                    if low > high {
                        return Err(format!("{item}: the range ends before it starts"));
                    }
                    StatusRange { low, high }
                } else {
                    let code = code(text).ok_or_else(invalid)?;
                    StatusRange {
                        low: code,
                        high: code,
                    }
                }
            }
            _ => return Err(invalid()),
        };
        Ok(range)
    }
}

impl fmt::Display for ExpectedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{range}")?;
        }
        Ok(())
    }
}

impl fmt::Display for StatusRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else if self.low.is_multiple_of(100) && self.high == self.low + 99 {
            write!(f, "{}xx", self.low / 100)
        } else {
            write!(f, "{}-{}", self.low, self.high)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn reads_codes_classes_and_ranges() {
        let expected = ExpectedStatus::parse(&json!([204, "3XX", "410-412", " 418 "])).unwrap();
        assert_eq!(expected.to_string(), "204, 3xx, 410-412, 418");
        for code in [204, 300, 399, 410, 411, 412, 418] {
            assert!(expected.contains(status(code)), "{code}");
        }
        for code in [200, 205, 409, 413, 500] {
            assert!(!expected.contains(status(code)), "{code}");
        }
    }

    #[test]
    fn a_single_value_needs_no_list() {
        assert_eq!(
            ExpectedStatus::parse(&json!("2xx")),
            Ok(ExpectedStatus::success())
        );
        assert_eq!(ExpectedStatus::success().to_string(), "2xx");
    }

    #[test]
    fn refuses_what_is_not_a_status() {
        for bad in [
            json!([]),
            json!(99),
            json!(600),
            json!(-200),
            json!("6xx"),
            json!("0xx"),
            json!("22xx"),
            json!("ok"),
            json!("299-200"),
            json!(true),
            json!([200, null]),
        ] {
            assert!(ExpectedStatus::parse(&bad).is_err(), "{bad} was accepted");
        }
    }
}
