//! The windows of the statistics periods, ending at the snapshot's `as_of`. Pure: a function
//! of `as_of` and the zone.
//!
//! Every window is half-open, `[start, end)`: a record created exactly at a period's start is
//! in it, one created exactly at `as_of` is not yet. Each period has a *current* window ending at
//! `as_of` and a *previous* one it is compared with:
//!
//! - `1h`, `24h`, `7d`, `30d` are real elapsed time (24h is 24 hours, also across a DST
//!   change): current `[as_of − d, as_of)`, previous `[as_of − 2d, as_of − d)`.
//! - `today`, `week`, `month` are calendar periods in the configured zone: current from local
//!   midnight, from Monday 00:00 or from the 1st 00:00 (the first instant of that day, when
//!   midnight is skipped by a DST change) to `as_of`. Previous: the previous day, week or month
//!   from its start up to the same wall-clock point, `as_of` minus one day, week or month in
//!   the zone (so 12:00 on a 23-hour DST day is compared with 12:00 the day before; the 31st
//!   of a month is compared with the last day of a shorter previous month), never past the
//!   current period's start.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};
use tidings_store::StatsPeriod;

/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// A period's current and previous windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodWindows {
    pub period: StatsPeriod,
    pub current: Window,
    pub previous: Window,
}

fn fixed(period: StatsPeriod, as_of: Timestamp, hours: i64) -> Result<PeriodWindows, jiff::Error> {
    let d = SignedDuration::from_hours(hours);
    let start = as_of.checked_sub(d)?;
    Ok(PeriodWindows {
        period,
        current: Window { start, end: as_of },
        previous: Window {
            start: start.checked_sub(d)?,
            end: start,
        },
    })
}

fn calendar(
    period: StatsPeriod,
    now: &Zoned,
    start: jiff::civil::Date,
    previous_start: jiff::civil::Date,
    previous_now: Zoned,
) -> Result<PeriodWindows, jiff::Error> {
    let tz = now.time_zone();
    let start = start.to_zoned(tz.clone())?.timestamp();
    let previous_start = previous_start.to_zoned(tz.clone())?.timestamp();
    let previous_end = previous_now.timestamp().clamp(previous_start, start);
    Ok(PeriodWindows {
        period,
        current: Window {
            start,
            end: now.timestamp(),
        },
        previous: Window {
            start: previous_start,
            end: previous_end,
        },
    })
}

/// The windows of every period of [`StatsPeriod::ALL`], in that order.
pub fn windows(as_of: Timestamp, zone: &TimeZone) -> Result<Vec<PeriodWindows>, jiff::Error> {
    let now = as_of.to_zoned(zone.clone());
    let today = now.date();
    let monday = today.checked_sub(i64::from(today.weekday().to_monday_zero_offset()).days())?;
    let first = today.first_of_month();
    StatsPeriod::ALL
        .into_iter()
        .map(|period| match period {
            StatsPeriod::Hour => fixed(period, as_of, 1),
            StatsPeriod::Day => fixed(period, as_of, 24),
            StatsPeriod::Week7 => fixed(period, as_of, 24 * 7),
            StatsPeriod::Month30 => fixed(period, as_of, 24 * 30),
            StatsPeriod::Today => calendar(
                period,
                &now,
                today,
                today.checked_sub(1.day())?,
                now.checked_sub(1.day())?,
            ),
            StatsPeriod::CalendarWeek => calendar(
                period,
                &now,
                monday,
                monday.checked_sub(1.week())?,
                now.checked_sub(1.week())?,
            ),
            StatsPeriod::CalendarMonth => calendar(
                period,
                &now,
                first,
                first.checked_sub(1.month())?,
                now.checked_sub(1.month())?,
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn of(windows: &[PeriodWindows], period: StatsPeriod) -> PeriodWindows {
        *windows.iter().find(|w| w.period == period).unwrap()
    }

    #[test]
    fn fixed_periods_are_real_time_and_the_previous_is_as_long() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let w = windows(ts("2025-03-09T16:00:00Z"), &ny).unwrap();
        let day = of(&w, StatsPeriod::Day);
        assert_eq!(day.current.start, ts("2025-03-08T16:00:00Z"));
        assert_eq!(day.previous.start, ts("2025-03-07T16:00:00Z"));
        assert_eq!(day.previous.end, ts("2025-03-08T16:00:00Z"));
        assert!(day.current.contains(ts("2025-03-08T16:00:00Z")));
        assert!(!day.previous.contains(ts("2025-03-08T16:00:00Z")));
        assert!(!day.current.contains(ts("2025-03-09T16:00:00Z")));
    }

    /// 2025-03-09 in New York has 23 hours (02:00 EST → 03:00 EDT).
    #[test]
    fn today_in_new_york_on_spring_forward_day() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let w = windows(ts("2025-03-09T16:00:00Z"), &ny).unwrap(); // 12:00 EDT
        let today = of(&w, StatsPeriod::Today);
        assert_eq!(today.current.start, ts("2025-03-09T05:00:00Z")); // 00:00 EST
        assert_eq!(today.previous.start, ts("2025-03-08T05:00:00Z"));
        assert_eq!(today.previous.end, ts("2025-03-08T17:00:00Z")); // 12:00 EST
        let week = of(&w, StatsPeriod::CalendarWeek); // Sunday: the week began Monday the 3rd
        assert_eq!(week.current.start, ts("2025-03-03T05:00:00Z"));
        assert_eq!(week.previous.start, ts("2025-02-24T05:00:00Z"));
        assert_eq!(week.previous.end, ts("2025-03-02T17:00:00Z"));
        let month = of(&w, StatsPeriod::CalendarMonth);
        assert_eq!(month.current.start, ts("2025-03-01T05:00:00Z"));
        assert_eq!(month.previous.start, ts("2025-02-01T05:00:00Z"));
        assert_eq!(month.previous.end, ts("2025-02-09T17:00:00Z"));
    }

    /// 2025-11-02 in New York has 25 hours (02:00 EDT → 01:00 EST).
    #[test]
    fn today_in_new_york_on_fall_back_day() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let w = windows(ts("2025-11-02T17:00:00Z"), &ny).unwrap(); // 12:00 EST
        let today = of(&w, StatsPeriod::Today);
        assert_eq!(today.current.start, ts("2025-11-02T04:00:00Z")); // 00:00 EDT
        assert_eq!(today.previous.start, ts("2025-11-01T04:00:00Z"));
        assert_eq!(today.previous.end, ts("2025-11-01T16:00:00Z")); // 12:00 EDT
        let month = of(&w, StatsPeriod::CalendarMonth);
        assert_eq!(month.current.start, ts("2025-11-01T04:00:00Z"));
        assert_eq!(month.previous.start, ts("2025-10-01T04:00:00Z"));
    }

    #[test]
    fn month_previous_end_is_clamped_to_a_shorter_month() {
        let w = windows(ts("2025-03-31T12:00:00Z"), &TimeZone::UTC).unwrap();
        let month = of(&w, StatsPeriod::CalendarMonth);
        assert_eq!(month.previous.start, ts("2025-02-01T00:00:00Z"));
        assert_eq!(month.previous.end, ts("2025-02-28T12:00:00Z"));
    }
}
