//! Schedules as stored: a named trigger + job kind + params + policies, with statistics kept in
//! the same transactions as the run transitions that change them.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tidings_core::{FirePolicy, RetryPolicy, RunState, Trigger};

use crate::run::RunId;

/// A schedule's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScheduleId(pub i64);

impl fmt::Display for ScheduleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A schedule's unique name: 1–100 characters, a letter first, then letters, digits, `-`, `_`,
/// `.` or `:`. A name never looks like an id, so `{id}` in the API can be either.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ScheduleName(String);

/// Why a schedule name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule name `{name}`: {reason}")]
pub struct ScheduleNameError {
    pub name: String,
    pub reason: &'static str,
}

impl ScheduleName {
    pub fn parse(name: &str) -> Result<ScheduleName, ScheduleNameError> {
        let error = |reason| ScheduleNameError {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(error("it is empty"));
        }
        if name.chars().count() > 100 {
            return Err(error("it is longer than 100 characters"));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(error("it must start with a letter"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return Err(error("use only letters, digits, `-`, `_`, `.` and `:`"));
        }
        Ok(ScheduleName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScheduleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ScheduleName {
    type Err = ScheduleNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScheduleName::parse(s)
    }
}

impl<'de> Deserialize<'de> for ScheduleName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ScheduleName::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// A schedule by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleKey {
    Id(ScheduleId),
    Name(ScheduleName),
}

impl ScheduleKey {
    /// Reads `text` as an id if it is all digits, else as a name.
    pub fn parse(text: &str) -> Result<ScheduleKey, ScheduleNameError> {
        match text.parse::<i64>() {
            Ok(id) => Ok(ScheduleKey::Id(ScheduleId(id))),
            Err(_) => ScheduleName::parse(text).map(ScheduleKey::Name),
        }
    }
}

impl fmt::Display for ScheduleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleKey::Id(id) => write!(f, "{id}"),
            ScheduleKey::Name(name) => write!(f, "`{name}`"),
        }
    }
}

/// Where a schedule was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleOrigin {
    /// `[[schedules]]` in `tidings.toml`, reconciled at start.
    Config,
    /// The REST API.
    Api,
    /// `tidings schedules create`.
    Cli,
    /// Created by tidings itself (a source's default syncs).
    Default,
}

impl ScheduleOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleOrigin::Config => "config",
            ScheduleOrigin::Api => "api",
            ScheduleOrigin::Cli => "cli",
            ScheduleOrigin::Default => "default",
        }
    }

    pub fn parse(s: &str) -> Option<ScheduleOrigin> {
        [
            ScheduleOrigin::Config,
            ScheduleOrigin::Api,
            ScheduleOrigin::Cli,
            ScheduleOrigin::Default,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// Everything about how a schedule's runs are made and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulePolicy {
    #[serde(flatten)]
    pub fire: FirePolicy,
    pub retry: RetryPolicy,
    /// How long one attempt may take before its cancellation token fires.
    #[serde(with = "seconds")]
    pub timeout: SignedDuration,
    /// Queue a run at every start of tidings (initial population).
    pub run_on_start: bool,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy {
            fire: FirePolicy::default(),
            retry: RetryPolicy::default(),
            timeout: SignedDuration::from_secs(3600),
            run_on_start: false,
        }
    }
}

mod seconds {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        let secs = f64::deserialize(d)?;
        if !(0.001..=1e9).contains(&secs) {
            return Err(serde::de::Error::custom(format!(
                "timeout of {secs} seconds is out of range (0.001 to 10^9)"
            )));
        }
        SignedDuration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// Counters and pointers kept on the schedule row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleStats {
    /// Runs created for the schedule (any trigger).
    pub total: u64,
    pub succeeded: u64,
    /// Runs that ended `failed` or `timed_out`.
    pub failed: u64,
    /// Occurrences skipped because of `max_instances`.
    pub skipped: u64,
    /// Occurrences missed (past grace, coalesced or beyond `max_catch_up`), counted one by one.
    pub missed: u64,
    /// When the latest run that ended started.
    pub last_run_at: Option<Timestamp>,
    pub last_run_id: Option<RunId>,
    pub last_state: Option<RunState>,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub id: ScheduleId,
    pub name: ScheduleName,
    pub description: Option<String>,
    pub trigger: Trigger,
    /// The job kind it runs (`http`, `sync`, …).
    pub kind: String,
    pub params: serde_json::Value,
    pub enabled: bool,
    pub policy: SchedulePolicy,
    pub origin: ScheduleOrigin,
    /// The source this schedule works on, if any (a seed 004 "project").
    pub source: Option<String>,
    pub tags: Vec<String>,
    /// Receives a signed JSON POST when a run ends.
    pub callback_url: Option<String>,
    /// The next occurrence to fire; `None` when disabled or the trigger has no more.
    pub next_run_at: Option<Timestamp>,
    pub stats: ScheduleStats,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Schedule {
    /// The editable part of the schedule: what an update replaces, what a declaration is
    /// compared with.
    pub fn spec(&self) -> ScheduleSpec {
        ScheduleSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            trigger: self.trigger.clone(),
            kind: self.kind.clone(),
            params: self.params.clone(),
            enabled: self.enabled,
            policy: self.policy,
            source: self.source.clone(),
            tags: self.tags.clone(),
            callback_url: self.callback_url.clone(),
        }
    }
}

/// The editable part of a schedule, as given when creating or replacing one.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    pub name: ScheduleName,
    pub description: Option<String>,
    pub trigger: Trigger,
    pub kind: String,
    pub params: serde_json::Value,
    pub enabled: bool,
    pub policy: SchedulePolicy,
    pub source: Option<String>,
    pub tags: Vec<String>,
    pub callback_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(ScheduleName::parse("hourly-customer-import").is_ok());
        assert!(ScheduleName::parse("sync:feedback.full").is_ok());
        assert_eq!(
            ScheduleName::parse("42").unwrap_err().to_string(),
            "invalid schedule name `42`: it must start with a letter"
        );
        assert_eq!(
            ScheduleName::parse("a b").unwrap_err().to_string(),
            "invalid schedule name `a b`: use only letters, digits, `-`, `_`, `.` and `:`"
        );
        assert!(ScheduleName::parse("").is_err());
        assert!(ScheduleName::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn keys_are_ids_or_names() {
        assert_eq!(
            ScheduleKey::parse("17").unwrap(),
            ScheduleKey::Id(ScheduleId(17))
        );
        assert_eq!(
            ScheduleKey::parse("nightly").unwrap(),
            ScheduleKey::Name(ScheduleName::parse("nightly").unwrap())
        );
    }

    #[test]
    fn policy_json_is_flat_and_defaulted() {
        let policy: SchedulePolicy = serde_json::from_str(
            r#"{"misfire_grace":60,"coalesce":false,"retry":{"max_attempts":5}}"#,
        )
        .unwrap();
        assert_eq!(
            policy.fire.misfire_grace,
            Some(SignedDuration::from_secs(60))
        );
        assert!(!policy.fire.coalesce);
        assert_eq!(policy.fire.max_instances, 1);
        assert_eq!(policy.retry.max_attempts, 5);
        assert_eq!(policy.timeout, SignedDuration::from_secs(3600));
        let back: SchedulePolicy =
            serde_json::from_str(&serde_json::to_string(&policy).unwrap()).unwrap();
        assert_eq!(back, policy);
    }
}
