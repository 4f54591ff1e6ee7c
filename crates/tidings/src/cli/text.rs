//! How the store's values are written for people on the command line: instants in a zone,
//! triggers, durations, and aligned tables. Machine output (`--json`) is plain serde.

use std::io::Write;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tidings_core::{Trigger, Zone};

use super::Failure;
use crate::config::duration;

/// An instant as RFC 3339 with the zone's offset, fractional seconds only when there are some.
pub(crate) fn instant(at: Timestamp, zone: &Zone) -> String {
    at.to_zoned(zone.tz().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
        .to_string()
}

/// An optional instant, `-` when there is none.
pub(crate) fn maybe_instant(at: Option<Timestamp>, zone: &Zone) -> String {
    at.map_or_else(|| "-".to_owned(), |at| instant(at, zone))
}

/// The zone a schedule's instants are shown in: its cron zone, else `fallback`.
pub(crate) fn zone_of<'a>(trigger: &'a Trigger, fallback: &'a Zone) -> &'a Zone {
    match trigger {
        Trigger::Cron(cron) => cron.zone(),
        Trigger::Interval(_) | Trigger::Once(_) => fallback,
    }
}

/// `cron 0 9-18 * * 1-5 America/New_York`, `every 15m`, `once 2026-01-05T09:00:00+00:00`.
pub(crate) fn trigger(trigger: &Trigger, zone: &Zone) -> String {
    match trigger {
        Trigger::Cron(cron) => format!("cron {} {}", cron.expr(), cron.zone()),
        Trigger::Interval(interval) => format!(
            "every {}",
            duration::format(std::time::Duration::from_secs(interval.every_seconds()))
        ),
        Trigger::Once(once) => format!("once {}", instant(once.at(), zone)),
    }
}

/// A signed duration the short way: `250ms`, `2.5s`, `1m 5s`.
pub(crate) fn elapsed(duration: SignedDuration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        let seconds = format!("{:.2}", duration.as_secs_f64());
        format!("{}s", seconds.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!(
            "{:#}",
            duration.round(jiff::Unit::Second).unwrap_or(duration)
        )
    }
}

/// A duration from the store (policy timeouts, backoffs) as configuration writes it: `5m`.
pub(crate) fn policy_duration(duration: SignedDuration) -> String {
    std::time::Duration::try_from(duration)
        .map_or_else(|_| format!("{duration:#}"), duration::format)
}

/// `text` cut to `max` characters, `…` marking the cut; newlines become spaces.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let flat = text.replace(['\n', '\r'], " ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

pub(crate) fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Columns aligned under a header, two spaces apart, with no trailing spaces.
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut text = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                let pad = widths[c].saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

/// Writes `text` to `out`.
pub(crate) fn write(out: &mut dyn Write, text: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes())
        .context("cannot write output")
        .map_err(Failure::runtime)
}

/// Writes `value` as pretty JSON and a newline.
pub(crate) fn write_json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value)
        .context("cannot write JSON")
        .map_err(Failure::runtime)?;
    text.push('\n');
    write(out, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_without_trailing_spaces() {
        let mut table = Table::new(&["ID", "NAME", "ERROR"]);
        table.row(vec!["1".to_owned(), "hello".to_owned(), String::new()]);
        table.row(vec!["12".to_owned(), "a".to_owned(), "boom".to_owned()]);
        assert_eq!(
            table.render(),
            "ID  NAME   ERROR\n1   hello\n12  a      boom\n"
        );
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(elapsed(SignedDuration::from_millis(250)), "250ms");
        assert_eq!(elapsed(SignedDuration::from_millis(2500)), "2.5s");
        assert_eq!(elapsed(SignedDuration::from_secs(2)), "2s");
        assert_eq!(elapsed(SignedDuration::from_secs(10)), "10s");
        assert_eq!(elapsed(SignedDuration::from_secs(65)), "1m 5s");
    }

    #[test]
    fn instants_show_fractions_only_when_present() {
        let zone = Zone::parse("America/New_York").unwrap();
        let at: Timestamp = "2026-01-05T14:00:00Z".parse().unwrap();
        assert_eq!(instant(at, &zone), "2026-01-05T09:00:00-05:00");
        let at: Timestamp = "2026-01-05T14:00:00.25Z".parse().unwrap();
        assert_eq!(instant(at, &zone), "2026-01-05T09:00:00.25-05:00");
    }

    #[test]
    fn long_errors_are_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("a\nb", 10), "a b");
    }
}
