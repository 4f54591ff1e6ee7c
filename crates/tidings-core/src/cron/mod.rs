//! The cron dialect of `CRON.md`: 5 or 6 fields, names, lists, ranges, steps, `?`, `L`, `nW`,
//! `D#k`, `DL`, macros, the Vixie day-of-month/day-of-week rule, and cronie's DST rules.
//!
//! [`CronExpr`] is a parsed expression. Fire times are computed field by field on the wall
//! clock (jumping whole months, days and hours that cannot match), then turned into instants
//! with the zone's DST rules (`zoned.rs`).

mod calendar;
mod days;
mod describe;
mod field;
mod parse;
mod search;
mod zoned;

use std::fmt;
use std::str::FromStr;

pub use describe::{DayRule, JobKind};
pub use field::FieldKind;
pub use parse::CronError;
pub use zoned::{DstNote, Fire};

use calendar::Wall;
use days::DaySpec;
use field::Field;

/// A parsed cron expression. It cannot hold an expression that never fires.
#[derive(Clone, PartialEq, Eq)]
pub struct CronExpr {
    source: String,
    has_seconds_field: bool,
    seconds: u64,
    minutes: u64,
    hours: u32,
    months: u16,
    days: DaySpec,
    wildcard_job: bool,
    /// The six fields as parsed (a 5-field expression gets a second field of `0`), kept to
    /// describe the expression in words.
    fields: Box<[Field; 6]>,
}

impl CronExpr {
    /// Parses `text` as 5 fields, 6 fields (second first) or a macro.
    pub fn parse(text: &str) -> Result<CronExpr, CronError> {
        let source = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if source.is_empty() {
            return Err(CronError::Empty);
        }
        let expanded = if source.starts_with('@') {
            parse::expand_macro(&source)?
        } else {
            &source
        };
        let texts: Vec<&str> = expanded.split(' ').collect();
        let texts: [&str; 6] = match texts.len() {
            5 => ["0", texts[0], texts[1], texts[2], texts[3], texts[4]],
            6 => [texts[0], texts[1], texts[2], texts[3], texts[4], texts[5]],
            found => {
                return Err(CronError::FieldCount {
                    found,
                    expr: source,
                });
            }
        };
        let mut parsed = Vec::with_capacity(6);
        for (kind, text) in FieldKind::ALL.into_iter().zip(texts) {
            parsed.push(parse::parse_field(kind, text)?);
        }
        let fields: Box<[Field; 6]> = parsed
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("six fields were parsed"));
        let [second, minute, hour, dom, month, dow] = &*fields;
        let expr = CronExpr {
            has_seconds_field: expanded.split(' ').count() == 6,
            seconds: second.value_bits(),
            minutes: minute.value_bits(),
            hours: hour.value_bits() as u32,
            months: month.value_bits() as u16,
            days: DaySpec::new(dom, dow),
            wildcard_job: minute.starts_with_any || hour.starts_with_any,
            fields: fields.clone(),
            source,
        };
        search::check_fires(&expr)?;
        Ok(expr)
    }

    /// The expression as written (whitespace normalised).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the expression has a seconds field.
    pub fn has_seconds_field(&self) -> bool {
        self.has_seconds_field
    }

    /// Whether the DST rules treat this as a fixed-time job or a wildcard job
    /// (minute or hour field starting with `*`).
    pub fn job_kind(&self) -> JobKind {
        if self.wildcard_job {
            JobKind::Wildcard
        } else {
            JobKind::FixedTime
        }
    }

    /// Whether a day must match both day fields or either (the Vixie rule).
    pub fn day_rule(&self) -> DayRule {
        let [_, _, _, dom, _, dow] = &*self.fields;
        if dom.is_any() && dow.is_any() {
            DayRule::EveryDay
        } else if dom.starts_with_any || dow.starts_with_any {
            DayRule::Both
        } else {
            DayRule::Either
        }
    }

    /// True when the wall-clock date and time matches every field.
    pub fn matches(&self, wall: jiff::civil::DateTime) -> bool {
        let wall = Wall::from_civil(wall);
        self.seconds & (1 << wall.second) != 0
            && self.minutes & (1 << wall.minute) != 0
            && self.hours & (1 << wall.hour) != 0
            && self.months & (1 << wall.month) != 0
            && self.days.matching_days(wall.year, wall.month) & (1 << wall.day) != 0
    }

    /// The first wall-clock time at or after `start` that matches, ignoring time zones.
    pub fn next_wall_at_or_after(
        &self,
        start: jiff::civil::DateTime,
    ) -> Option<jiff::civil::DateTime> {
        let wall = self.next_wall_seconds(Wall::from_civil(start).to_seconds())?;
        Wall::from_seconds(wall).to_civil()
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronExpr({:?})", self.source)
    }
}

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronExpr::parse(s)
    }
}

impl serde::Serialize for CronExpr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for CronExpr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CronExpr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_count_is_checked() {
        assert_eq!(
            CronExpr::parse("* * * *").unwrap_err().to_string(),
            "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week), found 4 in `* * * *`"
        );
        assert_eq!(
            CronExpr::parse("0 0 0 1 1 * 2030").unwrap_err(),
            CronError::FieldCount {
                found: 7,
                expr: "0 0 0 1 1 * 2030".to_owned()
            }
        );
        assert_eq!(CronExpr::parse("   ").unwrap_err(), CronError::Empty);
    }

    #[test]
    fn whitespace_is_normalised_and_kept_as_written() {
        let expr = CronExpr::parse("  30\t4  1,15 * 5 ").unwrap();
        assert_eq!(expr.as_str(), "30 4 1,15 * 5");
        assert!(!expr.has_seconds_field());
        assert!(
            CronExpr::parse("*/5 * * * * *")
                .unwrap()
                .has_seconds_field()
        );
        assert_eq!(CronExpr::parse("@Daily").unwrap().as_str(), "@Daily");
    }

    #[test]
    fn errors_name_the_field_of_the_item() {
        let err = CronExpr::parse("0 61 * * *").unwrap_err();
        assert_eq!(err.to_string(), "hour: value 61 out of range 0-23");
        assert_eq!(err.field(), Some(FieldKind::Hour));
        let err = CronExpr::parse("61 * * * *").unwrap_err();
        assert_eq!(err.to_string(), "minute: value 61 out of range 0-59");
        let err = CronExpr::parse("61 * * * * *").unwrap_err();
        assert_eq!(err.to_string(), "second: value 61 out of range 0-59");
    }

    #[test]
    fn job_kind_follows_minute_and_hour_fields() {
        let kind = |e: &str| CronExpr::parse(e).unwrap().job_kind();
        assert_eq!(kind("30 2 * * *"), JobKind::FixedTime);
        assert_eq!(kind("0 9-18 * * 1-5"), JobKind::FixedTime);
        assert_eq!(kind("*/15 2 * * *"), JobKind::Wildcard);
        assert_eq!(kind("0 * * * *"), JobKind::Wildcard);
        assert_eq!(kind("0 */2 * * *"), JobKind::Wildcard);
        assert_eq!(kind("* 30 2 * * *"), JobKind::FixedTime);
        assert_eq!(kind("@hourly"), JobKind::Wildcard);
        assert_eq!(kind("@daily"), JobKind::FixedTime);
    }

    #[test]
    fn day_rule_is_reported() {
        let rule = |e: &str| CronExpr::parse(e).unwrap().day_rule();
        assert_eq!(rule("30 4 1,15 * 5"), DayRule::Either);
        assert_eq!(rule("0 0 */2 * 1"), DayRule::Both);
        assert_eq!(rule("0 0 13 * ?"), DayRule::Both);
        assert_eq!(rule("0 0 * * *"), DayRule::EveryDay);
        assert_eq!(rule("0 0 ? * *"), DayRule::EveryDay);
    }

    #[test]
    fn matches_checks_every_field() {
        let expr = CronExpr::parse("30 4 1,15 * 5").unwrap();
        let at = |s: &str| s.parse::<jiff::civil::DateTime>().unwrap();
        assert!(expr.matches(at("2025-06-01T04:30:00")));
        assert!(expr.matches(at("2025-06-06T04:30:00"))); // a Friday
        assert!(!expr.matches(at("2025-06-07T04:30:00")));
        assert!(!expr.matches(at("2025-06-01T04:30:01")));
        assert!(!expr.matches(at("2025-06-01T04:31:00")));
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let expr: CronExpr = serde_json::from_str("\"0 9-18 * * 1-5\"").unwrap();
        assert_eq!(serde_json::to_string(&expr).unwrap(), "\"0 9-18 * * 1-5\"");
        let err = serde_json::from_str::<CronExpr>("\"0 25 * * *\"").unwrap_err();
        assert!(err.to_string().contains("hour: value 25 out of range 0-23"));
    }
}
