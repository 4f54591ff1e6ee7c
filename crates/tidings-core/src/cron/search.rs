//! Finding the next matching wall-clock time, field by field.
//!
//! The search never steps through minutes: a month that cannot match is skipped whole, a day
//! is found with bit arithmetic on the month's matching days, and hours, minutes and seconds
//! are each the next set bit. `0 0 29 2 *` therefore costs one step per year, not one per
//! minute.

use super::calendar::{Wall, days_in_month};
use super::{CronError, CronExpr};

/// The last year jiff can represent; searches give up beyond it.
const MAX_YEAR: i32 = 9999;

/// The smallest set bit of `bits` at or above `from`, if any.
fn next_bit(bits: u64, from: u32) -> Option<u8> {
    if from >= 64 {
        return None;
    }
    let above = bits & (u64::MAX << from);
    (above != 0).then(|| above.trailing_zeros() as u8)
}

impl CronExpr {
    /// The first matching wall time at or after `start` (both in wall seconds).
    pub(crate) fn next_wall_seconds(&self, start: i64) -> Option<i64> {
        let Wall {
            mut year,
            mut month,
            mut day,
            mut hour,
            mut minute,
            mut second,
        } = Wall::from_seconds(start);
        // Each step either accepts the current value of a field, or moves that field to its
        // next match (zeroing the fields below it), or carries into the field above it and
        // starts over. A carry past the end of a range (hour 24, day 32, month 13) is
        // caught by the next round.
        loop {
            if year > MAX_YEAR {
                return None;
            }
            match next_bit(u64::from(self.months), u32::from(month)) {
                None => {
                    (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0);
                    continue;
                }
                Some(m) if m != month => (month, day, hour, minute, second) = (m, 1, 0, 0, 0),
                Some(_) => {}
            }
            let days = self.days.matching_days(year, month);
            match next_bit(u64::from(days), u32::from(day)) {
                None => {
                    (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0);
                    continue;
                }
                Some(d) if d != day => (day, hour, minute, second) = (d, 0, 0, 0),
                Some(_) => {}
            }
            match next_bit(u64::from(self.hours), u32::from(hour)) {
                None => {
                    (day, hour, minute, second) = (day + 1, 0, 0, 0);
                    if day > days_in_month(year, month) {
                        (month, day) = (month + 1, 1);
                    }
                    continue;
                }
                Some(h) if h != hour => (hour, minute, second) = (h, 0, 0),
                Some(_) => {}
            }
            match next_bit(self.minutes, u32::from(minute)) {
                None => {
                    (hour, minute, second) = (hour + 1, 0, 0);
                    continue;
                }
                Some(m) if m != minute => (minute, second) = (m, 0),
                Some(_) => {}
            }
            match next_bit(self.seconds, u32::from(second)) {
                None => {
                    (minute, second) = (minute + 1, 0);
                    continue;
                }
                Some(s) => second = s,
            }
            let wall = Wall {
                year,
                month,
                day,
                hour,
                minute,
                second,
            };
            return Some(wall.to_seconds());
        }
    }
}

/// Rejects an expression that matches no day, ever. The Gregorian calendar repeats every 400
/// years, weekdays included, so one 400-year cycle is proof.
pub(crate) fn check_fires(expr: &CronExpr) -> Result<(), CronError> {
    let start = Wall {
        year: 2000,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };
    match expr.next_wall_seconds(start.to_seconds()) {
        Some(found) if Wall::from_seconds(found).year < 2400 => Ok(()),
        _ => Err(CronError::NeverFires {
            expr: expr.source.clone(),
            reason: never_fires_reason(expr),
        }),
    }
}

/// Why no day matches, in the user's terms.
fn never_fires_reason(expr: &CronExpr) -> String {
    let dom = &expr.fields[3];
    let months: Vec<u8> = (1..=12).filter(|m| expr.months & (1 << m) != 0).collect();
    let names = months
        .iter()
        .map(|&m| MONTH_NAMES[usize::from(m - 1)])
        .collect::<Vec<_>>();
    let in_months = if months.len() == 12 {
        "in any month".to_owned()
    } else {
        format!("in {}", join_or(&names))
    };
    let longest = months
        .iter()
        .map(|&m| days_in_month(2000, m))
        .max()
        .unwrap_or(31);
    let only_plain_days = dom
        .items
        .iter()
        .all(|item| !matches!(item, super::field::Item::LastDayOfMonth));
    if only_plain_days && !dom.starts_with_any {
        return format!(
            "day-of-month `{}` has no day that exists {in_months} (the longest has {longest} days)",
            field_text(expr, 3),
        );
    }
    format!(
        "no day matches both day-of-month `{}` and day-of-week `{}` {in_months}",
        field_text(expr, 3),
        field_text(expr, 5),
    )
}

/// The text of field `index` of the six, as the user wrote it.
fn field_text(expr: &CronExpr, index: usize) -> String {
    let texts: Vec<&str> = expr.source.split(' ').collect();
    match texts.len() {
        6 => texts[index].to_owned(),
        5 => texts[index - 1].to_owned(),
        _ => String::new(),
    }
}

pub(crate) const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(expr: &str, from: &str) -> String {
        let expr = CronExpr::parse(expr).unwrap();
        let from = from.parse::<jiff::civil::DateTime>().unwrap();
        expr.next_wall_at_or_after(from).unwrap().to_string()
    }

    #[test]
    fn next_wall_field_by_field() {
        assert_eq!(
            next("*/5 * * * *", "2025-06-01T00:00:00"),
            "2025-06-01T00:00:00"
        );
        assert_eq!(
            next("*/5 * * * *", "2025-06-01T00:00:01"),
            "2025-06-01T00:05:00"
        );
        assert_eq!(
            next("*/5 * * * *", "2025-06-01T23:59:00"),
            "2025-06-02T00:00:00"
        );
        assert_eq!(
            next("0 9-18 * * 1-5", "2025-06-06T18:00:01"),
            "2025-06-09T09:00:00"
        );
        assert_eq!(
            next("0 0 L * *", "2025-02-28T00:00:01"),
            "2025-03-31T00:00:00"
        );
        assert_eq!(
            next("0 0 29 2 *", "2025-01-01T00:00:00"),
            "2028-02-29T00:00:00"
        );
        assert_eq!(
            next("0 0 29 2 *", "2096-03-01T00:00:00"),
            "2104-02-29T00:00:00"
        );
        assert_eq!(
            next("59 23 31 12 *", "2025-12-31T23:59:01"),
            "2026-12-31T23:59:00"
        );
        assert_eq!(
            next("*/20 * * * * *", "2025-06-01T00:00:41"),
            "2025-06-01T00:01:00"
        );
        assert_eq!(
            next("0 0 0 * * 5#5", "2025-06-01T00:00:00"),
            "2025-08-29T00:00:00"
        );
        assert_eq!(
            next("30 4 1,15 * 5", "2025-06-01T04:30:01"),
            "2025-06-06T04:30:00"
        );
    }

    #[test]
    fn never_firing_expressions_are_rejected_with_a_reason() {
        assert_eq!(
            CronExpr::parse("0 0 30 2 *").unwrap_err().to_string(),
            "`0 0 30 2 *` can never fire: day-of-month `30` has no day that exists in February (the longest has 29 days)"
        );
        assert_eq!(
            CronExpr::parse("0 0 31 4,6,9,11 *")
                .unwrap_err()
                .to_string(),
            "`0 0 31 4,6,9,11 *` can never fire: day-of-month `31` has no day that exists in April, June, September or November (the longest has 30 days)"
        );
        assert_eq!(
            CronExpr::parse("0 0 31W 2 ?").unwrap_err().to_string(),
            "`0 0 31W 2 ?` can never fire: day-of-month `31W` has no day that exists in February (the longest has 29 days)"
        );
        assert_eq!(
            CronExpr::parse("0 0 0 */31 * 1#2").unwrap_err().to_string(),
            "`0 0 0 */31 * 1#2` can never fire: no day matches both day-of-month `*/31` and day-of-week `1#2` in any month"
        );
    }

    #[test]
    fn rare_but_possible_expressions_are_accepted() {
        // The 29th of February falling on a Sunday (`*/7` starts with `*`, so both must match).
        assert!(CronExpr::parse("0 0 29 2 */7").is_ok());
        assert_eq!(
            next("0 0 29 2 */7", "2025-01-01T00:00:00"),
            "2032-02-29T00:00:00"
        );
        // When both day fields are restricted, either may match: this fires every Monday of February.
        assert!(CronExpr::parse("0 0 30 2 1").is_ok());
        // A fifth Friday in February happens only when the 29th is a Friday.
        assert_eq!(
            next("0 0 * 2 5#5", "2025-01-01T00:00:00"),
            "2036-02-29T00:00:00"
        );
    }

    #[test]
    fn far_future_gives_up_at_year_9999() {
        let expr = CronExpr::parse("0 0 29 2 *").unwrap();
        let from = "9997-01-01T00:00:00".parse().unwrap();
        assert_eq!(expr.next_wall_at_or_after(from), None);
    }
}
