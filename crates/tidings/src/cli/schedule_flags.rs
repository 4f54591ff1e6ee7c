//! The flags of `tidings schedules create|update`, named after the keys of a `[[schedules]]`
//! entry, and how they become a [`ScheduleDraft`]: `--param KEY=VALUE` read as JSON when it
//! parses, dotted keys nesting.

use anyhow::anyhow;
use clap::Args;
use serde_json::{Map, Value};

use super::Failure;
use crate::draft::ScheduleDraft;

/// The flags of `create` and `update`, named after the keys of a `[[schedules]]` entry.
#[derive(Debug, Args)]
pub(crate) struct ScheduleFlags {
    /// The schedule's unique name (with `update`, a new name)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Fire on a cron expression (5 fields, or 6 with seconds first); quote it
    #[arg(long, value_name = "EXPR", conflicts_with_all = ["interval", "at"])]
    cron: Option<String>,
    /// The IANA zone a cron expression follows [default: scheduler.timezone]
    #[arg(long = "tz", value_name = "ZONE")]
    timezone: Option<String>,
    /// Fire every DURATION of real time (30s, 15m, 1h 30m), counted from --anchor
    #[arg(long, value_name = "DURATION", conflicts_with = "at")]
    interval: Option<String>,
    /// The RFC 3339 instant an interval counts from [default: now]
    #[arg(long, value_name = "RFC3339")]
    anchor: Option<String>,
    /// Fire once, at this RFC 3339 instant (e.g. 2026-01-05T09:00:00+01:00)
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// The job kind to run: http, noop
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// A job param; VALUE is read as JSON when it parses (42, true, [1,2]), else as text; dotted
    /// keys nest (headers.Authorization=…). Repeatable; with `update`, changes only that param
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// All job params as one JSON object; --param values apply on top
    #[arg(long, value_name = "JSON")]
    params_json: Option<String>,
    /// What the schedule is for (an empty text clears it)
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// A tag; repeatable (with `update`, the tags given replace the schedule's)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// The source the schedule works on
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Create the schedule disabled (with `update`, disable it)
    #[arg(long)]
    disabled: bool,
    /// How late an occurrence may still run; later ones are recorded as missed
    /// [default: scheduler.misfire_grace]
    #[arg(long, value_name = "DURATION|unlimited")]
    misfire_grace: Option<String>,
    /// Run each due occurrence (up to --max-catch-up) instead of only the latest
    #[arg(long, conflicts_with = "coalesce")]
    no_coalesce: bool,
    /// Run only the latest of several due occurrences (the default)
    #[arg(long)]
    coalesce: bool,
    /// Without coalescing, the most due occurrences run at once [default: 100]
    #[arg(long, value_name = "N")]
    max_catch_up: Option<u32>,
    /// Occurrences finding this many runs queued or running are skipped [default: 1]
    #[arg(long, value_name = "N")]
    max_instances: Option<u32>,
    /// Attempts per run, the first included [default: 3]
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// The wait after a first failed attempt, doubling after each further one [default: 1s]
    #[arg(long, value_name = "DURATION")]
    backoff: Option<String>,
    /// How long one attempt may take [default: 1h]
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Also queue a run each time tidings starts
    #[arg(long, conflicts_with = "no_run_on_start")]
    run_on_start: bool,
    /// Do not queue a run when tidings starts (the default)
    #[arg(long)]
    no_run_on_start: bool,
    /// Receives a signed JSON POST when a run ends
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
}

impl ScheduleFlags {
    /// The flags as a draft. `base_params` are the params of the schedule being updated: a
    /// `--param` changes one of them.
    pub(crate) fn draft(&self, base_params: Option<&Value>) -> Result<ScheduleDraft, Failure> {
        Ok(ScheduleDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            cron: self.cron.clone(),
            interval: self.interval.clone(),
            interval_seconds: None,
            at: self.at.clone(),
            timezone: self.timezone.clone(),
            anchor: self.anchor.clone(),
            kind: self.kind.clone(),
            enabled: self.disabled.then_some(false),
            tags: (!self.tags.is_empty()).then(|| self.tags.clone()),
            source: self.source.clone(),
            callback_url: self.callback_url.clone(),
            misfire_grace: self.misfire_grace.clone(),
            coalesce: flag_pair(self.coalesce, self.no_coalesce),
            max_catch_up: self.max_catch_up,
            max_instances: self.max_instances,
            max_attempts: self.max_attempts,
            backoff: self.backoff.clone(),
            timeout: self.timeout.clone(),
            run_on_start: flag_pair(self.run_on_start, self.no_run_on_start),
            params: self.params(base_params)?,
        })
    }

    /// The params the flags give: `--params-json`, else the current params, with each `--param`
    /// applied; `None` when neither flag is given.
    fn params(&self, base: Option<&Value>) -> Result<Option<Value>, Failure> {
        let mut params = match &self.params_json {
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(Failure::usage(anyhow!(
                        "--params-json: expected a JSON object such as '{{\"url\": \"https://…\"}}'"
                    )));
                }
                Err(error) => {
                    return Err(Failure::usage(anyhow!(
                        "--params-json: invalid JSON: {error}"
                    )));
                }
            },
            None if self.params.is_empty() => return Ok(None),
            None => match base {
                Some(Value::Object(map)) => map.clone(),
                _ => Map::new(),
            },
        };
        for param in &self.params {
            set_param(&mut params, param)?;
        }
        Ok(Some(Value::Object(params)))
    }
}

/// `--x` gives `Some(true)`, `--no-x` `Some(false)`, neither `None`.
fn flag_pair(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Applies one `--param KEY=VALUE` to `params`: VALUE as JSON if it parses, else as text; a
/// dotted KEY sets a nested field.
fn set_param(params: &mut Map<String, Value>, param: &str) -> Result<(), Failure> {
    let bad = |why: &str| Failure::usage(anyhow!("--param `{param}`: {why}"));
    let (key, raw) = param
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=VALUE, e.g. url=https://example.com/hook"))?;
    let path: Vec<&str> = key.trim().split('.').collect();
    if path.iter().any(|part| part.is_empty()) {
        return Err(bad("the key has an empty part"));
    }
    let value =
        serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    let Some((last, parents)) = path.split_last() else {
        return Err(bad("the key is empty"));
    };
    let mut table = params;
    for part in parents {
        let entry = table
            .entry((*part).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(inner) = entry else {
            return Err(bad("cannot nest here"));
        };
        table = inner;
    }
    table.insert((*last).to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(args: &[&str]) -> Value {
        let mut map = Map::new();
        for arg in args {
            set_param(&mut map, arg).unwrap();
        }
        Value::Object(map)
    }

    #[test]
    fn params_are_json_when_they_parse_and_dotted_keys_nest() {
        assert_eq!(
            params(&[
                "url=http://127.0.0.1:8080/hook",
                "timeout_seconds=5",
                "headers.Authorization=Bearer ${TOKEN}",
                "headers.X-Id=\"42\"",
                "expected_status=[200,204]",
            ]),
            json!({
                "url": "http://127.0.0.1:8080/hook",
                "timeout_seconds": 5,
                "headers": {"Authorization": "Bearer ${TOKEN}", "X-Id": "42"},
                "expected_status": [200, 204],
            })
        );
    }

    #[test]
    fn a_param_without_a_value_is_a_usage_error() {
        let mut map = Map::new();
        let Err(Failure::Usage(error)) = set_param(&mut map, "url") else {
            panic!("accepted a param without `=`");
        };
        assert_eq!(
            error.to_string(),
            "--param `url`: expected KEY=VALUE, e.g. url=https://example.com/hook"
        );
    }
}
