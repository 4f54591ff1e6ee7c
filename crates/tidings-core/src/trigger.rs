//! Triggers: what produces a schedule's occurrences. `cron` (an expression in a zone),
//! `interval` (real seconds from an anchor, DST ignored) and `once` (a single instant), behind
//! one [`Trigger`] with `next_after`.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::cron::{CronExpr, Fire};
use crate::zone::Zone;

/// A cron expression evaluated on the wall clock of a zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronTrigger {
    expr: CronExpr,
    zone: Zone,
}

impl CronTrigger {
    pub fn new(expr: CronExpr, zone: Zone) -> CronTrigger {
        CronTrigger { expr, zone }
    }

    pub fn expr(&self) -> &CronExpr {
        &self.expr
    }

    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The first fire strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        self.expr.next_after(self.zone.tz(), after)
    }

    /// The next `count` fires strictly after `after`, with DST notes.
    pub fn fires_after(&self, after: Timestamp, count: usize) -> Vec<Fire> {
        self.expr.fires_after(self.zone.tz(), after, count)
    }
}

/// Every `every_seconds` real seconds, counted from `anchor`: fires at `anchor + k·every` for
/// every k ≥ 0. Wall-clock changes (DST) do not move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "IntervalFields", into = "IntervalFields")]
pub struct IntervalTrigger {
    every_seconds: u64,
    anchor: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct IntervalFields {
    every_seconds: u64,
    anchor: Timestamp,
}

impl TryFrom<IntervalFields> for IntervalTrigger {
    type Error = TriggerError;

    fn try_from(fields: IntervalFields) -> Result<Self, Self::Error> {
        IntervalTrigger::new(fields.every_seconds, fields.anchor)
    }
}

impl From<IntervalTrigger> for IntervalFields {
    fn from(trigger: IntervalTrigger) -> Self {
        IntervalFields {
            every_seconds: trigger.every_seconds,
            anchor: trigger.anchor,
        }
    }
}

/// Longest interval accepted: about 100 years.
const MAX_INTERVAL_SECONDS: u64 = 100 * 366 * 86_400;

impl IntervalTrigger {
    pub fn new(every_seconds: u64, anchor: Timestamp) -> Result<IntervalTrigger, TriggerError> {
        if every_seconds == 0 {
            return Err(TriggerError::IntervalNotPositive);
        }
        if every_seconds > MAX_INTERVAL_SECONDS {
            return Err(TriggerError::IntervalTooLong {
                seconds: every_seconds,
            });
        }
        Ok(IntervalTrigger {
            every_seconds,
            anchor,
        })
    }

    pub fn every(&self) -> SignedDuration {
        SignedDuration::from_secs(self.every_seconds as i64)
    }

    pub fn every_seconds(&self) -> u64 {
        self.every_seconds
    }

    pub fn anchor(&self) -> Timestamp {
        self.anchor
    }

    /// The first `anchor + k·every` (k ≥ 0) strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        if after < self.anchor {
            return Some(self.anchor);
        }
        let every = i128::from(self.every_seconds) * 1_000_000_000;
        let elapsed = after.as_nanosecond() - self.anchor.as_nanosecond();
        let k = elapsed / every + 1;
        Timestamp::from_nanosecond(self.anchor.as_nanosecond() + k * every).ok()
    }
}

/// A single instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnceTrigger {
    at: Timestamp,
}

impl OnceTrigger {
    pub fn new(at: Timestamp) -> OnceTrigger {
        OnceTrigger { at }
    }

    pub fn at(&self) -> Timestamp {
        self.at
    }

    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        (self.at > after).then_some(self.at)
    }
}

/// What produces a schedule's occurrences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    Cron(CronTrigger),
    Interval(IntervalTrigger),
    Once(OnceTrigger),
}

impl Trigger {
    /// The first occurrence strictly after `after`, or `None` when there is none (a `once`
    /// trigger that has passed, or a date beyond the year 9999).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        match self {
            Trigger::Cron(cron) => cron.next_after(after),
            Trigger::Interval(interval) => interval.next_after(after),
            Trigger::Once(once) => once.next_after(after),
        }
    }
}

/// An invalid trigger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    #[error("interval must be at least 1 second")]
    IntervalNotPositive,
    #[error("interval of {seconds} seconds is longer than 100 years")]
    IntervalTooLong { seconds: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn interval_counts_real_seconds_from_its_anchor() {
        let every_hour = IntervalTrigger::new(3600, ts("2025-03-09T06:30:00Z")).unwrap();
        assert_eq!(
            every_hour.next_after(ts("2025-03-09T00:00:00Z")),
            Some(ts("2025-03-09T06:30:00Z"))
        );
        assert_eq!(
            every_hour.next_after(ts("2025-03-09T06:30:00Z")),
            Some(ts("2025-03-09T07:30:00Z"))
        );
        assert_eq!(
            every_hour.next_after(ts("2025-03-09T07:29:59.999Z")),
            Some(ts("2025-03-09T07:30:00Z"))
        );
        // DST does not move it: still on the half hour in UTC across New York's jump.
        assert_eq!(
            every_hour.next_after(ts("2025-03-09T08:00:00Z")),
            Some(ts("2025-03-09T08:30:00Z"))
        );
    }

    #[test]
    fn interval_rejects_zero_and_absurd_lengths() {
        let anchor = ts("2025-01-01T00:00:00Z");
        assert_eq!(
            IntervalTrigger::new(0, anchor),
            Err(TriggerError::IntervalNotPositive)
        );
        assert!(IntervalTrigger::new(u64::MAX, anchor).is_err());
        let json = r#"{"type":"interval","every_seconds":0,"anchor":"2025-01-01T00:00:00Z"}"#;
        let err = serde_json::from_str::<Trigger>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("interval must be at least 1 second"), "{err}");
    }

    #[test]
    fn once_fires_once() {
        let once = OnceTrigger::new(ts("2025-06-01T12:00:00Z"));
        assert_eq!(
            once.next_after(ts("2025-06-01T11:59:59Z")),
            Some(ts("2025-06-01T12:00:00Z"))
        );
        assert_eq!(once.next_after(ts("2025-06-01T12:00:00Z")), None);
    }

    #[test]
    fn triggers_round_trip_through_json() {
        let cron = Trigger::Cron(CronTrigger::new(
            CronExpr::parse("0 9-18 * * 1-5").unwrap(),
            Zone::parse("America/New_York").unwrap(),
        ));
        let json = serde_json::to_string(&cron).unwrap();
        assert_eq!(
            json,
            r#"{"type":"cron","expr":"0 9-18 * * 1-5","zone":"America/New_York"}"#
        );
        assert_eq!(serde_json::from_str::<Trigger>(&json).unwrap(), cron);
        assert_eq!(
            cron.next_after(ts("2025-11-28T13:00:00Z")),
            Some(ts("2025-11-28T14:00:00Z"))
        );
        let interval =
            Trigger::Interval(IntervalTrigger::new(900, ts("2025-01-01T00:00:00Z")).unwrap());
        let json = serde_json::to_string(&interval).unwrap();
        assert_eq!(serde_json::from_str::<Trigger>(&json).unwrap(), interval);
        let once = Trigger::Once(OnceTrigger::new(ts("2025-01-01T00:00:00Z")));
        let json = serde_json::to_string(&once).unwrap();
        assert_eq!(json, r#"{"type":"once","at":"2025-01-01T00:00:00Z"}"#);
    }
}
