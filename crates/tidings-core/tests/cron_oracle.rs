//! `CronTrigger::next_after` against a brute-force oracle written from `CRON.md` alone.
//!
//! Expressions are generated as structured data, rendered to text for `CronExpr::parse`, and turned
//! directly into the oracle's own model (allowed values, special day items, the Vixie "starts with
//! `*` or `?`" flags and the wildcard-job flag), so the oracle never shares a parser with the
//! implementation. The oracle scans wall-clock minutes of the zone, resolves each matching wall time
//! with jiff and applies the DST rules of `CRON.md`:
//!
//! - unambiguous wall time: that instant;
//! - in a gap of at most 3 h: a fixed-time job fires once at the first instant after the jump (all
//!   skipped times merge into that fire, at second 0), a wildcard job loses the time;
//! - in a fold of at most 3 h: a fixed-time job fires in the first pass only, a wildcard job in both;
//! - a jump of more than 3 h is a clock correction: gap times are lost, fold times fire twice.
//!
//! Starts are biased towards the zone's transitions (on them, a nanosecond either side, inside both
//! passes of a repeated hour, next to a gap), and every case follows a chain of 3–5 fires so that
//! double fires and skipped fires across transitions show up.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic on bad fixture data is a test failure"
)]

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError};
use tidings_core::cron::CronExpr;
use tidings_core::trigger::CronTrigger;
use tidings_core::zone::Zone;

const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "UTC",
    "Asia/Kolkata",
    "America/St_Johns",
    "Europe/Dublin",
    // Skipped 2011-12-30 entirely: a 24-hour jump, i.e. a clock correction.
    "Pacific/Apia",
];

/// 1990-01-01T00:00:00Z and 2061-01-01T00:00:00Z.
const FIRST_START: i64 = 631_152_000;
const LAST_START: i64 = 2_871_763_200;

/// Jumps up to this size follow the DST rules; larger ones are clock corrections.
const MAX_DST_JUMP: i64 = 3 * 3600;
/// Wall time scanned before the start's wall time (a second pass of a fold may lie behind it).
const SCAN_BACK: i64 = MAX_DST_JUMP + 60;
/// Wall time scanned beyond the earliest candidate before concluding nothing earlier exists.
const SCAN_PAST_BEST: i64 = 4 * 3600;
/// Days in the 400-year Gregorian cycle: day matching repeats with this period.
const GREGORIAN_CYCLE_DAYS: i64 = 146_097;

// ---------------------------------------------------------------------------------------------
// Structured expressions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Second,
    Minute,
    Hour,
    Dom,
    Month,
    Dow,
}

impl Kind {
    fn bounds(self) -> (u8, u8) {
        match self {
            Kind::Second | Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::Dom => (1, 31),
            Kind::Month => (1, 12),
            Kind::Dow => (0, 7),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Item {
    Star,
    Value(u8),
    /// `a-b`, `a <= b`. In DOW, `b == 7` may be rendered as `0`/`sun` (see `Field::sun_end_zero`).
    Range(u8, u8),
    /// `*/n`
    StarStep(u8),
    /// `a-b/n`
    RangeStep(u8, u8, u8),
    /// `?` (DOM and DOW, always alone)
    Question,
    /// DOM `L`
    LastDay,
    /// DOM `nW`
    NearestWeekday(u8),
    /// DOW `D#k`
    Nth(u8, u8),
    /// DOW `DL` (false) or `D#L` (true)
    LastOf(u8, bool),
}

#[derive(Clone, Copy, Debug)]
enum Case {
    Lower,
    Upper,
    Title,
    Alternating,
}

#[derive(Clone, Debug)]
struct Field {
    kind: Kind,
    items: Vec<Item>,
    /// Month and DOW values are spelled as names in this case (DOW 7 stays a number).
    names: Option<Case>,
    /// A DOW range ending in 7 is written ending in `0` (or `sun`): `fri-sun`, `5-0`.
    sun_end_zero: bool,
}

#[derive(Clone, Debug)]
enum Expr {
    Fields {
        second: Option<Field>,
        minute: Field,
        hour: Field,
        dom: Field,
        month: Field,
        dow: Field,
    },
    Macro(&'static str),
}

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DOW_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn apply_case(name: &str, case: Case) -> String {
    match case {
        Case::Lower => name.to_owned(),
        Case::Upper => name.to_uppercase(),
        Case::Title => {
            let mut chars = name.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect()
        }
        Case::Alternating => name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
    }
}

impl Field {
    fn value_text(&self, v: u8) -> String {
        match (self.kind, self.names) {
            (Kind::Month, Some(case)) => apply_case(MONTH_NAMES[usize::from(v - 1)], case),
            (Kind::Dow, Some(case)) if v < 7 => apply_case(DOW_NAMES[usize::from(v)], case),
            _ => v.to_string(),
        }
    }

    fn range_text(&self, a: u8, b: u8) -> String {
        let end = if self.kind == Kind::Dow && b == 7 && (1..=6).contains(&a) && self.sun_end_zero {
            self.value_text(0)
        } else {
            self.value_text(b)
        };
        format!("{}-{end}", self.value_text(a))
    }

    fn render(&self) -> String {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|item| match *item {
                Item::Star => "*".to_owned(),
                Item::Value(v) => self.value_text(v),
                Item::Range(a, b) => self.range_text(a, b),
                Item::StarStep(n) => format!("*/{n}"),
                Item::RangeStep(a, b, n) => format!("{}/{n}", self.range_text(a, b)),
                Item::Question => "?".to_owned(),
                Item::LastDay => "L".to_owned(),
                Item::NearestWeekday(n) => format!("{n}W"),
                Item::Nth(d, k) => format!("{}#{k}", self.value_text(d)),
                Item::LastOf(d, false) => format!("{}L", self.value_text(d)),
                Item::LastOf(d, true) => format!("{}#L", self.value_text(d)),
            })
            .collect();
        items.join(",")
    }

    /// The plain values the field allows, as a bit mask (bit v = value v). DOW 7 becomes 0.
    fn mask(&self) -> u64 {
        let (lo, hi) = self.kind.bounds();
        let mut mask = 0u64;
        let mut add = |a: u8, b: u8, step: u8| {
            let mut v = a;
            while v <= b {
                mask |= 1 << v;
                v += step;
            }
        };
        for item in &self.items {
            match *item {
                Item::Star | Item::Question => add(lo, hi, 1),
                Item::Value(v) => add(v, v, 1),
                Item::Range(a, b) => add(a, b, 1),
                Item::StarStep(n) => add(lo, hi, n),
                Item::RangeStep(a, b, n) => add(a, b, n),
                Item::LastDay | Item::NearestWeekday(_) | Item::Nth(..) | Item::LastOf(..) => {}
            }
        }
        if self.kind == Kind::Dow && mask & (1 << 7) != 0 {
            mask = (mask & !(1 << 7)) | 1;
        }
        mask
    }

    fn starts_with_star_or_question(&self) -> bool {
        self.render().starts_with(['*', '?'])
    }
}

fn plain(kind: Kind, items: Vec<Item>) -> Field {
    Field {
        kind,
        items,
        names: None,
        sun_end_zero: false,
    }
}

fn five(minute: Item, hour: Item, dom: Vec<Item>, month: Vec<Item>, dow: Vec<Item>) -> Expr {
    Expr::Fields {
        second: None,
        minute: plain(Kind::Minute, vec![minute]),
        hour: plain(Kind::Hour, vec![hour]),
        dom: plain(Kind::Dom, dom),
        month: plain(Kind::Month, month),
        dow: plain(Kind::Dow, dow),
    }
}

/// The expansion of a macro, per CRON.md.
fn macro_expansion(name: &str) -> Expr {
    use Item::{Star, Value};
    match name {
        "@yearly" | "@annually" => five(
            Value(0),
            Value(0),
            vec![Value(1)],
            vec![Value(1)],
            vec![Star],
        ),
        "@monthly" => five(Value(0), Value(0), vec![Value(1)], vec![Star], vec![Star]),
        "@weekly" => five(Value(0), Value(0), vec![Star], vec![Star], vec![Value(0)]),
        "@daily" | "@midnight" => five(Value(0), Value(0), vec![Star], vec![Star], vec![Star]),
        "@hourly" => five(Value(0), Star, vec![Star], vec![Star], vec![Star]),
        other => panic!("unknown macro {other}"),
    }
}

impl Expr {
    fn render(&self) -> String {
        match self {
            Expr::Macro(name) => (*name).to_owned(),
            Expr::Fields {
                second,
                minute,
                hour,
                dom,
                month,
                dow,
            } => {
                let mut fields: Vec<String> = second.iter().map(Field::render).collect();
                fields.extend([minute, hour, dom, month, dow].map(Field::render));
                fields.join(" ")
            }
        }
    }

    fn model(&self) -> Model {
        match self {
            Expr::Macro(name) => macro_expansion(name).model(),
            Expr::Fields {
                second,
                minute,
                hour,
                dom,
                month,
                dow,
            } => {
                let mut dom_weekdays = Vec::new();
                let mut dom_last = false;
                for item in &dom.items {
                    match *item {
                        Item::LastDay => dom_last = true,
                        Item::NearestWeekday(n) => dom_weekdays.push(n),
                        _ => {}
                    }
                }
                let mut dow_nth = Vec::new();
                let mut dow_last = Vec::new();
                for item in &dow.items {
                    match *item {
                        Item::Nth(d, k) => dow_nth.push((d % 7, k)),
                        Item::LastOf(d, _) => dow_last.push(d % 7),
                        _ => {}
                    }
                }
                Model {
                    seconds: second.as_ref().map_or(1, Field::mask),
                    minutes: minute.mask(),
                    hours: hour.mask(),
                    months: month.mask(),
                    dom_mask: dom.mask(),
                    dom_last,
                    dom_weekdays,
                    dow_mask: dow.mask(),
                    dow_nth,
                    dow_last,
                    day_fields_and: dom.starts_with_star_or_question()
                        || dow.starts_with_star_or_question(),
                    wildcard: minute.render().starts_with('*') || hour.render().starts_with('*'),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle's model and calendar
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Model {
    seconds: u64,
    minutes: u64,
    hours: u64,
    months: u64,
    dom_mask: u64,
    dom_last: bool,
    dom_weekdays: Vec<u8>,
    dow_mask: u64,
    /// (weekday 0–6, k 1–5)
    dow_nth: Vec<(u8, u8)>,
    /// weekday 0–6
    dow_last: Vec<u8>,
    /// Vixie rule: either day field starts with `*`/`?` → both must match; otherwise either.
    day_fields_and: bool,
    /// Minute or hour field starts with `*`.
    wildcard: bool,
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 → (year, month, day). Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, u8::try_from(m).unwrap(), u8::try_from(d).unwrap())
}

/// Weekday (0 = Sunday) of a day counted from 1970-01-01 (a Thursday).
fn weekday(days: i64) -> u8 {
    u8::try_from((days + 4).rem_euclid(7)).unwrap()
}

impl Model {
    /// CRON.md's `nW`: the weekday nearest to day `n` within the same month.
    fn nearest_weekday(n: u8, last: u8, weekday_of_n: u8) -> Option<u8> {
        if n > last {
            return None;
        }
        Some(match weekday_of_n {
            6 if n == 1 => 3,
            6 => n - 1,
            0 if n == last => n - 2,
            0 => n + 1,
            _ => n,
        })
    }

    fn day_matches(&self, days: i64) -> bool {
        let (y, m, d) = civil_from_days(days);
        if self.months & (1 << m) == 0 {
            return false;
        }
        let wd = weekday(days);
        let last = days_in_month(y, m);
        let dom = self.dom_mask & (1 << d) != 0
            || (self.dom_last && d == last)
            || self.dom_weekdays.iter().any(|&n| {
                let weekday_of_n = (i64::from(wd) + i64::from(n) - i64::from(d)).rem_euclid(7);
                let weekday_of_n = u8::try_from(weekday_of_n).unwrap();
                Self::nearest_weekday(n, last, weekday_of_n) == Some(d)
            });
        let dow = self.dow_mask & (1 << wd) != 0
            || self
                .dow_nth
                .iter()
                .any(|&(x, k)| x == wd && (d - 1) / 7 + 1 == k)
            || self.dow_last.iter().any(|&x| x == wd && d + 7 > last);
        if self.day_fields_and {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Some day in the 400-year Gregorian cycle matches (day matching repeats with that period).
    fn first_matching_day_in_cycle(&self) -> Option<i64> {
        let cycle_start = 10_957; // 2000-01-01
        (cycle_start..cycle_start + GREGORIAN_CYCLE_DAYS).find(|&days| self.day_matches(days))
    }

    /// The first second of the field set at or after `from` within the minute, as an offset.
    fn first_second_from(&self, from: i64) -> Option<i64> {
        if from > 59 {
            return None;
        }
        let from = from.max(0);
        let rest = self.seconds >> from;
        (rest != 0).then(|| from + i64::from(rest.trailing_zeros()))
    }

    /// The earliest fire strictly after `start_floor` (whole seconds) coming from the wall-clock
    /// minute `wall` (seconds since the civil epoch), per CRON.md's DST rules.
    fn minute_candidate(&self, tz: &TimeZone, wall: i64, dt: DateTime, start: i64) -> Option<i64> {
        let in_pass = |offset_seconds: i64| {
            let minute_instant = wall - offset_seconds;
            self.first_second_from(start + 1 - minute_instant)
                .map(|s| minute_instant + s)
        };
        match tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => in_pass(i64::from(offset.seconds())),
            AmbiguousOffset::Gap { before, after } => {
                let (before, after) = (i64::from(before.seconds()), i64::from(after.seconds()));
                if self.wildcard || after - before > MAX_DST_JUMP {
                    return None;
                }
                // The jump happens at T with wall ∈ [T + before, T + after), so wall - after < T.
                let probe = Timestamp::from_second(wall - after).unwrap();
                let jump = tz.following(probe).next().unwrap().timestamp().as_second();
                // Second 0 of the first wall minute at or after the jump.
                let catch_up = jump + (-(jump + after)).rem_euclid(60);
                (catch_up > start).then_some(catch_up)
            }
            AmbiguousOffset::Fold { before, after } => {
                let (before, after) = (i64::from(before.seconds()), i64::from(after.seconds()));
                let first = in_pass(before);
                if !self.wildcard && before - after <= MAX_DST_JUMP {
                    first
                } else {
                    [first, in_pass(after)].into_iter().flatten().min()
                }
            }
        }
    }
}

/// The oracle: the earliest fire strictly after `start`, or `None` if there is none in 400 years.
fn oracle_next(model: &Model, tz: &TimeZone, start: Timestamp) -> Option<Timestamp> {
    let start_floor = start.as_second() - i64::from(start.subsec_nanosecond() < 0);
    let start_wall = start_floor + i64::from(tz.to_offset(start).seconds());
    let scan_from = start_wall - SCAN_BACK;
    let first_day = scan_from.div_euclid(86_400);
    let mut best: Option<i64> = None;
    let mut stop_after_wall = i64::MAX;
    for days in first_day..first_day + GREGORIAN_CYCLE_DAYS + 2 {
        let day_wall = days * 86_400;
        if day_wall > stop_after_wall {
            break;
        }
        if !model.day_matches(days) {
            continue;
        }
        let (y, m, d) = civil_from_days(days);
        for hour in (0..24).filter(|h| model.hours & (1 << h) != 0) {
            for minute in (0..60).filter(|mi| model.minutes & (1 << mi) != 0) {
                let wall = day_wall + hour * 3600 + minute * 60;
                if wall + 59 < scan_from {
                    continue;
                }
                if wall > stop_after_wall {
                    break;
                }
                let dt = DateTime::new(
                    i16::try_from(y).unwrap(),
                    i8::try_from(m).unwrap(),
                    i8::try_from(d).unwrap(),
                    i8::try_from(hour).unwrap(),
                    i8::try_from(minute).unwrap(),
                    0,
                    0,
                )
                .unwrap();
                let Some(candidate) = model.minute_candidate(tz, wall, dt, start_floor) else {
                    continue;
                };
                if best.is_none_or(|b| candidate < b) {
                    best = Some(candidate);
                    let ts = Timestamp::from_second(candidate).unwrap();
                    let candidate_wall = candidate + i64::from(tz.to_offset(ts).seconds());
                    stop_after_wall = candidate_wall + SCAN_PAST_BEST;
                }
            }
        }
    }
    best.map(|s| Timestamp::from_second(s).unwrap())
}

// ---------------------------------------------------------------------------------------------
// Start instants
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Near {
    /// Anywhere in 1990–2060.
    Anywhere,
    /// Exactly on the transition.
    On,
    /// A nanosecond before (`false`) or after (`true`) the transition.
    Nanosecond(bool),
    /// Whole seconds either side, within ±2 minutes.
    Seconds,
    /// Whole minutes either side, within ±3 hours.
    Minutes,
    /// Any instant within ±6 hours (with a sub-second part).
    Hours,
    /// Inside the jump's width either side: both passes of a fold, next to a gap.
    WithinJump,
}

#[derive(Clone, Copy, Debug)]
struct StartSpec {
    zone: usize,
    base: i64,
    near: Near,
    param: i64,
    nanos: i32,
}

fn bounded(param: i64, width: i64) -> i64 {
    if width <= 0 {
        0
    } else {
        param.rem_euclid(2 * width + 1) - width
    }
}

/// A change of the zone's offset in 1990–2060.
#[derive(Clone, Copy, Debug)]
struct Transition {
    at: Timestamp,
    /// Offsets in seconds before and after the change.
    before: i64,
    after: i64,
}

impl Transition {
    /// The first transition after `base`, or failing that the last one before it.
    fn near(tz: &TimeZone, base: Timestamp) -> Option<Transition> {
        let in_range = |t: &Timestamp| (FIRST_START..LAST_START).contains(&t.as_second());
        let transition = tz
            .following(base)
            .next()
            .filter(|t| in_range(&t.timestamp()))
            .or_else(|| {
                tz.preceding(base)
                    .next()
                    .filter(|t| in_range(&t.timestamp()))
            })?;
        let at = transition.timestamp();
        let before = tz.to_offset(at - jiff::SignedDuration::from_secs(1));
        Some(Transition {
            at,
            before: i64::from(before.seconds()),
            after: i64::from(transition.offset().seconds()),
        })
    }

    /// The wall-clock hour in which the gap or the repeated wall time begins.
    fn wall_hour(&self) -> u8 {
        let wall = self.at.as_second() + self.before.min(self.after);
        u8::try_from(wall.rem_euclid(86_400) / 3600).unwrap()
    }
}

impl StartSpec {
    fn zone_name(&self) -> &'static str {
        ZONES[self.zone]
    }

    fn resolve(&self, tz: &TimeZone) -> Timestamp {
        let base = Timestamp::from_second(self.base).unwrap();
        let Some(transition) = Transition::near(tz, base) else {
            return base;
        };
        let at = transition.at;
        let jump = (transition.after - transition.before).abs();
        let nanos = jiff::SignedDuration::from_nanos(i64::from(self.nanos));
        match self.near {
            Near::Anywhere => base + nanos,
            Near::On => at,
            Near::Nanosecond(after) => {
                let one = jiff::SignedDuration::from_nanos(1);
                if after { at + one } else { at - one }
            }
            Near::Seconds => at + jiff::SignedDuration::from_secs(bounded(self.param, 120)),
            Near::Minutes => at + jiff::SignedDuration::from_secs(60 * bounded(self.param, 180)),
            Near::Hours => {
                at + jiff::SignedDuration::from_secs(bounded(self.param, 6 * 3600)) + nanos
            }
            Near::WithinJump => at + jiff::SignedDuration::from_secs(bounded(self.param, jump)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn case_style() -> impl Strategy<Value = Option<Case>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Case::Lower)),
        1 => Just(Some(Case::Upper)),
        1 => Just(Some(Case::Title)),
        1 => Just(Some(Case::Alternating)),
    ]
}

/// A general item of a numeric field: `*`, a value, a range, `*/n`, `a-b/n`.
fn general_item(lo: u8, hi: u8) -> impl Strategy<Value = Item> {
    prop_oneof![
        1 => Just(Item::Star),
        5 => (lo..=hi).prop_map(Item::Value),
        3 => (lo..=hi, lo..=hi).prop_map(|(a, b)| Item::Range(a.min(b), a.max(b))),
        2 => (1..=hi - lo).prop_map(Item::StarStep),
        2 => (lo..=hi, lo..=hi, 1..=hi - lo).prop_map(|(a, b, n)| {
            let (a, b) = (a.min(b), a.max(b));
            Item::RangeStep(a, b, 1 + (n - 1) % (b - a).max(1))
        }),
    ]
}

fn field(kind: Kind, items: impl Strategy<Value = Vec<Item>>) -> impl Strategy<Value = Field> {
    (items, case_style(), any::<bool>()).prop_map(move |(items, names, sun_end_zero)| Field {
        kind,
        items,
        names,
        sun_end_zero,
    })
}

fn common_step() -> impl Strategy<Value = u8> {
    prop_oneof![3 => select(vec![2u8, 5, 10, 15, 20, 30]), 1 => 1u8..=59]
}

fn second_field() -> impl Strategy<Value = Field> {
    let items = prop_oneof![
        5 => Just(vec![Item::Value(0)]),
        2 => prop_oneof![select(vec![5u8, 10, 15, 20, 30]), 1u8..=59]
            .prop_map(|n| vec![Item::StarStep(n)]),
        2 => prop::collection::vec(general_item(0, 59), 1..=3),
        1 => Just(vec![Item::Star]),
    ];
    field(Kind::Second, items)
}

fn minute_field() -> impl Strategy<Value = Field> {
    let items = prop_oneof![
        3 => Just(vec![Item::Star]),
        3 => common_step().prop_map(|n| vec![Item::StarStep(n)]),
        4 => prop_oneof![select(vec![0u8, 15, 30, 45, 59]), 0u8..=59]
            .prop_map(|v| vec![Item::Value(v)]),
        3 => prop::collection::vec(general_item(0, 59), 1..=4),
    ];
    field(Kind::Minute, items)
}

fn hour_field() -> impl Strategy<Value = Field> {
    // Transitions happen at 00:00–03:45 wall time (and Sao Paulo's fold is 23:00–24:00).
    let dst_hour = prop_oneof![3 => select(vec![0u8, 1, 2, 3, 23]), 1 => 0u8..=23];
    let dst_range = (0u8..=3, 1u8..=4).prop_map(|(a, len)| Item::Range(a, (a + len).min(23)));
    let items = prop_oneof![
        3 => Just(vec![Item::Star]),
        5 => dst_hour.clone().prop_map(|h| vec![Item::Value(h)]),
        1 => (1u8..=23).prop_map(|n| vec![Item::StarStep(n)]),
        2 => dst_range.prop_map(|r| vec![r]),
        3 => prop::collection::vec(
            prop_oneof![2 => dst_hour.prop_map(Item::Value), 1 => general_item(0, 23)],
            1..=3,
        ),
    ];
    field(Kind::Hour, items)
}

fn dom_field() -> impl Strategy<Value = Field> {
    let item = prop_oneof![
        4 => general_item(1, 31),
        1 => Just(Item::LastDay),
        2 => (1u8..=31).prop_map(Item::NearestWeekday),
    ];
    let items = prop_oneof![
        10 => Just(vec![Item::Star]),
        1 => Just(vec![Item::Question]),
        1 => (1u8..=30).prop_map(|n| vec![Item::StarStep(n)]),
        4 => prop::collection::vec(item, 1..=3),
    ];
    field(Kind::Dom, items)
}

fn month_field() -> impl Strategy<Value = Field> {
    let items = prop_oneof![
        8 => Just(vec![Item::Star]),
        3 => prop::collection::vec(general_item(1, 12), 1..=3),
        1 => select(vec![2u8, 3, 4, 9, 10, 11]).prop_map(|m| vec![Item::Value(m)]),
    ];
    field(Kind::Month, items)
}

fn dow_field() -> impl Strategy<Value = Field> {
    // `0-0` is left out: CRON.md does not say whether a range that starts and ends on Sunday is
    // Sunday only or "up to 7" (every day).
    let general = general_item(0, 7).prop_map(|item| match item {
        Item::Range(0, 0) | Item::RangeStep(0, 0, _) => Item::Value(0),
        other => other,
    });
    let item = prop_oneof![
        4 => general,
        // Ranges ending in Sunday, written `a-7`, `a-0` or `a-sun`.
        2 => (1u8..=6, 0u8..=2).prop_map(|(a, step)| {
            if step == 0 { Item::Range(a, 7) } else { Item::RangeStep(a, 7, step) }
        }),
        2 => (0u8..=7, 1u8..=5).prop_map(|(d, k)| Item::Nth(d, k)),
        2 => (0u8..=7, any::<bool>()).prop_map(|(d, hash)| Item::LastOf(d, hash)),
    ];
    let items = prop_oneof![
        10 => Just(vec![Item::Star]),
        1 => Just(vec![Item::Question]),
        1 => (1u8..=7).prop_map(|n| vec![Item::StarStep(n)]),
        5 => prop::collection::vec(item, 1..=3),
    ];
    field(Kind::Dow, items)
}

fn fields_expr() -> impl Strategy<Value = Expr> {
    (
        prop::option::weighted(0.3, second_field()),
        minute_field(),
        hour_field(),
        dom_field(),
        month_field(),
        dow_field(),
    )
        .prop_map(|(second, minute, hour, dom, month, dow)| Expr::Fields {
            second,
            minute,
            hour,
            dom,
            month,
            dow,
        })
}

/// Fixed-time jobs (minute and hour restricted) at the hours where transitions happen, so that gap
/// catch-ups and first-pass-only fires come up often.
fn dst_fixed_expr() -> impl Strategy<Value = Expr> {
    let minute = prop_oneof![
        2 => prop_oneof![select(vec![0u8, 1, 15, 30, 44, 45, 59]), 0u8..=59]
            .prop_map(|v| vec![Item::Value(v)]),
        1 => prop::collection::vec((0u8..=59).prop_map(Item::Value), 2..=4),
        1 => (0u8..=59, 0u8..=59, 1u8..=20).prop_map(|(a, b, n)| {
            vec![Item::RangeStep(a.min(b), a.max(b), n)]
        }),
    ];
    let hour = prop_oneof![
        3 => select(vec![0u8, 1, 2, 3, 23]).prop_map(|h| vec![Item::Value(h)]),
        1 => (0u8..=2, 1u8..=3).prop_map(|(a, len)| vec![Item::Range(a, a + len)]),
        1 => prop::collection::vec(select(vec![0u8, 1, 2, 3, 23]).prop_map(Item::Value), 2..=3),
    ];
    (prop::option::weighted(0.3, second_field()), minute, hour).prop_map(
        |(second, minute, hour)| Expr::Fields {
            second,
            minute: plain(Kind::Minute, minute),
            hour: plain(Kind::Hour, hour),
            dom: plain(Kind::Dom, vec![Item::Star]),
            month: plain(Kind::Month, vec![Item::Star]),
            dow: plain(Kind::Dow, vec![Item::Star]),
        },
    )
}

/// Expressions that fire rarely, or never (those must be rejected by `CronExpr::parse`).
fn sparse_exprs() -> Vec<Expr> {
    use Item::{LastDay, LastOf, NearestWeekday, Nth, Question, Range, Star, StarStep, Value};
    vec![
        five(
            Value(0),
            Value(0),
            vec![Value(29)],
            vec![Value(2)],
            vec![Star],
        ),
        five(
            Value(0),
            Value(0),
            vec![LastDay],
            vec![Value(2)],
            vec![Star],
        ),
        five(Value(0), Value(0), vec![Star], vec![Star], vec![Nth(5, 5)]),
        five(
            Value(30),
            Value(2),
            vec![Question],
            vec![Value(2)],
            vec![Nth(1, 5)],
        ),
        five(
            Value(0),
            Value(12),
            vec![Value(31)],
            vec![StarStep(2)],
            vec![Star],
        ),
        five(
            Value(0),
            Value(0),
            vec![NearestWeekday(29)],
            vec![Value(2)],
            vec![Star],
        ),
        five(
            Value(0),
            Value(0),
            vec![Value(30)],
            vec![Value(2)],
            vec![Value(1)],
        ),
        five(
            Value(0),
            Value(0),
            vec![Value(29)],
            vec![Value(2)],
            vec![Nth(0, 5)],
        ),
        five(
            Value(0),
            Value(0),
            vec![StarStep(29)],
            vec![Value(2)],
            vec![LastOf(6, true)],
        ),
        five(
            Value(0),
            Value(0),
            vec![Value(13)],
            vec![Star],
            vec![Value(5)],
        ),
        five(
            Value(0),
            Value(0),
            vec![Star],
            vec![Range(2, 3)],
            vec![Nth(0, 2)],
        ),
        // Never fire: must be rejected at creation.
        five(
            Value(0),
            Value(0),
            vec![Value(30)],
            vec![Value(2)],
            vec![Star],
        ),
        five(
            Value(0),
            Value(0),
            vec![Value(31)],
            vec![Value(4), Value(6)],
            vec![Question],
        ),
        five(
            Value(0),
            Value(0),
            vec![NearestWeekday(30)],
            vec![Value(2)],
            vec![Star],
        ),
        five(
            Value(0),
            Value(0),
            vec![NearestWeekday(31)],
            vec![Value(6), Value(9)],
            vec![Star],
        ),
        five(
            Value(0),
            Value(0),
            vec![Range(30, 31)],
            vec![Value(2)],
            vec![Question],
        ),
    ]
}

fn expr_strategy() -> impl Strategy<Value = Expr> {
    prop_oneof![
        24 => fields_expr(),
        8 => dst_fixed_expr(),
        2 => select(vec![
            "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
        ])
        .prop_map(Expr::Macro),
        3 => select(sparse_exprs()),
    ]
}

fn start_strategy() -> impl Strategy<Value = StartSpec> {
    let near = prop_oneof![
        3 => Just(Near::Anywhere),
        2 => Just(Near::On),
        1 => any::<bool>().prop_map(Near::Nanosecond),
        2 => Just(Near::Seconds),
        3 => Just(Near::Minutes),
        2 => Just(Near::Hours),
        3 => Just(Near::WithinJump),
    ];
    let nanos = prop_oneof![2 => Just(0), 1 => 0..1_000_000_000i32];
    (
        0..ZONES.len(),
        FIRST_START..LAST_START,
        near,
        any::<i64>(),
        nanos,
    )
        .prop_map(|(zone, base, near, param, nanos)| StartSpec {
            zone,
            base,
            near,
            param,
            nanos,
        })
}

/// A job at the wall hour of the transition nearest to the start (resolved in the test body).
#[derive(Clone, Debug)]
struct TransitionJob {
    second: Option<Field>,
    minute: Field,
    /// Hours relative to the transition's wall hour.
    hour_deltas: Vec<i8>,
    start: StartSpec,
}

impl TransitionJob {
    fn expr(&self, tz: &TimeZone) -> Expr {
        let base = Timestamp::from_second(self.start.base).unwrap();
        let hour = Transition::near(tz, base).map_or(2, |t| t.wall_hour());
        let hours = self
            .hour_deltas
            .iter()
            .map(|&delta| {
                Item::Value(
                    u8::try_from((i16::from(hour) + i16::from(delta)).rem_euclid(24)).unwrap(),
                )
            })
            .collect();
        Expr::Fields {
            second: self.second.clone(),
            minute: self.minute.clone(),
            hour: plain(Kind::Hour, hours),
            dom: plain(Kind::Dom, vec![Item::Star]),
            month: plain(Kind::Month, vec![Item::Star]),
            dow: plain(Kind::Dow, vec![Item::Star]),
        }
    }
}

fn transition_job_strategy() -> impl Strategy<Value = TransitionJob> {
    let dst_zones: Vec<usize> = (0..ZONES.len())
        .filter(|&i| !matches!(ZONES[i], "UTC" | "Asia/Kolkata"))
        .collect();
    let near = prop_oneof![
        1 => Just(Near::On),
        1 => any::<bool>().prop_map(Near::Nanosecond),
        2 => Just(Near::Seconds),
        4 => Just(Near::Minutes),
        2 => Just(Near::Hours),
        3 => Just(Near::WithinJump),
    ];
    let nanos = prop_oneof![2 => Just(0), 1 => 0..1_000_000_000i32];
    let start = (
        select(dst_zones),
        FIRST_START..LAST_START,
        near,
        any::<i64>(),
        nanos,
    )
        .prop_map(|(zone, base, near, param, nanos)| StartSpec {
            zone,
            base,
            near,
            param,
            nanos,
        });
    let hour_deltas = prop_oneof![
        6 => Just(vec![0i8]),
        1 => Just(vec![1i8]),
        1 => Just(vec![-1i8]),
        2 => Just(vec![0i8, 1]),
        1 => Just(vec![-1i8, 0]),
    ];
    (
        prop::option::weighted(0.3, second_field()),
        minute_field(),
        hour_deltas,
        start,
    )
        .prop_map(|(second, minute, hour_deltas, start)| TransitionJob {
            second,
            minute,
            hour_deltas,
            start,
        })
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

fn rfc3339(ts: Option<Timestamp>, tz: &TimeZone) -> String {
    ts.map_or_else(
        || "none".to_owned(),
        |ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
                .to_string()
        },
    )
}

fn check(expr: &Expr, start: StartSpec, chain: usize) -> Result<(), TestCaseError> {
    let text = expr.render();
    let model = expr.model();
    let zone_name = start.zone_name();
    let tz = TimeZone::get(zone_name).unwrap();
    let start_ts = start.resolve(&tz);
    let parsed = match CronExpr::parse(&text) {
        Ok(parsed) => parsed,
        Err(error) => {
            let fires = model.first_matching_day_in_cycle();
            prop_assert!(
                fires.is_none(),
                "`{text}` was rejected ({error}) but it fires, e.g. on day {:?} (y, m, d)",
                fires.map(civil_from_days)
            );
            return Ok(());
        }
    };
    let trigger = CronTrigger::new(parsed, Zone::parse(zone_name).unwrap());
    let mut at = start_ts;
    for step in 0..chain {
        let expected = oracle_next(&model, &tz, at);
        if expected.is_none() {
            prop_assert!(
                model.first_matching_day_in_cycle().is_some(),
                "`{text}` can never fire but CronExpr::parse accepted it"
            );
        }
        let actual = trigger.next_after(at);
        prop_assert_eq!(
            rfc3339(actual, &tz),
            rfc3339(expected, &tz),
            "\n  expr  `{}` ({} job)\n  zone  {}\n  after {} (chain step {}, first start {})\n  \
             (left = implementation, right = oracle)",
            text,
            if model.wildcard {
                "wildcard"
            } else {
                "fixed-time"
            },
            zone_name,
            rfc3339(Some(at), &tz),
            step,
            rfc3339(Some(start_ts), &tz),
        );
        match actual {
            Some(next) => at = next,
            None => break,
        }
    }
    Ok(())
}

/// `default_cases` cases, or `PROPTEST_CASES` when set (for longer local runs).
fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(6000))]

    #[test]
    fn next_after_matches_brute_force_oracle(
        expr in expr_strategy(),
        start in start_strategy(),
        chain in 3usize..=5,
    ) {
        check(&expr, start, chain)?;
    }
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn jobs_at_the_transition_hour_match_brute_force_oracle(
        job in transition_job_strategy(),
        chain in 3usize..=5,
    ) {
        let tz = TimeZone::get(job.start.zone_name()).unwrap();
        check(&job.expr(&tz), job.start, chain)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle checked against CRON.md's own examples, so that a wrong oracle fails here first.
// ---------------------------------------------------------------------------------------------

fn oracle_chain(expr: &Expr, zone: &str, after: &str, count: usize) -> Vec<String> {
    let tz = TimeZone::get(zone).unwrap();
    let model = expr.model();
    let mut at: Timestamp = after.parse().unwrap();
    let mut out = Vec::new();
    for _ in 0..count {
        let Some(next) = oracle_next(&model, &tz, at) else {
            break;
        };
        out.push(rfc3339(Some(next), &tz));
        at = next;
    }
    out
}

#[test]
fn oracle_agrees_with_cron_md_examples() {
    use Item::{Star, StarStep, Value};
    let fixed_0230 = five(Value(30), Value(2), vec![Star], vec![Star], vec![Star]);
    assert_eq!(
        oracle_chain(
            &fixed_0230,
            "America/New_York",
            "2025-03-08T12:00:00-05:00",
            3
        ),
        [
            "2025-03-09T03:00:00-04:00",
            "2025-03-10T02:30:00-04:00",
            "2025-03-11T02:30:00-04:00",
        ]
    );
    let fixed_0130 = five(Value(30), Value(1), vec![Star], vec![Star], vec![Star]);
    assert_eq!(
        oracle_chain(
            &fixed_0130,
            "America/New_York",
            "2025-11-01T12:00:00-04:00",
            2
        ),
        ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"]
    );
    let every_30 = five(StarStep(30), Star, vec![Star], vec![Star], vec![Star]);
    assert_eq!(
        oracle_chain(
            &every_30,
            "America/New_York",
            "2025-11-02T00:45:00-04:00",
            5
        ),
        [
            "2025-11-02T01:00:00-04:00",
            "2025-11-02T01:30:00-04:00",
            "2025-11-02T01:00:00-05:00",
            "2025-11-02T01:30:00-05:00",
            "2025-11-02T02:00:00-05:00",
        ]
    );
    let wildcard_gap = five(StarStep(15), Value(2), vec![Star], vec![Star], vec![Star]);
    assert_eq!(
        oracle_chain(
            &wildcard_gap,
            "America/New_York",
            "2025-03-09T01:50:00-05:00",
            1
        ),
        ["2025-03-10T02:00:00-04:00"]
    );
    let vixie_or = Expr::Fields {
        second: None,
        minute: plain(Kind::Minute, vec![Value(30)]),
        hour: plain(Kind::Hour, vec![Value(4)]),
        dom: plain(Kind::Dom, vec![Value(1), Value(15)]),
        month: plain(Kind::Month, vec![Star]),
        dow: plain(Kind::Dow, vec![Value(5)]),
    };
    assert_eq!(
        oracle_chain(&vixie_or, "UTC", "2025-01-31T00:00:00Z", 4),
        [
            "2025-01-31T04:30:00+00:00",
            "2025-02-01T04:30:00+00:00",
            "2025-02-07T04:30:00+00:00",
            "2025-02-14T04:30:00+00:00",
        ]
    );
    let vixie_and = five(
        Value(0),
        Value(0),
        vec![StarStep(2)],
        vec![Star],
        vec![Value(1)],
    );
    assert_eq!(
        oracle_chain(&vixie_and, "UTC", "2025-08-31T00:00:00Z", 3),
        [
            "2025-09-01T00:00:00+00:00",
            "2025-09-15T00:00:00+00:00",
            "2025-09-29T00:00:00+00:00",
        ]
    );
    assert!(
        five(
            Value(0),
            Value(0),
            vec![Value(30)],
            vec![Value(2)],
            vec![Star]
        )
        .model()
        .first_matching_day_in_cycle()
        .is_none()
    );
}
