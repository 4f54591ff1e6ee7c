//! Parsing cron text into fields, with errors that name the field, the item and the reason.

use super::field::{Field, FieldKind, Item};

/// Why a cron expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "empty expression: expected 5 fields (minute hour day-of-month month day-of-week), 6 fields (second first) or a macro such as @daily"
    )]
    Empty,
    #[error(
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week), found {found} in `{expr}`"
    )]
    FieldCount { found: usize, expr: String },
    #[error("{reason}")]
    Macro { name: String, reason: String },
    /// A field item that is malformed or out of range.
    #[error("{field}: {reason}")]
    Item {
        field: FieldKind,
        item: String,
        reason: String,
    },
    /// A well-formed expression that matches no instant, ever.
    #[error("`{expr}` can never fire: {reason}")]
    NeverFires { expr: String, reason: String },
}

impl CronError {
    /// The field the error is about, if it is about one field.
    pub fn field(&self) -> Option<FieldKind> {
        match self {
            CronError::Item { field, .. } => Some(*field),
            _ => None,
        }
    }
}

/// Expands a macro (`@daily`, …) into its five fields.
pub(crate) fn expand_macro(name: &str) -> Result<&'static str, CronError> {
    let expanded = match name.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        "@reboot" => {
            return Err(CronError::Macro {
                name: name.to_owned(),
                reason: "`@reboot` is not supported: set the schedule's run_on_start instead"
                    .to_owned(),
            });
        }
        _ => {
            return Err(CronError::Macro {
                name: name.to_owned(),
                reason: format!(
                    "unknown macro `{name}`: expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
                ),
            });
        }
    };
    Ok(expanded)
}

/// Parses one field's text.
pub(crate) fn parse_field(kind: FieldKind, text: &str) -> Result<Field, CronError> {
    let starts_with_any = text.starts_with('*') || text.starts_with('?');
    let items = text
        .split(',')
        .map(|item| parse_item(kind, item, text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Field {
        kind,
        items,
        starts_with_any,
    })
}

fn error(kind: FieldKind, item: &str, reason: impl Into<String>) -> CronError {
    CronError::Item {
        field: kind,
        item: item.to_owned(),
        reason: reason.into(),
    }
}

fn parse_item(kind: FieldKind, item: &str, field_text: &str) -> Result<Item, CronError> {
    if item.is_empty() {
        return Err(error(
            kind,
            item,
            format!("empty item in `{field_text}`: items are separated by single commas"),
        ));
    }
    if let Some((base, step)) = item.split_once('/') {
        return parse_step(kind, item, base, step);
    }
    if item == "*" {
        return Ok(Item::Any);
    }
    if item == "?" {
        return match kind {
            FieldKind::DayOfMonth | FieldKind::DayOfWeek => Ok(Item::Any),
            _ => Err(error(
                kind,
                item,
                "`?` is only allowed in day-of-month and day-of-week",
            )),
        };
    }
    match kind {
        FieldKind::DayOfMonth => {
            if let Some(special) = parse_day_of_month_special(item)? {
                return Ok(special);
            }
        }
        FieldKind::DayOfWeek => {
            if let Some(special) = parse_day_of_week_special(item)? {
                return Ok(special);
            }
        }
        _ => {}
    }
    if let Some((a, b)) = item.split_once('-') {
        let (start, end) = parse_range(kind, item, a, b)?;
        return Ok(if start == end {
            Item::Value(start)
        } else {
            Item::Range(start, end)
        });
    }
    let value = parse_value(kind, item, item)?;
    Ok(Item::Value(normalise_weekday(kind, value)))
}

fn parse_step(kind: FieldKind, item: &str, base: &str, step: &str) -> Result<Item, CronError> {
    let step = match step.parse::<u32>() {
        Ok(0) => {
            return Err(error(
                kind,
                item,
                format!("step 0 in `{item}`: a step must be at least 1"),
            ));
        }
        Ok(n) => u8::try_from(n).unwrap_or(u8::MAX),
        Err(_) => {
            return Err(error(
                kind,
                item,
                format!("step `{step}` in `{item}` is not a whole number"),
            ));
        }
    };
    if base == "*" || (base == "?" && matches!(kind, FieldKind::DayOfMonth | FieldKind::DayOfWeek))
    {
        let (start, end) = kind.any_range();
        return Ok(Item::Step {
            start,
            end,
            step,
            from_any: true,
        });
    }
    let Some((a, b)) = base.split_once('-') else {
        let (_, max) = kind.bounds();
        return Err(error(
            kind,
            item,
            format!(
                "`{item}`: a step needs `*` or a range before the `/` (write `*/{step}` or `{base}-{max}/{step}`)"
            ),
        ));
    };
    let (start, end) = parse_range(kind, item, a, b)?;
    Ok(Item::Step {
        start,
        end,
        step,
        from_any: false,
    })
}

fn parse_range(kind: FieldKind, item: &str, a: &str, b: &str) -> Result<(u8, u8), CronError> {
    let start = parse_value(kind, item, a)?;
    let mut end = parse_value(kind, item, b)?;
    if kind == FieldKind::DayOfWeek {
        // `fri-sun` means Friday through Sunday: a range ending at Sunday (0) ends at 7.
        // `sun-sun` and `0-0` stay Sunday alone.
        if end == 0 && start > 0 {
            end = 7;
        }
        if start == 7 && end == 7 {
            return Ok((0, 0));
        }
    }
    if start > end {
        return Err(error(
            kind,
            item,
            format!(
                "range `{item}` is reversed ({start} > {end}); write the smaller value first, or list the values"
            ),
        ));
    }
    Ok((start, end))
}

/// Parses a number or a name, checking the field's bounds.
fn parse_value(kind: FieldKind, item: &str, text: &str) -> Result<u8, CronError> {
    let (min, max) = kind.bounds();
    if text.is_empty() {
        return Err(error(kind, item, format!("`{item}` is missing a value")));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let value = text.parse::<u32>().unwrap_or(u32::MAX);
        return match u8::try_from(value) {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => {
                let shown = text.trim_start_matches('0');
                let shown = if shown.is_empty() { "0" } else { shown };
                let context = if item == text {
                    String::new()
                } else {
                    format!(" in `{item}`")
                };
                Err(error(
                    kind,
                    item,
                    format!("value {shown}{context} out of range {min}-{max}"),
                ))
            }
        };
    }
    let lower = text.to_ascii_lowercase();
    if let Some((_, value)) = kind.names().iter().find(|(name, _)| *name == lower) {
        return Ok(*value);
    }
    let hint = match kind {
        FieldKind::Month => "; month names are jan-dec",
        FieldKind::DayOfWeek => "; day names are sun-sat",
        _ => "",
    };
    let what = if text.bytes().any(|b| b.is_ascii_alphabetic()) {
        format!("unknown name `{text}`")
    } else {
        format!("`{text}` is not a number")
    };
    let context = if item == text {
        String::new()
    } else {
        format!(" in `{item}`")
    };
    Err(error(kind, item, format!("{what}{context}{hint}")))
}

fn normalise_weekday(kind: FieldKind, value: u8) -> u8 {
    if kind == FieldKind::DayOfWeek && value == 7 {
        0
    } else {
        value
    }
}

/// `L` and `nW`.
fn parse_day_of_month_special(item: &str) -> Result<Option<Item>, CronError> {
    let kind = FieldKind::DayOfMonth;
    let upper = item.to_ascii_uppercase();
    if upper == "L" {
        return Ok(Some(Item::LastDayOfMonth));
    }
    if upper == "LW" {
        return Err(error(
            kind,
            item,
            "`LW` is not supported: use `L` for the last day of the month, or `nW` for the weekday nearest day n",
        ));
    }
    if upper.starts_with('L') {
        return Err(error(
            kind,
            item,
            format!("`{item}`: offsets from the last day are not supported; use `L` alone"),
        ));
    }
    if let Some(day) = upper.strip_suffix('W') {
        let day = parse_value(kind, item, day)?;
        return Ok(Some(Item::NearestWeekday(day)));
    }
    if upper.contains('W') || upper.contains('#') {
        return Err(error(
            kind,
            item,
            format!("`{item}` is not a day of the month: expected 1-31, `L` or `nW`"),
        ));
    }
    Ok(None)
}

/// `D#k`, `D#L` and `DL`.
fn parse_day_of_week_special(item: &str) -> Result<Option<Item>, CronError> {
    let kind = FieldKind::DayOfWeek;
    if let Some((day, nth)) = item.split_once('#') {
        let weekday = normalise_weekday(kind, parse_value(kind, item, day)?);
        if nth.eq_ignore_ascii_case("L") {
            return Ok(Some(Item::LastWeekday(weekday)));
        }
        return match nth.parse::<u8>() {
            Ok(n @ 1..=5) => Ok(Some(Item::NthWeekday { weekday, nth: n })),
            _ => Err(error(
                kind,
                item,
                format!("`{item}`: the week after `#` must be 1-5 or L"),
            )),
        };
    }
    if item.eq_ignore_ascii_case("L") {
        return Err(error(
            kind,
            item,
            "`L` alone is not a day of the week: write `DL` for the last D of the month (e.g. `5L` or `friL`), or put `L` in day-of-month",
        ));
    }
    if item.len() > 1 && (item.ends_with('L') || item.ends_with('l')) {
        let day = &item[..item.len() - 1];
        // A name ending in `l` would be ambiguous, but no day name does.
        let weekday = normalise_weekday(kind, parse_value(kind, item, day)?);
        return Ok(Some(Item::LastWeekday(weekday)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(kind: FieldKind, text: &str) -> Vec<Item> {
        parse_field(kind, text).unwrap().items
    }

    fn err(kind: FieldKind, text: &str) -> String {
        parse_field(kind, text).unwrap_err().to_string()
    }

    #[test]
    fn plain_forms() {
        use FieldKind::*;
        assert_eq!(items(Minute, "*"), [Item::Any]);
        assert_eq!(items(Minute, "5"), [Item::Value(5)]);
        assert_eq!(items(Minute, "05"), [Item::Value(5)]);
        assert_eq!(items(Hour, "9-18"), [Item::Range(9, 18)]);
        assert_eq!(
            items(Minute, "*/15"),
            [Item::Step {
                start: 0,
                end: 59,
                step: 15,
                from_any: true
            }]
        );
        assert_eq!(
            items(Minute, "10-40/10"),
            [Item::Step {
                start: 10,
                end: 40,
                step: 10,
                from_any: false
            }]
        );
        assert_eq!(items(DayOfMonth, "1,15"), [Item::Value(1), Item::Value(15)]);
        assert_eq!(items(DayOfMonth, "?"), [Item::Any]);
        assert_eq!(items(DayOfWeek, "?"), [Item::Any]);
    }

    #[test]
    fn names_are_case_insensitive() {
        use FieldKind::*;
        assert_eq!(items(Month, "JAN,Jul"), [Item::Value(1), Item::Value(7)]);
        assert_eq!(items(Month, "mar-MAY"), [Item::Range(3, 5)]);
        assert_eq!(items(DayOfWeek, "Mon-fri"), [Item::Range(1, 5)]);
        assert_eq!(items(DayOfWeek, "SUN"), [Item::Value(0)]);
    }

    #[test]
    fn day_of_week_seven_is_sunday_and_ranges_may_end_on_sunday() {
        use FieldKind::*;
        assert_eq!(items(DayOfWeek, "7"), [Item::Value(0)]);
        assert_eq!(items(DayOfWeek, "fri-sun"), [Item::Range(5, 7)]);
        assert_eq!(items(DayOfWeek, "5-0"), [Item::Range(5, 7)]);
        assert_eq!(items(DayOfWeek, "5-7"), [Item::Range(5, 7)]);
        // Regression: a range from Sunday to Sunday is Sunday, not the whole week.
        assert_eq!(items(DayOfWeek, "0-0"), [Item::Value(0)]);
        assert_eq!(items(DayOfWeek, "sun-sun"), [Item::Value(0)]);
        assert_eq!(items(DayOfWeek, "7-7"), [Item::Value(0)]);
        let field = parse_field(DayOfWeek, "fri-sun").unwrap();
        assert_eq!(field.value_bits(), 0b110_0001);
    }

    #[test]
    fn day_specials() {
        use FieldKind::*;
        assert_eq!(items(DayOfMonth, "L"), [Item::LastDayOfMonth]);
        assert_eq!(items(DayOfMonth, "l"), [Item::LastDayOfMonth]);
        assert_eq!(items(DayOfMonth, "15W"), [Item::NearestWeekday(15)]);
        assert_eq!(
            items(DayOfMonth, "1,L"),
            [Item::Value(1), Item::LastDayOfMonth]
        );
        assert_eq!(
            items(DayOfWeek, "5#2"),
            [Item::NthWeekday { weekday: 5, nth: 2 }]
        );
        assert_eq!(
            items(DayOfWeek, "fri#5"),
            [Item::NthWeekday { weekday: 5, nth: 5 }]
        );
        assert_eq!(items(DayOfWeek, "5L"), [Item::LastWeekday(5)]);
        assert_eq!(items(DayOfWeek, "friL"), [Item::LastWeekday(5)]);
        assert_eq!(items(DayOfWeek, "7#L"), [Item::LastWeekday(0)]);
    }

    #[test]
    fn out_of_range_values_name_field_value_and_range() {
        use FieldKind::*;
        assert_eq!(err(Minute, "61"), "minute: value 61 out of range 0-59");
        assert_eq!(err(Second, "60"), "second: value 60 out of range 0-59");
        assert_eq!(err(Hour, "24"), "hour: value 24 out of range 0-23");
        assert_eq!(
            err(DayOfMonth, "0"),
            "day-of-month: value 0 out of range 1-31"
        );
        assert_eq!(
            err(DayOfMonth, "32"),
            "day-of-month: value 32 out of range 1-31"
        );
        assert_eq!(err(Month, "13"), "month: value 13 out of range 1-12");
        assert_eq!(err(DayOfWeek, "8"), "day-of-week: value 8 out of range 0-7");
        assert_eq!(
            err(Minute, "5-70"),
            "minute: value 70 in `5-70` out of range 0-59"
        );
        assert_eq!(
            err(Minute, "99999999999"),
            "minute: value 99999999999 out of range 0-59"
        );
    }

    #[test]
    fn malformed_items_say_what_is_wrong() {
        use FieldKind::*;
        assert_eq!(
            err(Minute, "5-2"),
            "minute: range `5-2` is reversed (5 > 2); write the smaller value first, or list the values"
        );
        assert_eq!(
            err(Minute, "*/0"),
            "minute: step 0 in `*/0`: a step must be at least 1"
        );
        assert_eq!(
            err(Minute, "*/x"),
            "minute: step `x` in `*/x` is not a whole number"
        );
        assert_eq!(
            err(Minute, "5/10"),
            "minute: `5/10`: a step needs `*` or a range before the `/` (write `*/10` or `5-59/10`)"
        );
        assert_eq!(
            err(Minute, "1,,2"),
            "minute: empty item in `1,,2`: items are separated by single commas"
        );
        assert_eq!(
            err(Hour, "?"),
            "hour: `?` is only allowed in day-of-month and day-of-week"
        );
        assert_eq!(err(Minute, "x"), "minute: unknown name `x`");
        assert_eq!(err(Minute, "1.5"), "minute: `1.5` is not a number");
        assert_eq!(err(Minute, "1-"), "minute: `1-` is missing a value");
        assert_eq!(
            err(Month, "janu"),
            "month: unknown name `janu`; month names are jan-dec"
        );
        assert_eq!(
            err(DayOfWeek, "mon-fry"),
            "day-of-week: unknown name `fry` in `mon-fry`; day names are sun-sat"
        );
        assert_eq!(
            err(DayOfWeek, "tue-mon"),
            "day-of-week: range `tue-mon` is reversed (2 > 1); write the smaller value first, or list the values"
        );
        assert_eq!(
            err(Month, "mon"),
            "month: unknown name `mon`; month names are jan-dec"
        );
    }

    #[test]
    fn malformed_day_specials_say_what_is_wrong() {
        use FieldKind::*;
        assert_eq!(
            err(DayOfMonth, "LW"),
            "day-of-month: `LW` is not supported: use `L` for the last day of the month, or `nW` for the weekday nearest day n"
        );
        assert_eq!(
            err(DayOfMonth, "L-2"),
            "day-of-month: `L-2`: offsets from the last day are not supported; use `L` alone"
        );
        assert_eq!(
            err(DayOfMonth, "32W"),
            "day-of-month: value 32 in `32W` out of range 1-31"
        );
        assert_eq!(
            err(DayOfMonth, "5#2"),
            "day-of-month: `5#2` is not a day of the month: expected 1-31, `L` or `nW`"
        );
        assert_eq!(
            err(DayOfWeek, "5#6"),
            "day-of-week: `5#6`: the week after `#` must be 1-5 or L"
        );
        assert_eq!(
            err(DayOfWeek, "5#0"),
            "day-of-week: `5#0`: the week after `#` must be 1-5 or L"
        );
        assert_eq!(
            err(DayOfWeek, "L"),
            "day-of-week: `L` alone is not a day of the week: write `DL` for the last D of the month (e.g. `5L` or `friL`), or put `L` in day-of-month"
        );
        assert_eq!(
            err(DayOfWeek, "9L"),
            "day-of-week: value 9 in `9L` out of range 0-7"
        );
        assert_eq!(err(Minute, "L"), "minute: unknown name `L`");
    }

    #[test]
    fn macros_expand_and_reboot_is_explained() {
        assert_eq!(expand_macro("@daily").unwrap(), "0 0 * * *");
        assert_eq!(expand_macro("@MIDNIGHT").unwrap(), "0 0 * * *");
        assert_eq!(expand_macro("@annually").unwrap(), "0 0 1 1 *");
        assert_eq!(expand_macro("@yearly").unwrap(), "0 0 1 1 *");
        assert_eq!(expand_macro("@monthly").unwrap(), "0 0 1 * *");
        assert_eq!(expand_macro("@weekly").unwrap(), "0 0 * * 0");
        assert_eq!(expand_macro("@hourly").unwrap(), "0 * * * *");
        assert_eq!(
            expand_macro("@reboot").unwrap_err().to_string(),
            "`@reboot` is not supported: set the schedule's run_on_start instead"
        );
        assert_eq!(
            expand_macro("@fortnightly").unwrap_err().to_string(),
            "unknown macro `@fortnightly`: expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
        );
    }
}
