//! The six cron fields, their ranges and names, and the items a field is a list of.

use std::fmt;

/// One of the six fields of a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl FieldKind {
    /// The fields of a 6-field expression, in order.
    pub(crate) const ALL: [FieldKind; 6] = [
        FieldKind::Second,
        FieldKind::Minute,
        FieldKind::Hour,
        FieldKind::DayOfMonth,
        FieldKind::Month,
        FieldKind::DayOfWeek,
    ];

    /// The field's name as users write it in messages.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Second => "second",
            FieldKind::Minute => "minute",
            FieldKind::Hour => "hour",
            FieldKind::DayOfMonth => "day-of-month",
            FieldKind::Month => "month",
            FieldKind::DayOfWeek => "day-of-week",
        }
    }

    /// The smallest and largest value a user may write (day-of-week accepts 7 for Sunday).
    pub(crate) fn bounds(self) -> (u8, u8) {
        match self {
            FieldKind::Second | FieldKind::Minute => (0, 59),
            FieldKind::Hour => (0, 23),
            FieldKind::DayOfMonth => (1, 31),
            FieldKind::Month => (1, 12),
            FieldKind::DayOfWeek => (0, 7),
        }
    }

    /// The range `*` stands for (day-of-week: 0-6, Sunday counted once).
    pub(crate) fn any_range(self) -> (u8, u8) {
        match self {
            FieldKind::DayOfWeek => (0, 6),
            other => other.bounds(),
        }
    }

    /// Three-letter names the field accepts, with their values.
    pub(crate) fn names(self) -> &'static [(&'static str, u8)] {
        match self {
            FieldKind::Month => &[
                ("jan", 1),
                ("feb", 2),
                ("mar", 3),
                ("apr", 4),
                ("may", 5),
                ("jun", 6),
                ("jul", 7),
                ("aug", 8),
                ("sep", 9),
                ("oct", 10),
                ("nov", 11),
                ("dec", 12),
            ],
            FieldKind::DayOfWeek => &[
                ("sun", 0),
                ("mon", 1),
                ("tue", 2),
                ("wed", 3),
                ("thu", 4),
                ("fri", 5),
                ("sat", 6),
            ],
            _ => &[],
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One comma-separated item of a field, after parsing. Day-of-week values are 0-6 (Sunday 0),
/// except that a range may end at 7 (`fri-sun` is `5-7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    /// `*` or `?`.
    Any,
    Value(u8),
    /// `a-b`, inclusive.
    Range(u8, u8),
    /// `*/n` (with `from_any`) or `a-b/n`.
    Step {
        start: u8,
        end: u8,
        step: u8,
        from_any: bool,
    },
    /// Day-of-month `L`.
    LastDayOfMonth,
    /// Day-of-month `nW`.
    NearestWeekday(u8),
    /// Day-of-week `D#k`.
    NthWeekday {
        weekday: u8,
        nth: u8,
    },
    /// Day-of-week `DL` or `D#L`.
    LastWeekday(u8),
}

/// A parsed field: its items, and whether its text starts with `*` or `?` (which decides the
/// Vixie day-of-month/day-of-week rule and whether a job is a wildcard job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) kind: FieldKind,
    pub(crate) items: Vec<Item>,
    pub(crate) starts_with_any: bool,
}

impl Field {
    /// The plain values the field allows, as a bit set (bit `v` for value `v`), ignoring the
    /// day specials `L`, `nW`, `D#k` and `DL`. Day-of-week 7 is folded onto 0.
    pub(crate) fn value_bits(&self) -> u64 {
        let mut bits = 0_u64;
        for item in &self.items {
            let (start, end, step) = match *item {
                Item::Any => {
                    let (lo, hi) = self.kind.any_range();
                    (lo, hi, 1)
                }
                Item::Value(v) => (v, v, 1),
                Item::Range(a, b) => (a, b, 1),
                Item::Step {
                    start, end, step, ..
                } => (start, end, step),
                _ => continue,
            };
            let mut v = start;
            while v <= end {
                bits |= 1 << v;
                match v.checked_add(step) {
                    Some(next) => v = next,
                    None => break,
                }
            }
        }
        if self.kind == FieldKind::DayOfWeek && bits & (1 << 7) != 0 {
            bits = (bits | 1) & !(1 << 7);
        }
        bits
    }

    /// True when the field is exactly `*` (or `?`): it restricts nothing.
    pub(crate) fn is_any(&self) -> bool {
        self.items == [Item::Any]
    }
}
