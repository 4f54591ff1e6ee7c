//! Cron expressions in plain English ("At 04:30 on the 1st and 15th of the month, or on
//! Fridays"), and the two classifications users need explained: the day rule and the DST
//! job kind.

use std::fmt;

use super::CronExpr;
use super::field::{Field, Item};
use super::search::MONTH_NAMES;

/// How the DST rules treat an expression (`CRON.md`, "Time zones and DST").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Neither the minute nor the hour field starts with `*`.
    FixedTime,
    /// The minute or the hour field starts with `*`.
    Wildcard,
}

impl JobKind {
    /// A sentence saying what DST does to such a job.
    pub fn explain(self) -> &'static str {
        match self {
            JobKind::FixedTime => {
                "fixed-time job (minute and hour fields do not start with `*`): when clocks spring forward, times in the skipped stretch run once at the first minute after the jump; when clocks fall back, repeated times run once, in the first pass"
            }
            JobKind::Wildcard => {
                "wildcard job (minute or hour field starts with `*`): when clocks spring forward, times in the skipped stretch are lost; when clocks fall back, repeated times run in both passes"
            }
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobKind::FixedTime => "fixed-time",
            JobKind::Wildcard => "wildcard",
        })
    }
}

/// How the day-of-month and day-of-week fields combine (the Vixie rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRule {
    /// Both fields are `*` or `?`: every day.
    EveryDay,
    /// One field starts with `*` or `?`: a day must match both.
    Both,
    /// Both fields are restricted: a day matching either is enough.
    Either,
}

impl DayRule {
    /// A sentence saying which rule applies.
    pub fn explain(self) -> &'static str {
        match self {
            DayRule::EveryDay => "every day: day-of-month and day-of-week are both unrestricted",
            DayRule::Both => {
                "day-of-month AND day-of-week: one of the two fields starts with `*` or `?`, so a day must match both"
            }
            DayRule::Either => {
                "day-of-month OR day-of-week: both fields are restricted, so a day matching either one runs (crontab's rule)"
            }
        }
    }
}

impl CronExpr {
    /// The expression in plain English.
    pub fn describe(&self) -> String {
        let [second, minute, hour, dom, month, dow] = &*self.fields;
        let mut text = time_phrase(self.has_seconds_field, second, minute, hour);
        let days = day_phrase(dom, dow);
        if !days.is_empty() {
            text.push(' ');
            text.push_str(&days);
        }
        if !month.is_any() {
            text.push_str(" in ");
            text.push_str(&join_and(
                &month.items.iter().map(month_item).collect::<Vec<_>>(),
            ));
        }
        text
    }
}

fn values(field: &Field) -> Option<Vec<u8>> {
    field
        .items
        .iter()
        .map(|item| match item {
            Item::Value(v) => Some(*v),
            _ => None,
        })
        .collect()
}

fn time_phrase(has_seconds: bool, second: &Field, minute: &Field, hour: &Field) -> String {
    if let (Some(seconds), Some(minutes), Some(hours)) =
        (values(second), values(minute), values(hour))
        && seconds.len() == 1
        && minutes.len() * hours.len() <= 6
    {
        let mut times = Vec::new();
        for h in &hours {
            for m in &minutes {
                times.push(if seconds[0] == 0 {
                    format!("{h:02}:{m:02}")
                } else {
                    format!("{h:02}:{m:02}:{:02}", seconds[0])
                });
            }
        }
        return format!("At {}", join_and(&times));
    }
    let mut parts = Vec::new();
    let second_is_zero = values(second).is_some_and(|v| v == [0]);
    let counts_seconds = has_seconds && !second_is_zero;
    if counts_seconds {
        parts.push(unit_phrase(second, "second"));
        if !minute.is_any() {
            parts.push(unit_phrase(minute, "minute"));
        }
    } else {
        parts.push(unit_phrase(minute, "minute"));
    }
    if !hour.is_any() {
        parts.push(format!("past {}", unit_phrase(hour, "hour")));
    } else if !minute.starts_with_any && !counts_seconds {
        parts.push("past every hour".to_owned());
    }
    let text = parts.join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// "every minute", "every 5 minutes", "at minute 30", "minutes 0 and 30", "every hour from 9
/// through 18", "hour 2", …
fn unit_phrase(field: &Field, unit: &str) -> String {
    if field.is_any() {
        return format!("every {unit}");
    }
    if let Some(values) = values(field) {
        let listed = values.iter().map(u8::to_string).collect::<Vec<_>>();
        let plural = if values.len() == 1 { "" } else { "s" };
        let at = if unit == "hour" { "" } else { "at " };
        return format!("{at}{unit}{plural} {}", join_and(&listed));
    }
    let items: Vec<String> = field
        .items
        .iter()
        .map(|item| match *item {
            Item::Any => format!("every {unit}"),
            Item::Value(v) => format!("{unit} {v}"),
            Item::Range(a, b) => format!("every {unit} from {a} through {b}"),
            Item::Step {
                step,
                from_any: true,
                ..
            } => format!("every {}", nth_unit(step, unit)),
            Item::Step {
                start, end, step, ..
            } => format!("every {} from {start} through {end}", nth_unit(step, unit)),
            _ => String::new(),
        })
        .collect();
    join_and(&items)
}

fn nth_unit(step: u8, unit: &str) -> String {
    if step == 1 {
        unit.to_owned()
    } else if unit == "hour" {
        format!("{} hour", ordinal(step))
    } else {
        format!("{step} {unit}s")
    }
}

fn day_phrase(dom: &Field, dow: &Field) -> String {
    let dom_text = || {
        let values: Vec<u8> = dom
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Value(v) => Some(*v),
                _ => None,
            })
            .collect();
        let mut phrases = Vec::new();
        if !values.is_empty() {
            let ordinals: Vec<String> = values.iter().map(|&v| ordinal(v)).collect();
            phrases.push(format!("the {}", join_and(&ordinals)));
        }
        for item in &dom.items {
            match *item {
                Item::Value(_) => {}
                Item::Any => phrases.push("every day".to_owned()),
                Item::Range(a, b) => {
                    phrases.push(format!("the {} through the {}", ordinal(a), ordinal(b)));
                }
                Item::Step {
                    step,
                    from_any: true,
                    ..
                } => phrases.push(format!("every {} day", ordinal(step))),
                Item::Step {
                    start, end, step, ..
                } => phrases.push(format!(
                    "every {} day from the {} through the {}",
                    ordinal(step),
                    ordinal(start),
                    ordinal(end)
                )),
                Item::LastDayOfMonth => phrases.push("the last day".to_owned()),
                Item::NearestWeekday(n) => {
                    phrases.push(format!("the weekday nearest the {}", ordinal(n)));
                }
                Item::NthWeekday { .. } | Item::LastWeekday(_) => {}
            }
        }
        format!("on {} of the month", join_and(&phrases))
    };
    let dow_text = || {
        let phrases: Vec<String> = dow
            .items
            .iter()
            .map(|item| match *item {
                Item::Any => "every day of the week".to_owned(),
                Item::Value(d) => format!("{}s", weekday_name(d)),
                Item::Range(a, b) => {
                    format!("{} through {}", weekday_name(a), weekday_name(b % 7))
                }
                Item::Step {
                    step,
                    from_any: true,
                    ..
                } => format!("every {} day of the week from Sunday", ordinal(step)),
                Item::Step {
                    start, end, step, ..
                } => format!(
                    "every {} day of the week from {} through {}",
                    ordinal(step),
                    weekday_name(start),
                    weekday_name(end % 7)
                ),
                Item::NthWeekday { weekday, nth } => format!(
                    "the {} {} of the month",
                    ordinal(nth),
                    weekday_name(weekday)
                ),
                Item::LastWeekday(weekday) => {
                    format!("the last {} of the month", weekday_name(weekday))
                }
                Item::LastDayOfMonth | Item::NearestWeekday(_) => String::new(),
            })
            .collect();
        format!("on {}", join_and(&phrases))
    };
    match (dom.is_any(), dow.is_any()) {
        (true, true) => String::new(),
        (true, false) => dow_text(),
        (false, true) => dom_text(),
        (false, false) if dom.starts_with_any || dow.starts_with_any => {
            format!("{}, but only {}", dom_text(), dow_text())
        }
        (false, false) => format!("{}, or {}", dom_text(), dow_text()),
    }
}

fn month_item(item: &Item) -> String {
    let name = |m: u8| MONTH_NAMES[usize::from(m.clamp(1, 12) - 1)];
    match *item {
        Item::Value(m) => name(m).to_owned(),
        Item::Range(a, b) => format!("{} through {}", name(a), name(b)),
        Item::Step {
            step,
            from_any: true,
            ..
        } => format!("every {} month", ordinal(step)),
        Item::Step {
            start, end, step, ..
        } => format!(
            "every {} month from {} through {}",
            ordinal(step),
            name(start),
            name(end)
        ),
        _ => "every month".to_owned(),
    }
}

fn weekday_name(day: u8) -> &'static str {
    [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ][usize::from(day % 7)]
}

fn ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(expr: &str) -> String {
        CronExpr::parse(expr).unwrap().describe()
    }

    #[test]
    fn describes_common_expressions() {
        assert_eq!(
            describe("30 4 1,15 * 5"),
            "At 04:30 on the 1st and 15th of the month, or on Fridays"
        );
        assert_eq!(describe("30 2 * * *"), "At 02:30");
        assert_eq!(describe("0 9,17 * * *"), "At 09:00 and 17:00");
        assert_eq!(describe("15 30 2 * * *"), "At 02:30:15");
        assert_eq!(describe("*/5 * * * *"), "Every 5 minutes");
        assert_eq!(describe("* * * * *"), "Every minute");
        assert_eq!(describe("* * * * * *"), "Every second");
        assert_eq!(describe("*/10 * * * * *"), "Every 10 seconds");
        assert_eq!(
            describe("0 9-18 * * 1-5"),
            "At minute 0 past every hour from 9 through 18 on Monday through Friday"
        );
        assert_eq!(describe("59 23 * * 0"), "At 23:59 on Sundays");
        assert_eq!(describe("*/15 2 * * *"), "Every 15 minutes past hour 2");
        assert_eq!(describe("0 */2 * * *"), "At minute 0 past every 2nd hour");
        assert_eq!(describe("@hourly"), "At minute 0 past every hour");
        assert_eq!(
            describe("0 0 L * *"),
            "At 00:00 on the last day of the month"
        );
        assert_eq!(
            describe("0 0 29 2 *"),
            "At 00:00 on the 29th of the month in February"
        );
        assert_eq!(
            describe("0 0 15W * *"),
            "At 00:00 on the weekday nearest the 15th of the month"
        );
        assert_eq!(
            describe("0 12 * * 5#2"),
            "At 12:00 on the 2nd Friday of the month"
        );
        assert_eq!(
            describe("0 12 * * 5L"),
            "At 12:00 on the last Friday of the month"
        );
        assert_eq!(
            describe("0 8 * * fri-sun"),
            "At 08:00 on Friday through Sunday"
        );
        assert_eq!(
            describe("0 0 */2 * 1"),
            "At 00:00 on every 2nd day of the month, but only on Mondays"
        );
        assert_eq!(
            describe("0 6 1 jan,jul *"),
            "At 06:00 on the 1st of the month in January and July"
        );
        assert_eq!(
            describe("0 0 1 */3 *"),
            "At 00:00 on the 1st of the month in every 3rd month"
        );
        assert_eq!(
            describe("*/20 30 2 * * *"),
            "Every 20 seconds at minute 30 past hour 2"
        );
        assert_eq!(
            describe("0 0,30 8-10 * * *"),
            "At minutes 0 and 30 past every hour from 8 through 10"
        );
    }

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31]
            .map(ordinal)
            .to_vec();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"
            ]
        );
    }
}
