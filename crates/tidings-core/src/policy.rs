//! The scheduling rules of DESIGN.md as pure functions: what to do with the occurrences that are
//! due (misfire grace, coalesce, max_catch_up, max_instances), and how long to wait before a
//! retry (exponential backoff with jitter).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::trigger::Trigger;

/// How a schedule's due occurrences become runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FirePolicy {
    /// An occurrence noticed more than this long after its time is not run but recorded as
    /// `missed`. `None`: no limit.
    #[serde(with = "optional_seconds")]
    pub misfire_grace: Option<SignedDuration>,
    /// Several occurrences due at once (within grace) run once, for the latest.
    pub coalesce: bool,
    /// Without coalescing, at most this many due occurrences run; older ones are missed.
    pub max_catch_up: u32,
    /// An occurrence that finds this many runs of its schedule queued or running is skipped.
    pub max_instances: u32,
}

impl Default for FirePolicy {
    fn default() -> Self {
        FirePolicy {
            misfire_grace: Some(SignedDuration::from_secs(300)),
            coalesce: true,
            max_catch_up: 100,
            max_instances: 1,
        }
    }
}

/// Occurrences summarised as one record: how many, the first and the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrences {
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

impl Occurrences {
    fn single(at: Timestamp) -> Occurrences {
        Occurrences {
            count: 1,
            first: at,
            last: at,
        }
    }

    fn add(slot: &mut Option<Occurrences>, at: Timestamp) {
        match slot {
            Some(range) => {
                range.count += 1;
                range.last = at;
            }
            None => *slot = Some(Occurrences::single(at)),
        }
    }
}

/// What firing a schedule at `now` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirePlan {
    /// Occurrences to queue as runs, oldest first.
    pub run: Vec<Timestamp>,
    /// Occurrences not queued because `max_instances` runs were already queued or running.
    pub skipped: Vec<Timestamp>,
    /// Occurrences not run: past the misfire grace, or folded away by coalescing or
    /// `max_catch_up`. One record however many.
    pub missed: Option<Occurrences>,
    /// The first occurrence after `now`; `None` when the trigger has no more.
    pub next_run_at: Option<Timestamp>,
}

/// Most occurrences enumerated in one plan; beyond it the rest of the backlog is counted as
/// missed in one step (a per-second schedule down for four months).
const MAX_ENUMERATED: u64 = 10_000_000;

/// Decides what to do with the occurrences of `trigger` from `due` (the schedule's stored
/// `next_run_at`, itself an occurrence) up to `now`, given `active` runs of the schedule already
/// queued or running.
pub fn plan_fire(
    trigger: &Trigger,
    policy: &FirePolicy,
    due: Timestamp,
    now: Timestamp,
    active: u32,
) -> FirePlan {
    let mut missed: Option<Occurrences> = None;
    // Occurrences within grace, oldest first; only the last `keep` are kept.
    let keep = if policy.coalesce {
        1
    } else {
        policy.max_catch_up.max(1) as usize
    };
    let mut within_grace: std::collections::VecDeque<Timestamp> = Default::default();
    let mut at = Some(due);
    let mut enumerated = 0_u64;
    while let Some(t) = at.filter(|t| *t <= now) {
        enumerated += 1;
        let late = now.duration_since(t);
        let in_grace = policy.misfire_grace.is_none_or(|grace| late <= grace);
        if in_grace {
            within_grace.push_back(t);
            if within_grace.len() > keep
                && let Some(old) = within_grace.pop_front()
            {
                Occurrences::add(&mut missed, old);
            }
        } else {
            Occurrences::add(&mut missed, t);
        }
        if enumerated >= MAX_ENUMERATED {
            at = trigger.next_after(now);
            break;
        }
        at = trigger.next_after(t);
    }
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    let mut active = active;
    for t in within_grace {
        if active >= policy.max_instances {
            skipped.push(t);
        } else {
            run.push(t);
            active += 1;
        }
    }
    FirePlan {
        run,
        skipped,
        missed,
        next_run_at: at,
    }
}

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The wait after the first failed attempt; each further failure doubles it.
    #[serde(with = "seconds")]
    pub backoff: SignedDuration,
    /// The longest wait between attempts.
    #[serde(with = "seconds")]
    pub max_backoff: SignedDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            backoff: SignedDuration::from_secs(1),
            max_backoff: SignedDuration::from_secs(3600),
        }
    }
}

/// ±20 % jitter.
const JITTER: f64 = 0.2;

impl RetryPolicy {
    /// True when an attempt numbered `attempt` (1-based) may be followed by another.
    pub fn retries_after(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The wait before the attempt after failed attempt `attempt` (1-based): `backoff · 2^(attempt-1)`,
    /// capped at `max_backoff`, then spread by ±20 %. The jitter is derived from `seed` (the
    /// run id, say), so it differs between runs but is reproducible.
    pub fn delay(&self, attempt: u32, seed: u64) -> SignedDuration {
        let base = self.backoff.as_secs_f64().max(0.0);
        let exponent = attempt.saturating_sub(1).min(62);
        let raw = (base * 2_f64.powi(exponent as i32)).min(self.max_backoff.as_secs_f64());
        let jitter = 1.0 + JITTER * unit_interval(seed, attempt);
        SignedDuration::try_from_secs_f64((raw * jitter).max(0.0)).unwrap_or(self.max_backoff)
    }
}

/// A number in [-1, 1] that looks random but depends only on its inputs (SplitMix64).
fn unit_interval(seed: u64, attempt: u32) -> f64 {
    let mut z = seed ^ (u64::from(attempt) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1_u64 << 53) as f64 * 2.0 - 1.0
}

/// Durations as whole or fractional seconds in JSON and TOML (`300`, `0.5`).
mod seconds {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        if d.subsec_nanos() == 0 {
            s.serialize_i64(d.as_secs())
        } else {
            s.serialize_f64(d.as_secs_f64())
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        let secs = f64::deserialize(d)?;
        if !(0.0..=1e10).contains(&secs) {
            return Err(serde::de::Error::custom(format!(
                "{secs} seconds is not a duration between 0 and 10^10 seconds"
            )));
        }
        SignedDuration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

mod optional_seconds {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        d: &Option<SignedDuration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::seconds::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SignedDuration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::seconds")] SignedDuration);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(d)| d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::IntervalTrigger;
    use crate::{CronExpr, CronTrigger, Zone};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn every_minute() -> Trigger {
        Trigger::Cron(CronTrigger::new(
            CronExpr::parse("* * * * *").unwrap(),
            Zone::utc(),
        ))
    }

    #[test]
    fn on_time_occurrence_runs_and_advances() {
        let plan = plan_fire(
            &every_minute(),
            &FirePolicy::default(),
            ts("2025-06-01T12:00:00Z"),
            ts("2025-06-01T12:00:00.250Z"),
            0,
        );
        assert_eq!(plan.run, [ts("2025-06-01T12:00:00Z")]);
        assert!(plan.skipped.is_empty());
        assert_eq!(plan.missed, None);
        assert_eq!(plan.next_run_at, Some(ts("2025-06-01T12:01:00Z")));
    }

    #[test]
    fn past_grace_is_missed_as_one_record_and_coalesce_runs_the_latest() {
        // Down from 11:00 to 12:02:30 with a 5-minute grace: 11:00..=11:57 are past grace (58),
        // 11:58..=12:02 are within it (5): the latest runs, the other 4 join the missed record.
        let plan = plan_fire(
            &every_minute(),
            &FirePolicy::default(),
            ts("2025-06-01T11:00:00Z"),
            ts("2025-06-01T12:02:30Z"),
            0,
        );
        assert_eq!(plan.run, [ts("2025-06-01T12:02:00Z")]);
        assert_eq!(
            plan.missed,
            Some(Occurrences {
                count: 62,
                first: ts("2025-06-01T11:00:00Z"),
                last: ts("2025-06-01T12:01:00Z"),
            })
        );
        assert_eq!(plan.next_run_at, Some(ts("2025-06-01T12:03:00Z")));
    }

    #[test]
    fn without_coalesce_each_due_occurrence_runs_up_to_max_catch_up() {
        let policy = FirePolicy {
            coalesce: false,
            max_catch_up: 3,
            max_instances: 10,
            ..FirePolicy::default()
        };
        let plan = plan_fire(
            &every_minute(),
            &policy,
            ts("2025-06-01T11:58:00Z"),
            ts("2025-06-01T12:02:30Z"),
            0,
        );
        assert_eq!(
            plan.run,
            [
                ts("2025-06-01T12:00:00Z"),
                ts("2025-06-01T12:01:00Z"),
                ts("2025-06-01T12:02:00Z")
            ]
        );
        assert_eq!(plan.missed.unwrap().count, 2);
    }

    #[test]
    fn max_instances_skips_instead_of_queueing() {
        let plan = plan_fire(
            &every_minute(),
            &FirePolicy::default(),
            ts("2025-06-01T12:00:00Z"),
            ts("2025-06-01T12:00:01Z"),
            1,
        );
        assert!(plan.run.is_empty());
        assert_eq!(plan.skipped, [ts("2025-06-01T12:00:00Z")]);
        let policy = FirePolicy {
            coalesce: false,
            max_instances: 2,
            ..FirePolicy::default()
        };
        let plan = plan_fire(
            &every_minute(),
            &policy,
            ts("2025-06-01T11:58:00Z"),
            ts("2025-06-01T12:00:01Z"),
            1,
        );
        assert_eq!(plan.run, [ts("2025-06-01T11:58:00Z")]);
        assert_eq!(
            plan.skipped,
            [ts("2025-06-01T11:59:00Z"), ts("2025-06-01T12:00:00Z")]
        );
    }

    #[test]
    fn unlimited_grace_never_misses() {
        let policy = FirePolicy {
            misfire_grace: None,
            ..FirePolicy::default()
        };
        let plan = plan_fire(
            &every_minute(),
            &policy,
            ts("2025-05-01T00:00:00Z"),
            ts("2025-06-01T00:00:00Z"),
            0,
        );
        assert_eq!(plan.run, [ts("2025-06-01T00:00:00Z")]);
        // Coalesced away, not missed for lateness; still recorded.
        assert_eq!(plan.missed.unwrap().count, 31 * 24 * 60);
    }

    #[test]
    fn a_week_down_on_a_per_second_schedule_is_one_record() {
        let trigger =
            Trigger::Interval(IntervalTrigger::new(1, ts("2025-01-01T00:00:00Z")).unwrap());
        let plan = plan_fire(
            &trigger,
            &FirePolicy::default(),
            ts("2025-06-01T00:00:00Z"),
            ts("2025-06-08T00:00:00Z"),
            0,
        );
        assert_eq!(plan.run, [ts("2025-06-08T00:00:00Z")]);
        let missed = plan.missed.unwrap();
        assert_eq!(missed.count, 7 * 86_400);
        assert_eq!(missed.first, ts("2025-06-01T00:00:00Z"));
        assert_eq!(missed.last, ts("2025-06-07T23:59:59Z"));
    }

    #[test]
    fn once_trigger_has_no_next() {
        let trigger = Trigger::Once(crate::trigger::OnceTrigger::new(ts("2025-06-01T00:00:00Z")));
        let plan = plan_fire(
            &trigger,
            &FirePolicy::default(),
            ts("2025-06-01T00:00:00Z"),
            ts("2025-06-01T00:00:00Z"),
            0,
        );
        assert_eq!(plan.run.len(), 1);
        assert_eq!(plan.next_run_at, None);
    }

    #[test]
    fn retry_delays_double_with_jitter_and_cap() {
        let policy = RetryPolicy::default();
        for seed in 0..200 {
            for (attempt, base) in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)] {
                let d = policy.delay(attempt, seed).as_secs_f64();
                assert!(
                    d >= base * 0.8 - 1e-9 && d <= base * 1.2 + 1e-9,
                    "{attempt}: {d}"
                );
            }
        }
        let spread: std::collections::HashSet<i64> = (0..50)
            .map(|seed| policy.delay(1, seed).as_millis() as i64)
            .collect();
        assert!(spread.len() > 10, "jitter differs between runs");
        let capped = RetryPolicy {
            max_backoff: SignedDuration::from_secs(10),
            ..policy
        };
        assert!(capped.delay(30, 7).as_secs_f64() <= 12.0);
        assert!(policy.retries_after(2) && !policy.retries_after(3));
    }

    #[test]
    fn policies_serialize_as_seconds() {
        let json = serde_json::to_string(&FirePolicy::default()).unwrap();
        assert_eq!(
            json,
            r#"{"misfire_grace":300,"coalesce":true,"max_catch_up":100,"max_instances":1}"#
        );
        let unlimited: FirePolicy = serde_json::from_str(r#"{"misfire_grace":null}"#).unwrap();
        assert_eq!(unlimited.misfire_grace, None);
        let retry: RetryPolicy =
            serde_json::from_str(r#"{"max_attempts":5,"backoff":0.5}"#).unwrap();
        assert_eq!(retry.backoff, SignedDuration::from_millis(500));
        assert!(serde_json::from_str::<RetryPolicy>(r#"{"backoff":-1}"#).is_err());
    }
}
