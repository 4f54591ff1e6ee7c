//! A schedule as a person writes it — a `[[schedules]]` table in `tidings.toml`, the flags of
//! `tidings schedules create|update`, or a body sent to the REST API — and how it becomes a
//! checked [`ScheduleSpec`].
//!
//! Both forms use the same field names (`cron`, `interval`, `misfire_grace`, …), so a problem is
//! named the same way wherever it was written: the TOML key, the JSON field, or its flag on the
//! command line. Values are kept as written until [`ScheduleDraft::to_spec`], which reports every
//! problem at once; [`check`] then applies the engine's rules (job kind and params,
//! `min_interval`, policy numbers).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tidings_core::duration::{self, signed};
use tidings_core::{
    CronExpr, CronTrigger, FirePolicy, IntervalTrigger, OnceTrigger, Trigger, Zone,
};
use tidings_store::{ScheduleName, SchedulePolicy, ScheduleSpec};

use crate::{EngineError, FieldError, JobRegistry, check_schedule};

/// A schedule as written. `None` means "not given": a default when creating, the current value
/// when updating.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ScheduleDraft {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A cron expression (`0 9 * * 1-5`), in `timezone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// A human duration (`15m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u64>,
    /// An RFC 3339 instant for a schedule that fires once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// An RFC 3339 instant intervals count from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// A human duration or `unlimited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misfire_grace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coalesce: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_catch_up: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on_start: Option<bool>,
    /// Last: in TOML it is a table, which must follow the plain values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
}

/// What a draft that leaves them out gets: the service's default zone and misfire grace, and
/// the retry and timeout defaults of its job kind.
#[derive(Clone, Debug)]
pub struct DraftDefaults {
    pub timezone: Zone,
    pub misfire_grace: Option<SignedDuration>,
    kinds: JobRegistry,
}

impl DraftDefaults {
    /// `kinds` gives each job kind's retry and timeout defaults.
    pub fn new(
        timezone: Zone,
        misfire_grace: Option<SignedDuration>,
        kinds: JobRegistry,
    ) -> DraftDefaults {
        DraftDefaults {
            timezone,
            misfire_grace,
            kinds,
        }
    }
}

impl ScheduleDraft {
    /// The spec this draft describes, or every problem with it.
    ///
    /// `base` is the schedule being updated: what the draft leaves out keeps its value there
    /// (without a base, it takes its default). `previous` is the trigger the schedule had: an
    /// interval that is not changed keeps its anchor, so that re-declaring or editing a schedule
    /// does not shift its occurrences. A new interval counts from `now`, to the second.
    pub fn to_spec(
        &self,
        base: Option<&ScheduleSpec>,
        previous: Option<&Trigger>,
        defaults: &DraftDefaults,
        now: Timestamp,
    ) -> Result<ScheduleSpec, Vec<FieldError>> {
        let mut problems = Vec::new();
        let name = match (&self.name, base) {
            (Some(name), _) => ScheduleName::parse(name.trim())
                .map_err(|e| problems.push(FieldError::new("name", e.to_string())))
                .ok(),
            (None, Some(base)) => Some(base.name.clone()),
            (None, None) => {
                problems.push(FieldError::new("name", "is required"));
                None
            }
        };
        let trigger = self.trigger(
            base.map(|b| &b.trigger),
            previous,
            defaults,
            now,
            &mut problems,
        );
        let kind = match (&self.kind, base) {
            (Some(kind), _) => Some(kind.trim().to_owned()),
            (None, Some(base)) => Some(base.kind.clone()),
            (None, None) => {
                problems.push(FieldError::new("kind", "is required"));
                None
            }
        };
        let policy = self.policy(base.map(|b| &b.policy), defaults, &mut problems);
        let (Some(name), Some(trigger), Some(kind)) = (name, trigger, kind) else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ScheduleSpec {
            name,
            description: text(&self.description, base.and_then(|b| b.description.as_ref())),
            trigger,
            kind,
            params: self
                .params
                .clone()
                .or_else(|| base.map(|b| b.params.clone()))
                .unwrap_or_else(|| serde_json::json!({})),
            enabled: self.enabled.or(base.map(|b| b.enabled)).unwrap_or(true),
            policy,
            source: text(&self.source, base.and_then(|b| b.source.as_ref())),
            tags: self
                .tags
                .clone()
                .or_else(|| base.map(|b| b.tags.clone()))
                .unwrap_or_default(),
            callback_url: text(
                &self.callback_url,
                base.and_then(|b| b.callback_url.as_ref()),
            ),
        })
    }

    fn trigger(
        &self,
        base: Option<&Trigger>,
        previous: Option<&Trigger>,
        defaults: &DraftDefaults,
        now: Timestamp,
        problems: &mut Vec<FieldError>,
    ) -> Option<Trigger> {
        let given: Vec<&str> = [
            ("cron", self.cron.is_some()),
            ("interval", self.interval.is_some()),
            ("interval_seconds", self.interval_seconds.is_some()),
            ("at", self.at.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect();
        if given.len() > 1 {
            problems.push(FieldError::new(
                "trigger",
                format!(
                    "give one of cron, interval or at, not {}",
                    given.join(" and ")
                ),
            ));
            return None;
        }
        let zone = self.zone(base, defaults, problems);
        if let Some(expr) = &self.cron {
            let expr = CronExpr::parse(expr)
                .map_err(|e| problems.push(FieldError::new("cron", e.to_string())))
                .ok()?;
            return Some(Trigger::Cron(CronTrigger::new(expr, zone?)));
        }
        if let Some(at) = &self.at {
            let at = instant(at)
                .map_err(|e| problems.push(FieldError::new("at", e)))
                .ok()?;
            return Some(Trigger::Once(OnceTrigger::new(at)));
        }
        let every = match (&self.interval, self.interval_seconds) {
            (Some(text), _) => Some(
                whole_seconds(text)
                    .map_err(|e| problems.push(FieldError::new("interval", e)))
                    .ok()?,
            ),
            (None, Some(seconds)) => Some(seconds),
            (None, None) => None,
        };
        let every = match (every, base) {
            (Some(every), _) => every,
            // No new trigger: the base's, with a new zone or anchor if one was given.
            (None, Some(Trigger::Cron(cron))) => {
                return Some(Trigger::Cron(CronTrigger::new(cron.expr().clone(), zone?)));
            }
            (None, Some(Trigger::Interval(interval))) => interval.every_seconds(),
            (None, Some(once @ Trigger::Once(_))) => return Some(once.clone()),
            (None, None) => {
                problems.push(FieldError::new(
                    "trigger",
                    "give one of cron, interval or at",
                ));
                return None;
            }
        };
        let field = if self.interval_seconds.is_some() {
            "interval_seconds"
        } else {
            "interval"
        };
        let anchor = match &self.anchor {
            Some(text) => instant(text)
                .map_err(|e| problems.push(FieldError::new("anchor", e)))
                .ok()?,
            None => match previous {
                Some(Trigger::Interval(old)) if old.every_seconds() == every => old.anchor(),
                _ => Timestamp::from_second(now.as_second()).unwrap_or(now),
            },
        };
        IntervalTrigger::new(every, anchor)
            .map(Trigger::Interval)
            .map_err(|e| problems.push(FieldError::new(field, e.to_string())))
            .ok()
    }

    /// The zone a cron trigger follows: the draft's, else the base's, else the default.
    fn zone(
        &self,
        base: Option<&Trigger>,
        defaults: &DraftDefaults,
        problems: &mut Vec<FieldError>,
    ) -> Option<Zone> {
        match (&self.timezone, base) {
            (Some(name), _) => Zone::parse(name)
                .map_err(|e| problems.push(FieldError::new("timezone", e.to_string())))
                .ok(),
            (None, Some(Trigger::Cron(cron))) => Some(cron.zone().clone()),
            (None, _) => Some(defaults.timezone.clone()),
        }
    }

    fn policy(
        &self,
        base: Option<&SchedulePolicy>,
        defaults: &DraftDefaults,
        problems: &mut Vec<FieldError>,
    ) -> SchedulePolicy {
        let mut policy = base.copied().unwrap_or_else(|| {
            // A new schedule starts from its job kind's retry and timeout defaults.
            let kind = defaults
                .kinds
                .defaults(self.kind.as_deref().unwrap_or_default());
            SchedulePolicy {
                fire: FirePolicy {
                    misfire_grace: defaults.misfire_grace,
                    ..FirePolicy::default()
                },
                retry: kind.retry,
                timeout: kind.timeout,
                ..SchedulePolicy::default()
            }
        });
        let mut duration_of = |field: &str, text: &Option<String>| {
            let text = text.as_deref()?;
            duration::parse(text)
                .map(signed)
                .map_err(|e| problems.push(FieldError::new(field, e)))
                .ok()
        };
        if let Some(backoff) = duration_of("backoff", &self.backoff) {
            policy.retry.backoff = backoff;
        }
        if let Some(timeout) = duration_of("timeout", &self.timeout) {
            policy.timeout = timeout;
        }
        if let Some(text) = &self.misfire_grace {
            match duration::parse_or_unlimited(text) {
                Ok(grace) => policy.fire.misfire_grace = grace.map(signed),
                Err(e) => problems.push(FieldError::new("misfire_grace", e)),
            }
        }
        let fire = &mut policy.fire;
        fire.coalesce = self.coalesce.unwrap_or(fire.coalesce);
        fire.max_catch_up = self.max_catch_up.unwrap_or(fire.max_catch_up);
        fire.max_instances = self.max_instances.unwrap_or(fire.max_instances);
        policy.retry.max_attempts = self.max_attempts.unwrap_or(policy.retry.max_attempts);
        policy.run_on_start = self.run_on_start.unwrap_or(policy.run_on_start);
        policy
    }
}

/// What the engine will check when the spec is stored.
pub struct Rules<'a> {
    pub registry: &'a JobRegistry,
    pub min_interval: Duration,
}

impl ScheduleDraft {
    /// [`ScheduleDraft::to_spec`], then the engine's rules ([`check`]): the spec to store, or
    /// every problem with the draft. When the draft does not even make a spec, its job kind and
    /// params are still checked, so that they are reported with the rest.
    pub fn to_checked_spec(
        &self,
        base: Option<&ScheduleSpec>,
        previous: Option<&Trigger>,
        defaults: &DraftDefaults,
        rules: &Rules<'_>,
        now: Timestamp,
    ) -> Result<ScheduleSpec, Vec<FieldError>> {
        match self.to_spec(base, previous, defaults, now) {
            Ok(spec) => {
                let problems = check(&spec, self, rules.registry, rules.min_interval, now);
                if problems.is_empty() {
                    Ok(spec)
                } else {
                    Err(problems)
                }
            }
            Err(mut problems) => {
                let kind = self.kind.as_deref().or(base.map(|b| b.kind.as_str()));
                let empty = serde_json::json!({});
                let params = self
                    .params
                    .as_ref()
                    .or(base.map(|b| &b.params))
                    .unwrap_or(&empty);
                if let Some(kind) = kind
                    && let Err(error) = rules.registry.validate(kind.trim(), params)
                {
                    let field = match error.field.as_deref() {
                        Some("kind") => "kind".to_owned(),
                        Some(field) => format!("params.{field}"),
                        None => "params".to_owned(),
                    };
                    problems.push(FieldError::new(field, error.to_string()));
                }
                Err(problems)
            }
        }
    }
}

/// The engine's rules for `spec` (job kind and params, `min_interval`, a `once` in the past,
/// policy numbers), with each problem named by the field of `draft` it is about.
pub fn check(
    spec: &ScheduleSpec,
    draft: &ScheduleDraft,
    registry: &JobRegistry,
    min_interval: Duration,
    now: Timestamp,
) -> Vec<FieldError> {
    match check_schedule(spec, registry, signed(min_interval), now) {
        Ok(()) => Vec::new(),
        Err(EngineError::Invalid(errors)) => errors
            .into_iter()
            .map(|e| FieldError::new(draft_field(&e.field, draft), e.message))
            .collect(),
        Err(other) => vec![FieldError::new("schedule", other.to_string())],
    }
}

/// The draft field an engine field is about: `trigger.expr` is `cron`, `policy.timeout` is
/// `timeout`.
fn draft_field(engine_field: &str, draft: &ScheduleDraft) -> String {
    let field = match engine_field {
        "trigger.expr" => "cron",
        "trigger.at" => "at",
        "trigger.every_seconds" if draft.interval_seconds.is_some() => "interval_seconds",
        "trigger.every_seconds" => "interval",
        "policy.max_instances" => "max_instances",
        "policy.retry.max_attempts" => "max_attempts",
        "policy.misfire_grace" => "misfire_grace",
        "policy.timeout" => "timeout",
        other => other,
    };
    field.to_owned()
}

/// An RFC 3339 instant with its offset.
pub fn instant(text: &str) -> Result<Timestamp, String> {
    text.trim().parse::<Timestamp>().map_err(|_| {
        format!(
            "invalid instant `{text}`: expected RFC 3339 with an offset, such as 2026-01-05T09:00:00Z or 2026-01-05T09:00:00+01:00"
        )
    })
}

/// A human duration that is a whole number of seconds, as intervals are.
fn whole_seconds(text: &str) -> Result<u64, String> {
    let duration = duration::parse(text)?;
    if duration.subsec_nanos() != 0 {
        return Err(format!(
            "invalid interval `{text}`: use whole seconds, such as 1s, 90s or 15m"
        ));
    }
    Ok(duration.as_secs())
}

/// A text field: the draft's (empty clears it), else the base's.
fn text(given: &Option<String>, base: Option<&String>) -> Option<String> {
    match given {
        Some(text) if text.trim().is_empty() => None,
        Some(text) => Some(text.trim().to_owned()),
        None => base.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn defaults() -> DraftDefaults {
        DraftDefaults::new(
            Zone::utc(),
            Some(SignedDuration::from_secs(300)),
            JobRegistry::new(),
        )
    }

    fn draft() -> ScheduleDraft {
        ScheduleDraft {
            name: Some("hello".to_owned()),
            kind: Some("noop".to_owned()),
            ..ScheduleDraft::default()
        }
    }

    #[test]
    fn a_cron_draft_takes_the_default_zone_and_policy() {
        let spec = ScheduleDraft {
            cron: Some("0 9 * * 1-5".to_owned()),
            ..draft()
        }
        .to_spec(None, None, &defaults(), ts("2026-01-01T00:00:00Z"))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&spec.trigger).unwrap(),
            serde_json::json!({"type": "cron", "expr": "0 9 * * 1-5", "zone": "UTC"})
        );
        assert_eq!(spec.params, serde_json::json!({}));
        assert!(spec.enabled);
        assert_eq!(spec.policy, SchedulePolicy::default());
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let problems = ScheduleDraft {
            name: Some("9lives".to_owned()),
            cron: Some("61 * * * *".to_owned()),
            timezone: Some("Mars/Olympus".to_owned()),
            misfire_grace: Some("soon".to_owned()),
            kind: None,
            ..ScheduleDraft::default()
        }
        .to_spec(None, None, &defaults(), ts("2026-01-01T00:00:00Z"))
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["name", "timezone", "cron", "kind", "misfire_grace"]
        );
        assert_eq!(problems[2].message, "minute: value 61 out of range 0-59");
    }

    #[test]
    fn an_unchanged_interval_keeps_its_anchor_and_a_new_one_starts_now() {
        let previous =
            Trigger::Interval(IntervalTrigger::new(900, ts("2025-06-01T00:00:07Z")).unwrap());
        let every_15m = ScheduleDraft {
            interval: Some("15m".to_owned()),
            ..draft()
        };
        let now = ts("2026-01-01T10:00:00.250Z");
        let kept = every_15m
            .to_spec(None, Some(&previous), &defaults(), now)
            .unwrap();
        assert_eq!(kept.trigger, previous);
        let every_5m = ScheduleDraft {
            interval: Some("5m".to_owned()),
            ..draft()
        };
        let fresh = every_5m
            .to_spec(None, Some(&previous), &defaults(), now)
            .unwrap();
        assert_eq!(
            fresh.trigger,
            Trigger::Interval(IntervalTrigger::new(300, ts("2026-01-01T10:00:00Z")).unwrap())
        );
    }

    #[test]
    fn an_update_changes_only_what_is_given() {
        let now = ts("2026-01-01T00:00:00Z");
        let base = ScheduleDraft {
            cron: Some("0 9 * * *".to_owned()),
            timezone: Some("Europe/Berlin".to_owned()),
            description: Some("morning".to_owned()),
            max_attempts: Some(5),
            ..draft()
        }
        .to_spec(None, None, &defaults(), now)
        .unwrap();
        let changed = ScheduleDraft {
            cron: Some("0 10 * * *".to_owned()),
            misfire_grace: Some("unlimited".to_owned()),
            description: Some(String::new()),
            ..ScheduleDraft::default()
        }
        .to_spec(Some(&base), Some(&base.trigger), &defaults(), now)
        .unwrap();
        assert_eq!(
            serde_json::to_value(&changed.trigger).unwrap(),
            serde_json::json!({"type": "cron", "expr": "0 10 * * *", "zone": "Europe/Berlin"})
        );
        assert_eq!(changed.description, None);
        assert_eq!(changed.policy.retry.max_attempts, 5);
        assert_eq!(changed.policy.fire.misfire_grace, None);
        assert_eq!(changed.name, base.name);
    }

    #[test]
    fn two_triggers_are_one_too_many() {
        let problems = ScheduleDraft {
            cron: Some("* * * * *".to_owned()),
            at: Some("2026-01-01T00:00:00Z".to_owned()),
            ..draft()
        }
        .to_spec(None, None, &defaults(), ts("2026-01-01T00:00:00Z"))
        .unwrap_err();
        assert_eq!(
            problems,
            [FieldError::new(
                "trigger",
                "give one of cron, interval or at, not cron and at"
            )]
        );
    }
}
