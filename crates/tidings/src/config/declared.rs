//! `[[schedules]]`: schedules declared in `tidings.toml`, so that a deployment fits in one file.
//!
//! Each entry is read on its own and every problem in every entry is reported: unknown keys
//! (`schedules[2].cronn`, with the key that was meant), values of the wrong type, and whatever
//! the engine would refuse (`schedules[2] (nightly).cron: minute: value 61 out of range 0-59`).
//! Only entries that pass everything are kept; `serve` reconciles them into the store.

use std::collections::{HashMap, HashSet};

use figment::value::Value;
use figment::{Figment, Profile};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use tidings_core::{Clock, SystemClock, Trigger};
use tidings_engine::FieldError;
use tidings_store::{ScheduleName, ScheduleSpec};

use super::Config;
use super::error::ConfigError;
use crate::draft::{self, DraftDefaults, Rules, ScheduleDraft};

/// A schedule declared in the configuration file, checked when the configuration was loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct DeclaredSchedule {
    draft: ScheduleDraft,
    name: ScheduleName,
}

impl DeclaredSchedule {
    pub fn name(&self) -> &ScheduleName {
        &self.name
    }

    /// The job kind it runs, as declared.
    pub fn draft_kind(&self) -> Option<&str> {
        self.draft.kind.as_deref()
    }

    /// Its params, as declared.
    pub fn draft_params(&self) -> Option<&serde_json::Value> {
        self.draft.params.as_ref()
    }

    /// The spec to store. `previous` is the trigger the stored schedule has, if it exists: an
    /// unchanged interval keeps its anchor.
    pub fn spec(
        &self,
        previous: Option<&Trigger>,
        defaults: &DraftDefaults,
        now: jiff::Timestamp,
    ) -> Result<ScheduleSpec, Vec<FieldError>> {
        self.draft.to_spec(None, previous, defaults, now)
    }
}

impl Serialize for DeclaredSchedule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.draft.serialize(serializer)
    }
}

/// The keys a `[[schedules]]` entry may have.
const KEYS: [&str; 22] = [
    "name",
    "description",
    "cron",
    "interval",
    "interval_seconds",
    "at",
    "timezone",
    "anchor",
    "kind",
    "params",
    "enabled",
    "tags",
    "source",
    "callback_url",
    "misfire_grace",
    "coalesce",
    "max_catch_up",
    "max_instances",
    "max_attempts",
    "backoff",
    "timeout",
    "run_on_start",
];

/// Reads and checks the `[[schedules]]` entries of `merged`, adding every problem to `problems`.
pub(super) fn read(
    merged: &Figment,
    config: &Config,
    problems: &mut Vec<ConfigError>,
) -> Vec<DeclaredSchedule> {
    let scheduler = &config.scheduler;
    let Ok(value) = merged.find_value("schedules") else {
        return Vec::new();
    };
    let origin = merged
        .find_metadata("schedules")
        .map(|md| md.interpolate(&Profile::Default, &["schedules"]));
    let entries = match value {
        Value::Array(_, entries) => entries,
        Value::Dict(_, dict) => {
            let moved = if dict.contains_key("min_interval") {
                "; `schedules.min_interval` is now `scheduler.min_interval`"
            } else {
                ""
            };
            problems.push(ConfigError::InvalidValue {
                key: "schedules".to_owned(),
                reason: format!(
                    "expected `[[schedules]]` entries, one table per schedule, found a `[schedules]` table{moved}"
                ),
                origin,
            });
            return Vec::new();
        }
        _ => {
            problems.push(ConfigError::InvalidValue {
                key: "schedules".to_owned(),
                reason: "expected `[[schedules]]` entries, one table per schedule".to_owned(),
                origin,
            });
            return Vec::new();
        }
    };
    if entries.is_empty() {
        return Vec::new();
    }

    let defaults = draft::defaults(scheduler);
    let registry = crate::scheduler::job_registry(&config.sources);
    let now = SystemClock.now();
    let mut declared: Vec<DeclaredSchedule> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let mut reader = EntryReader::new(index, entry, origin.clone(), problems);
        let Some(draft) = reader.draft() else {
            continue;
        };
        let label = reader.label.clone();
        let (read_cleanly, reported) = (reader.ok, std::mem::take(&mut reader.reported));
        let mut invalid = |field: &str, message: String| {
            problems.push(ConfigError::InvalidValue {
                key: format!("{label}.{field}"),
                reason: message,
                origin: origin.clone(),
            });
        };
        let rules = Rules {
            registry: &registry,
            min_interval: scheduler.min_interval,
        };
        let mut errors = draft
            .to_checked_spec(None, None, &defaults, &rules, now)
            .err()
            .unwrap_or_default();
        // A `once` schedule stays in the file after it has fired: that its instant has passed
        // is not a mistake in the file (reconciling leaves such a schedule as it is).
        let passed = draft
            .at
            .as_deref()
            .and_then(|at| draft::instant(at).ok())
            .is_some_and(|at| at <= now);
        if passed {
            errors.retain(|e| e.field != "at");
        }
        let name = draft
            .name
            .as_deref()
            .and_then(|name| ScheduleName::parse(name.trim()).ok());
        if let Some(name) = &name {
            match seen.get(name.as_str()) {
                Some(first) => errors.push(FieldError::new(
                    "name",
                    format!("`{name}` is already declared by schedules[{first}]"),
                )),
                None => {
                    seen.insert(name.to_string(), index);
                }
            }
        }
        // A field whose value could not be read was reported already; what follows from it
        // missing ("kind: is required") would only repeat it.
        errors.retain(|e| {
            let top = e.field.split('.').next().unwrap_or_default();
            !reported.contains(top)
        });
        for error in &errors {
            invalid(&error.field, error.message.clone());
        }
        if errors.is_empty()
            && read_cleanly
            && let Some(name) = name
        {
            declared.push(DeclaredSchedule { draft, name });
        }
    }
    declared
}

/// Reads one `[[schedules]]` entry field by field.
struct EntryReader<'a> {
    index: usize,
    /// `schedules[2] (nightly)`, or `schedules[2]` until the name is known.
    label: String,
    fields: serde_json::Map<String, serde_json::Value>,
    origin: Option<String>,
    problems: &'a mut Vec<ConfigError>,
    /// False once anything in the entry was reported.
    ok: bool,
    /// The fields whose values were reported as unreadable.
    reported: HashSet<String>,
}

impl<'a> EntryReader<'a> {
    fn new(
        index: usize,
        entry: &Value,
        origin: Option<String>,
        problems: &'a mut Vec<ConfigError>,
    ) -> EntryReader<'a> {
        let label = format!("schedules[{index}]");
        let json = serde_json::to_value(entry).map(plain_json);
        let (fields, ok) = match json {
            Ok(serde_json::Value::Object(fields)) => (fields, true),
            _ => {
                problems.push(ConfigError::InvalidValue {
                    key: label.clone(),
                    reason: "expected a table: `[[schedules]]` followed by `key = value` lines"
                        .to_owned(),
                    origin: origin.clone(),
                });
                (serde_json::Map::new(), false)
            }
        };
        EntryReader {
            index,
            label,
            fields,
            origin,
            problems,
            ok,
            reported: HashSet::new(),
        }
    }

    /// The entry as a draft, its unreadable fields left out and reported; `None` when the
    /// entry is not a table at all.
    fn draft(&mut self) -> Option<ScheduleDraft> {
        if !self.ok {
            return None;
        }
        let name: Option<String> = self.take("name");
        if let Some(name) = &name {
            self.label = format!("schedules[{}] ({name})", self.index);
        }
        let draft = ScheduleDraft {
            name,
            description: self.take("description"),
            cron: self.take("cron"),
            interval: self.take("interval"),
            interval_seconds: self.take("interval_seconds"),
            at: self.take("at"),
            timezone: self.take("timezone"),
            anchor: self.take("anchor"),
            kind: self.take("kind"),
            params: self.take("params"),
            enabled: self.take("enabled"),
            tags: self.take("tags"),
            source: self.take("source"),
            callback_url: self.take("callback_url"),
            misfire_grace: self.take("misfire_grace"),
            coalesce: self.take("coalesce"),
            max_catch_up: self.take("max_catch_up"),
            max_instances: self.take("max_instances"),
            max_attempts: self.take("max_attempts"),
            backoff: self.take("backoff"),
            timeout: self.take("timeout"),
            run_on_start: self.take("run_on_start"),
        };
        let unknown: Vec<String> = self.fields.keys().cloned().collect();
        for key in unknown {
            self.ok = false;
            let suggestion = KEYS
                .iter()
                .map(|known| (strsim::damerau_levenshtein(&key, known), known))
                .filter(|(distance, _)| *distance <= (key.chars().count() / 4).max(2))
                .min_by_key(|(distance, _)| *distance)
                .map(|(_, known)| format!("`schedules[{}].{known}`", self.index));
            self.problems.push(ConfigError::UnknownKey {
                key: format!("schedules[{}].{key}", self.index),
                origin: self
                    .origin
                    .clone()
                    .unwrap_or_else(|| "the configuration".to_owned()),
                suggestion,
            });
        }
        let mut draft = draft;
        if draft
            .params
            .as_ref()
            .is_some_and(|params| !params.is_object())
        {
            draft.params = None;
            self.invalid("params", "expected a table of the job's params".to_owned());
        }
        Some(draft)
    }

    /// Removes `key` and reads it as a `T`; a value of the wrong type is reported.
    fn take<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        let value = self.fields.remove(key)?;
        match serde_json::from_value(value) {
            Ok(value) => Some(value),
            Err(error) => {
                self.invalid(key, error.to_string());
                None
            }
        }
    }

    fn invalid(&mut self, key: &str, reason: String) {
        self.ok = false;
        self.reported.insert(key.to_owned());
        self.problems.push(ConfigError::InvalidValue {
            key: format!("{}.{key}", self.label),
            reason,
            origin: self.origin.clone(),
        });
    }
}

/// `value` with TOML's date-times (which arrive as `{"$__toml_private_datetime": "…"}`) turned
/// into the strings they were written as: `at = 2026-01-05T09:00:00Z` reads like
/// `at = "2026-01-05T09:00:00Z"`.
fn plain_json(value: serde_json::Value) -> serde_json::Value {
    const DATETIME: &str = "$__toml_private_datetime";
    match value {
        serde_json::Value::Object(map) if map.len() == 1 && map.contains_key(DATETIME) => map
            .into_iter()
            .next()
            .map_or(serde_json::Value::Null, |(_, text)| text),
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().map(|(k, v)| (k, plain_json(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(plain_json).collect())
        }
        other => other,
    }
}
