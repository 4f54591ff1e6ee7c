//! Which days of a month an expression's day-of-month and day-of-week fields select, with the
//! specials (`L`, `nW`, `D#k`, `DL`) and the Vixie rule that joins the two fields.

use super::calendar::{days_in_month, weekday};
use super::field::{Field, Item};

/// Bits 0, 7, 14, 21 and 28: one weekday in every week of a month.
const WEEKLY: u32 = 1 | 1 << 7 | 1 << 14 | 1 << 21 | 1 << 28;

/// The day fields, compiled to bit sets. Day bits are numbered by day of month (bit 1 = the 1st).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DaySpec {
    dom: u32,
    dom_last: bool,
    /// Bit `n` set for each `nW`.
    dom_nearest_weekday: u32,
    /// Bit `d` for each plain weekday `d` (0 = Sunday).
    dow: u8,
    /// For each weekday, bit `k` for each `D#k`.
    dow_nth: [u8; 7],
    /// Bit `d` for each `DL`.
    dow_last: u8,
    /// Vixie: when either field starts with `*` or `?`, a day must match both fields;
    /// when both are restricted, a day matching either field is enough.
    both_must_match: bool,
}

impl DaySpec {
    pub(crate) fn new(dom_field: &Field, dow_field: &Field) -> DaySpec {
        let mut spec = DaySpec {
            dom: dom_field.value_bits() as u32,
            dom_last: false,
            dom_nearest_weekday: 0,
            dow: dow_field.value_bits() as u8,
            dow_nth: [0; 7],
            dow_last: 0,
            both_must_match: dom_field.starts_with_any || dow_field.starts_with_any,
        };
        for item in &dom_field.items {
            match *item {
                Item::LastDayOfMonth => spec.dom_last = true,
                Item::NearestWeekday(n) => spec.dom_nearest_weekday |= 1 << n,
                _ => {}
            }
        }
        for item in &dow_field.items {
            match *item {
                Item::NthWeekday { weekday, nth } => spec.dow_nth[usize::from(weekday)] |= 1 << nth,
                Item::LastWeekday(weekday) => spec.dow_last |= 1 << weekday,
                _ => {}
            }
        }
        spec
    }

    /// The days of `year`-`month` the expression selects, as bits 1..=31.
    pub(crate) fn matching_days(&self, year: i32, month: u8) -> u32 {
        let last = days_in_month(year, month);
        let valid = (u32::MAX >> (31 - last)) & !1;
        let first_weekday = weekday(year, month, 1);

        let mut dom = self.dom;
        if self.dom_last {
            dom |= 1 << last;
        }
        let mut nearest = self.dom_nearest_weekday & valid;
        while nearest != 0 {
            let n = nearest.trailing_zeros() as u8;
            nearest &= nearest - 1;
            dom |= 1 << nearest_weekday(n, last, (first_weekday + n - 1) % 7);
        }

        let mut dow = 0_u32;
        for day_of_week in 0..7_u8 {
            // The first day of the month falling on `day_of_week`.
            let first = 1 + (day_of_week + 7 - first_weekday) % 7;
            if self.dow & (1 << day_of_week) != 0 {
                dow |= WEEKLY << first;
            }
            let nth = self.dow_nth[usize::from(day_of_week)];
            if nth != 0 {
                for k in 1..=5_u8 {
                    if nth & (1 << k) != 0 {
                        let day = first + 7 * (k - 1);
                        if day <= last {
                            dow |= 1 << day;
                        }
                    }
                }
            }
            if self.dow_last & (1 << day_of_week) != 0 {
                dow |= 1 << (first + 7 * ((last - first) / 7));
            }
        }

        let days = if self.both_must_match {
            dom & dow
        } else {
            dom | dow
        };
        days & valid
    }
}

/// `nW`: the weekday (Monday to Friday) nearest day `n`, within the same month.
fn nearest_weekday(n: u8, last: u8, weekday_of_n: u8) -> u8 {
    match weekday_of_n {
        // Saturday: the Friday before, unless that is in the previous month.
        6 if n == 1 => 3,
        6 => n - 1,
        // Sunday: the Monday after, unless that is in the next month.
        0 if n == last => n - 2,
        0 => n + 1,
        _ => n,
    }
}

#[cfg(test)]
mod tests {
    use super::super::field::FieldKind;
    use super::super::parse::parse_field;
    use super::*;

    fn days(dom: &str, dow: &str, year: i32, month: u8) -> Vec<u8> {
        let spec = DaySpec::new(
            &parse_field(FieldKind::DayOfMonth, dom).unwrap(),
            &parse_field(FieldKind::DayOfWeek, dow).unwrap(),
        );
        let bits = spec.matching_days(year, month);
        (1..=31).filter(|d| bits & (1 << d) != 0).collect()
    }

    #[test]
    fn vixie_rule_or_when_both_restricted() {
        // June 2025: the 1st is a Sunday; Fridays are 6, 13, 20, 27.
        assert_eq!(days("1,15", "5", 2025, 6), [1, 6, 13, 15, 20, 27]);
    }

    #[test]
    fn vixie_rule_and_when_either_starts_with_star() {
        // Mondays of June 2025 are 2, 9, 16, 23, 30; odd days among them: 9, 23.
        assert_eq!(days("*/2", "1", 2025, 6), [9, 23]);
        assert_eq!(days("1-10", "*", 2025, 6), (1..=10).collect::<Vec<_>>());
        assert_eq!(days("13", "?", 2025, 6), [13]);
        assert_eq!(days("?", "5", 2025, 6), [6, 13, 20, 27]);
        assert_eq!(days("*", "*", 2025, 2).len(), 28);
        // A day-of-week field starting with `*` also makes it AND.
        assert_eq!(days("13", "*/7", 2025, 6), Vec::<u8>::new());
    }

    #[test]
    fn last_day_of_month() {
        assert_eq!(days("L", "*", 2024, 2), [29]);
        assert_eq!(days("L", "*", 2025, 2), [28]);
        assert_eq!(days("L", "*", 2025, 4), [30]);
        assert_eq!(days("L", "*", 2025, 12), [31]);
    }

    #[test]
    fn nearest_weekday_stays_in_the_month() {
        // 2025-06-15 is a Sunday: Monday the 16th.
        assert_eq!(days("15W", "*", 2025, 6), [16]);
        // 2025-03-01 is a Saturday: not Friday Feb 28 but Monday the 3rd.
        assert_eq!(days("1W", "*", 2025, 3), [3]);
        // 2025-08-31 is a Sunday and the last day: Friday the 29th.
        assert_eq!(days("31W", "*", 2025, 8), [29]);
        // 2025-11-15 is a Saturday: Friday the 14th.
        assert_eq!(days("15W", "*", 2025, 11), [14]);
        // Day 31 does not exist in June: never in June.
        assert_eq!(days("31W", "*", 2025, 6), Vec::<u8>::new());
        // A weekday is itself.
        assert_eq!(days("17W", "*", 2025, 6), [17]);
    }

    #[test]
    fn nth_and_last_weekday() {
        // Fridays of May 2025: 2, 9, 16, 23, 30.
        assert_eq!(days("*", "5#2", 2025, 5), [9]);
        assert_eq!(days("*", "5#5", 2025, 5), [30]);
        assert_eq!(days("*", "5L", 2025, 5), [30]);
        assert_eq!(days("*", "fri#L", 2025, 5), [30]);
        // June 2025 has only four Fridays.
        assert_eq!(days("*", "5#5", 2025, 6), Vec::<u8>::new());
        assert_eq!(days("*", "5L", 2025, 6), [27]);
        // Sunday as 7.
        assert_eq!(days("*", "7#1", 2025, 6), [1]);
        assert_eq!(days("?", "1#1,5L", 2025, 6), [2, 27]);
    }

    #[test]
    fn both_restricted_with_specials_is_or() {
        // L or the first Monday.
        assert_eq!(days("L", "1#1", 2025, 6), [2, 30]);
    }
}
