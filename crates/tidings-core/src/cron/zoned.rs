//! From wall-clock matches to instants in a time zone, with cronie's DST rules (`CRON.md`).
//!
//! A zone's offset is constant between two transitions, so inside one such segment wall time
//! and instants map one to one: `instant = wall - offset`. The search finds the next wall-time
//! match in the current segment; if that lands past the segment's end, it moves to the next
//! segment and applies the rules for the transition it crossed:
//!
//! - spring forward (a gap of wall time that never exists): a **fixed-time job** fires once,
//!   at the first whole minute after the jump, for all its times inside the gap; a **wildcard
//!   job** loses them;
//! - fall back (a stretch of wall time that happens twice): a **fixed-time job** fires only in
//!   the first pass; a **wildcard job** fires in both.
//!
//! Only jumps of up to three hours are DST; a larger offset change is a clock correction and
//! the wall clock is simply followed (times in a big gap are lost, repeated times fire twice).

use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

use super::CronExpr;
use super::calendar::Wall;

/// The largest offset change handled by the DST rules; larger ones are clock corrections.
const MAX_DST_JUMP: i64 = 3 * 3600;

/// How many zone transitions a search may cross before giving up (each year has at most a
/// few; the rarest valid expressions fire at least once in a few decades).
const MAX_SEGMENTS: usize = 4_000;

/// How many gap times a note lists by name.
const LISTED_GAP_TIMES: usize = 4;

/// A fire instant with the DST rule, if any, that placed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    pub at: Timestamp,
    pub note: Option<DstNote>,
}

/// What a DST transition did to a fire time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DstNote {
    /// A fixed-time job's times inside a spring-forward gap, run once at the first instant after
    /// the jump (one time: moved; several: merged).
    GapCaughtUp { gap: Gap, times: GapTimes },
    /// A wildcard job's times inside a spring-forward gap were lost; this is the first fire
    /// after the gap.
    GapLost { gap: Gap, times: GapTimes },
    /// A fixed-time job at a wall time that happens twice: it runs once, in the first pass.
    RepeatedFirstPassOnly { wall: DateTime, back: Gap },
    /// A wildcard job at a wall time that happens twice: it runs in both passes.
    RepeatedBothPasses {
        wall: DateTime,
        back: Gap,
        second_pass: bool,
    },
}

/// A zone transition, as the wall clock shows it: from `from` the clock jumps to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub from: DateTime,
    pub to: DateTime,
}

/// The matching wall times that fell into a gap: the first few, and how many in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapTimes {
    pub first: Vec<DateTime>,
    pub total: usize,
}

impl CronExpr {
    /// The first fire instant strictly after `after` in `tz`.
    pub fn next_after(&self, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
        let mut lo = floor_second(after).checked_add(1)?;
        if let Ok(offset) = tz.to_fixed_offset() {
            let offset = i64::from(offset.seconds());
            let wall = self.next_wall_seconds(lo + offset)?;
            return Timestamp::from_second(wall - offset).ok();
        }
        for _ in 0..MAX_SEGMENTS {
            let segment = Segment::containing(tz, lo)?;
            let mut wall_lo = lo + segment.offset;
            if let Some(start) = segment.start.filter(|_| !self.wildcard_job) {
                let jump = segment.offset - start.offset_before;
                let gap = (start.at + start.offset_before, start.at + segment.offset);
                if jump > 0 && jump <= MAX_DST_JUMP {
                    // Just after a spring-forward gap: the fixed-time catch-up fire.
                    let catch_up = catch_up_instant(start.at, gap.1);
                    if catch_up >= lo && self.matches_in(gap.0, gap.1) {
                        return Timestamp::from_second(catch_up).ok();
                    }
                } else if jump < 0 && -jump <= MAX_DST_JUMP {
                    // Inside the second pass of a repeated stretch: those wall times already
                    // fired in the first pass.
                    wall_lo = wall_lo.max(gap.0);
                }
            }
            let wall = self.next_wall_seconds(wall_lo)?;
            let candidate = wall - segment.offset;
            match segment.end {
                Some(end) if candidate >= end => lo = end,
                _ => return Timestamp::from_second(candidate).ok(),
            }
        }
        None
    }

    /// The next `count` fires strictly after `after`, each with the DST rule that placed it.
    pub fn fires_after(&self, tz: &TimeZone, after: Timestamp, count: usize) -> Vec<Fire> {
        let mut fires = Vec::with_capacity(count);
        let mut prev = after;
        while fires.len() < count {
            let Some(at) = self.next_after(tz, prev) else {
                break;
            };
            fires.push(Fire {
                at,
                note: self.dst_note(tz, prev, at),
            });
            prev = at;
        }
        fires
    }

    /// True when some wall time in `[from, to)` (wall seconds) matches.
    fn matches_in(&self, from: i64, to: i64) -> bool {
        self.next_wall_seconds(from).is_some_and(|wall| wall < to)
    }

    /// The DST rule that placed the fire at `at`, the previous fire (or search start) being `prev`.
    fn dst_note(&self, tz: &TimeZone, prev: Timestamp, at: Timestamp) -> Option<DstNote> {
        let at_second = at.as_second();
        let segment = Segment::containing(tz, at_second)?;
        if let Some(start) = segment.start {
            let jump = segment.offset - start.offset_before;
            if jump > 0 && start.at > floor_second(prev) {
                let from = start.at + start.offset_before;
                let to = start.at + segment.offset;
                let times = self.gap_times(from, to);
                if times.total > 0 {
                    let gap = Gap {
                        from: civil(from)?,
                        to: civil(to)?,
                    };
                    let caught_up = !self.wildcard_job
                        && jump <= MAX_DST_JUMP
                        && at_second == catch_up_instant(start.at, to);
                    return Some(if caught_up {
                        DstNote::GapCaughtUp { gap, times }
                    } else {
                        DstNote::GapLost { gap, times }
                    });
                }
            }
        }
        let wall = civil(at_second + segment.offset)?;
        if let AmbiguousOffset::Fold { before, after } = tz.to_ambiguous_timestamp(wall).offset() {
            let back = i64::from(before.seconds()) - i64::from(after.seconds());
            let first_pass = i64::from(before.seconds()) == segment.offset;
            // The wall clock runs from `back_from` back to `back_to` at the transition.
            let transition = if first_pass {
                segment.end?
            } else {
                segment.start?.at
            };
            let gap = Gap {
                from: civil(transition + i64::from(before.seconds()))?,
                to: civil(transition + i64::from(after.seconds()))?,
            };
            return Some(if !self.wildcard_job && back <= MAX_DST_JUMP {
                DstNote::RepeatedFirstPassOnly { wall, back: gap }
            } else {
                DstNote::RepeatedBothPasses {
                    wall,
                    back: gap,
                    second_pass: !first_pass,
                }
            });
        }
        None
    }

    fn gap_times(&self, from: i64, to: i64) -> GapTimes {
        let mut times = GapTimes {
            first: Vec::new(),
            total: 0,
        };
        let mut wall = from;
        while let Some(found) = self.next_wall_seconds(wall).filter(|&w| w < to) {
            if times.first.len() < LISTED_GAP_TIMES {
                times.first.extend(civil(found));
            }
            times.total += 1;
            wall = found + 1;
        }
        times
    }
}

/// The stretch of time around an instant during which the zone's offset is constant.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// The offset in this segment, in seconds.
    offset: i64,
    /// The transition that began it, if any.
    start: Option<Transition>,
    /// The instant of the next transition, if any.
    end: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
struct Transition {
    at: i64,
    offset_before: i64,
}

impl Segment {
    fn containing(tz: &TimeZone, at: i64) -> Option<Segment> {
        let ts = Timestamp::from_second(at).ok()?;
        let offset = i64::from(tz.to_offset(ts).seconds());
        let end = tz.following(ts).next().map(|t| t.timestamp().as_second());
        let start = Timestamp::from_second(at + 1)
            .ok()
            .and_then(|probe| tz.preceding(probe).next())
            .and_then(|t| {
                let at = t.timestamp().as_second();
                let before = Timestamp::from_second(at - 1).ok()?;
                Some(Transition {
                    at,
                    offset_before: i64::from(tz.to_offset(before).seconds()),
                })
            });
        Some(Segment { offset, start, end })
    }
}

/// The whole second at or before `ts`.
fn floor_second(ts: Timestamp) -> i64 {
    let second = ts.as_second();
    if ts.subsec_nanosecond() < 0 {
        second - 1
    } else {
        second
    }
}

/// The catch-up fire for a gap that ends (in wall time) at `wall_after`, reached at instant
/// `at`: second 0 of the first whole minute on or after the jump.
fn catch_up_instant(at: i64, wall_after: i64) -> i64 {
    let past_minute = wall_after.rem_euclid(60);
    if past_minute == 0 {
        at
    } else {
        at + 60 - past_minute
    }
}

fn civil(wall: i64) -> Option<DateTime> {
    Wall::from_seconds(wall).to_civil()
}

fn clock(dt: &DateTime) -> String {
    if dt.second() == 0 {
        format!("{:02}:{:02}", dt.hour(), dt.minute())
    } else {
        format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
    }
}

fn list(times: &GapTimes) -> String {
    let names: Vec<String> = times.first.iter().map(clock).collect();
    let more = times.total - times.first.len();
    match (names.as_slice(), more) {
        ([one], 0) => one.clone(),
        (names, 0) => {
            let (last, rest) = names.split_last().unwrap_or((&names[0], &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (names, more) => format!("{} and {more} more", names.join(", ")),
    }
}

impl fmt::Display for DstNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DstNote::GapCaughtUp { gap, times } => {
                let verb = if times.total == 1 { "does" } else { "do" };
                let runs = if times.total == 1 {
                    "runs at"
                } else {
                    "they run once, at"
                };
                write!(
                    f,
                    "{} {verb} not exist on {} (clocks jump from {} to {}); {runs} {} instead",
                    list(times),
                    gap.from.date(),
                    clock(&gap.from),
                    clock(&gap.to),
                    clock(&gap.to),
                )
            }
            DstNote::GapLost { gap, times } => {
                let verb = if times.total == 1 { "does" } else { "do" };
                write!(
                    f,
                    "{} on {} {verb} not exist (clocks jump from {} to {}) and {} skipped",
                    list(times),
                    gap.from.date(),
                    clock(&gap.from),
                    clock(&gap.to),
                    if times.total == 1 { "is" } else { "are" },
                )
            }
            DstNote::RepeatedFirstPassOnly { wall, back } => write!(
                f,
                "{} happens twice on {} (clocks go back from {} to {}); a fixed-time job runs in the first pass only",
                clock(wall),
                wall.date(),
                clock(&back.from),
                clock(&back.to),
            ),
            DstNote::RepeatedBothPasses {
                wall,
                back,
                second_pass,
            } => write!(
                f,
                "{} happens twice on {} (clocks go back from {} to {}); a wildcard job runs in both passes, this is the {}",
                clock(wall),
                wall.date(),
                clock(&back.from),
                clock(&back.to),
                if *second_pass { "second" } else { "first" },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn next_n(expr: &str, zone: &str, after: &str, n: usize) -> Vec<String> {
        let expr = CronExpr::parse(expr).unwrap();
        let tz = tz(zone);
        let mut at: Timestamp = after.parse().unwrap();
        let mut out = Vec::new();
        for _ in 0..n {
            at = expr.next_after(&tz, at).unwrap();
            out.push(
                at.to_zoned(tz.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string(),
            );
        }
        out
    }

    #[test]
    fn jiff_transition_iterators_are_strict() {
        // The segment search relies on `preceding` and `following` excluding the given instant.
        let ny = tz("America/New_York");
        let spring: Timestamp = "2025-03-09T07:00:00Z".parse().unwrap();
        assert_ne!(ny.preceding(spring).next().unwrap().timestamp(), spring);
        assert_ne!(ny.following(spring).next().unwrap().timestamp(), spring);
        let after = spring.checked_add(SignedDuration::from_secs(1)).unwrap();
        assert_eq!(ny.preceding(after).next().unwrap().timestamp(), spring);
    }

    #[test]
    fn issue_example_new_york_spring_forward() {
        assert_eq!(
            next_n(
                "30 2 * * *",
                "America/New_York",
                "2025-03-08T12:00:00-05:00",
                3
            ),
            [
                "2025-03-09T03:00:00-04:00",
                "2025-03-10T02:30:00-04:00",
                "2025-03-11T02:30:00-04:00"
            ]
        );
    }

    #[test]
    fn start_exactly_at_the_jump_still_gets_the_catch_up() {
        assert_eq!(
            next_n(
                "30 2 * * *",
                "America/New_York",
                "2025-03-09T01:59:59-05:00",
                2
            ),
            ["2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"]
        );
        assert_eq!(
            next_n(
                "30 2 * * *",
                "America/New_York",
                "2025-03-09T03:00:00-04:00",
                1
            ),
            ["2025-03-10T02:30:00-04:00"]
        );
    }

    #[test]
    fn fall_back_fixed_once_wildcard_twice() {
        assert_eq!(
            next_n(
                "30 1 * * *",
                "America/New_York",
                "2025-11-01T12:00:00-04:00",
                2
            ),
            ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"]
        );
        assert_eq!(
            next_n(
                "*/30 * * * *",
                "America/New_York",
                "2025-11-02T00:45:00-04:00",
                5
            ),
            [
                "2025-11-02T01:00:00-04:00",
                "2025-11-02T01:30:00-04:00",
                "2025-11-02T01:00:00-05:00",
                "2025-11-02T01:30:00-05:00",
                "2025-11-02T02:00:00-05:00"
            ]
        );
        // Starting inside the second pass, the fixed-time job waits for the next day.
        assert_eq!(
            next_n(
                "30 1 * * *",
                "America/New_York",
                "2025-11-02T01:10:00-05:00",
                1
            ),
            ["2025-11-03T01:30:00-05:00"]
        );
    }

    #[test]
    fn sub_second_and_negative_instants() {
        assert_eq!(
            next_n("* * * * * *", "UTC", "1969-12-31T23:59:58.5Z", 2),
            ["1969-12-31T23:59:59+00:00", "1970-01-01T00:00:00+00:00"]
        );
        assert_eq!(
            next_n(
                "* * * * * *",
                "Europe/Berlin",
                "2025-06-01T00:00:00.999Z",
                1
            ),
            ["2025-06-01T02:00:01+02:00"]
        );
    }

    #[test]
    fn notes_describe_moves_merges_losses_and_repeats() {
        let ny = tz("America/New_York");
        let notes = |expr: &str, after: &str, n: usize| -> Vec<String> {
            let expr = CronExpr::parse(expr).unwrap();
            expr.fires_after(&ny, after.parse().unwrap(), n)
                .into_iter()
                .filter_map(|fire| fire.note.map(|note| note.to_string()))
                .collect()
        };
        assert_eq!(
            notes("30 2 * * *", "2025-03-08T12:00:00-05:00", 2),
            [
                "02:30 does not exist on 2025-03-09 (clocks jump from 02:00 to 03:00); runs at 03:00 instead"
            ]
        );
        assert_eq!(
            notes("0,15,30,45 2 * * *", "2025-03-08T12:00:00-05:00", 1),
            [
                "02:00, 02:15, 02:30 and 02:45 do not exist on 2025-03-09 (clocks jump from 02:00 to 03:00); they run once, at 03:00 instead"
            ]
        );
        assert_eq!(
            notes("*/15 * * * *", "2025-03-09T01:50:00-05:00", 1),
            [
                "02:00, 02:15, 02:30 and 02:45 on 2025-03-09 do not exist (clocks jump from 02:00 to 03:00) and are skipped"
            ]
        );
        assert_eq!(
            notes("30 1 * * *", "2025-11-01T12:00:00-04:00", 1),
            [
                "01:30 happens twice on 2025-11-02 (clocks go back from 02:00 to 01:00); a fixed-time job runs in the first pass only"
            ]
        );
        assert_eq!(
            notes("30 1 * * *", "2025-11-01T12:00:00-04:00", 1),
            [
                "01:30 happens twice on 2025-11-02 (clocks go back from 02:00 to 01:00); a fixed-time job runs in the first pass only"
            ]
        );
        let both = notes("*/30 1 * * *", "2025-11-02T00:45:00-04:00", 4);
        assert_eq!(both.len(), 4);
        assert!(both[0].ends_with("this is the first"), "{}", both[0]);
        assert!(both[2].ends_with("this is the second"), "{}", both[2]);
        assert!(notes("30 2 * * *", "2025-06-01T00:00:00Z", 5).is_empty());
    }
}
