//! `tidings schedules list|show|create|update|delete|enable|disable|run`, on the store directly:
//! no server is needed. Every change goes through the engine's checks, the same as the API's,
//! and every problem is printed at once (`params.url: …`, `--cron: …`) with exit code 2. A server
//! running on the same SQLite file picks a change up within its idle poll (1 s).

use std::io::Write;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use serde_json::{Value, json};
use tidings_core::{RunTrigger, Trigger, Zone};
use tidings_engine::{EngineError, FieldError};
use tidings_store::{RunEnqueued, Schedule, ScheduleKey, ScheduleListParams, ScheduleOrigin};

use super::schedule_flags::ScheduleFlags;
use super::session::{Session, store_failure};
use super::text::{self, Table, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};
use crate::draft::{self, Rules, ScheduleDraft};

#[derive(Debug, Args)]
pub struct SchedulesArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Print JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: SchedulesCommand,
}

#[derive(Debug, Subcommand)]
enum SchedulesCommand {
    /// List schedules, newest first
    List(ListArgs),
    /// Show a schedule: trigger, policy, statistics and its next 5 fire times with DST notes
    Show {
        #[command(flatten)]
        target: Target,
        /// List the fire times after this RFC 3339 instant [default: now]
        #[arg(long, value_name = "RFC3339")]
        after: Option<String>,
    },
    /// Create a schedule: --name, one of --cron/--interval/--at, --kind and its params
    Create(Box<ScheduleFlags>),
    /// Change a schedule; only what is given changes
    Update {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        flags: Box<ScheduleFlags>,
    },
    /// Delete a schedule; its runs are kept
    Delete(Target),
    /// Enable a schedule: it fires from its next occurrence on (what was due meanwhile is not run)
    Enable(Target),
    /// Disable a schedule: it stops firing; runs already queued still run
    Disable(Target),
    /// Queue a run of a schedule now (refused while max_instances runs of it are active)
    Run(Target),
}

#[derive(Debug, Args)]
struct Target {
    /// The schedule's name or id
    #[arg(value_name = "NAME|ID")]
    schedule: String,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only enabled schedules
    #[arg(long, conflicts_with = "disabled")]
    enabled: bool,
    /// Only disabled schedules
    #[arg(long)]
    disabled: bool,
    /// Only schedules of this job kind
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Only schedules with this tag
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Only schedules whose name or description contains this text
    #[arg(long, value_name = "TEXT")]
    text: Option<String>,
}

impl SchedulesArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let session = Session::open(global, &self.database).await?;
        let json = self.json;
        match self.command {
            SchedulesCommand::List(args) => list(&session, &args, json, out).await,
            SchedulesCommand::Show { target, after } => {
                let after = match after {
                    Some(text) => draft::instant(&text)
                        .map_err(|e| Failure::usage(anyhow!("--after: {e}")))?,
                    None => session.now(),
                };
                show(&session, &target.schedule, after, json, out).await
            }
            SchedulesCommand::Create(flags) => create(&session, &flags, json, out).await,
            SchedulesCommand::Update { target, flags } => {
                update(&session, &target.schedule, &flags, json, out).await
            }
            SchedulesCommand::Delete(target) => delete(&session, &target.schedule, json, out).await,
            SchedulesCommand::Enable(target) => {
                set_enabled(&session, &target.schedule, true, json, out).await
            }
            SchedulesCommand::Disable(target) => {
                set_enabled(&session, &target.schedule, false, json, out).await
            }
            SchedulesCommand::Run(target) => run_now(&session, &target.schedule, json, out).await,
        }
    }
}

async fn list(
    session: &Session,
    args: &ListArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut schedules = Vec::new();
    let mut cursor = None;
    loop {
        let page = session
            .store()
            .schedule_list(ScheduleListParams {
                enabled: (args.enabled || args.disabled).then_some(args.enabled),
                kind: args.kind.clone(),
                tag: args.tag.clone(),
                text: args.text.clone(),
                limit: 500,
                cursor,
                ..ScheduleListParams::default()
            })
            .await
            .map_err(store_failure)?;
        schedules.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if json {
        return write_json(out, &schedules);
    }
    if schedules.is_empty() {
        return write(out, "no schedules\n");
    }
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "TRIGGER",
        "KIND",
        "ENABLED",
        "NEXT RUN",
        "LAST STATE",
        "TOTAL/OK/FAILED/MISSED",
    ]);
    for s in &schedules {
        let zone = text::zone_of(&s.trigger, session.zone());
        table.row(vec![
            s.id.to_string(),
            s.name.to_string(),
            text::trigger(&s.trigger, zone),
            s.kind.clone(),
            text::yes_no(s.enabled).to_owned(),
            text::maybe_instant(s.next_run_at, zone),
            s.stats
                .last_state
                .map_or_else(|| "-".to_owned(), |state| state.to_string()),
            format!(
                "{}/{}/{}/{}",
                s.stats.total, s.stats.succeeded, s.stats.failed, s.stats.missed
            ),
        ]);
    }
    write(out, &table.render())
}

/// How many upcoming fires `show` lists.
const SHOWN_FIRES: usize = 5;

/// The next fires of `trigger` after `after`, with DST notes for cron triggers.
fn next_fires(trigger: &Trigger, after: Timestamp) -> Vec<(Timestamp, Option<String>)> {
    match trigger {
        Trigger::Cron(cron) => cron
            .fires_after(after, SHOWN_FIRES)
            .into_iter()
            .map(|fire| (fire.at, fire.note.map(|note| note.to_string())))
            .collect(),
        Trigger::Interval(_) | Trigger::Once(_) => {
            let mut fires = Vec::new();
            let mut at = after;
            while fires.len() < SHOWN_FIRES {
                let Some(next) = trigger.next_after(at) else {
                    break;
                };
                fires.push((next, None));
                at = next;
            }
            fires
        }
    }
}

async fn show(
    session: &Session,
    schedule: &str,
    after: Timestamp,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let s = session.schedule(schedule).await?;
    let zone = text::zone_of(&s.trigger, session.zone()).clone();
    let fires = next_fires(&s.trigger, after);
    if json {
        let mut value = serde_json::to_value(&s).map_err(Failure::runtime)?;
        if let Value::Object(map) = &mut value {
            let fires: Vec<Value> = fires
                .iter()
                .map(|(at, note)| json!({ "at": at, "dst_note": note }))
                .collect();
            map.insert("next_fires".to_owned(), Value::Array(fires));
        }
        return write_json(out, &value);
    }
    write(out, &describe(&s, &zone, &fires))
}

/// `show`'s text: every field, the policy, the statistics and the next fires.
fn describe(s: &Schedule, zone: &Zone, fires: &[(Timestamp, Option<String>)]) -> String {
    let dash = || "-".to_owned();
    let mut lines: Vec<(&str, String)> = Vec::new();
    lines.push(("description", s.description.clone().unwrap_or_else(dash)));
    lines.push(("trigger", text::trigger(&s.trigger, zone)));
    match &s.trigger {
        Trigger::Cron(cron) => lines.push(("", cron.expr().describe())),
        Trigger::Interval(interval) => {
            lines.push(("anchor", text::instant(interval.anchor(), zone)));
        }
        Trigger::Once(_) => {}
    }
    lines.push(("kind", s.kind.clone()));
    lines.push(("params", s.params.to_string()));
    lines.push(("enabled", text::yes_no(s.enabled).to_owned()));
    lines.push(("origin", s.origin.as_str().to_owned()));
    let tags = if s.tags.is_empty() {
        dash()
    } else {
        s.tags.join(", ")
    };
    lines.push(("tags", tags));
    lines.push(("source", s.source.clone().unwrap_or_else(dash)));
    lines.push(("callback url", s.callback_url.clone().unwrap_or_else(dash)));
    let policy = &s.policy;
    let grace = policy
        .fire
        .misfire_grace
        .map_or_else(|| "unlimited".to_owned(), text::policy_duration);
    lines.push((
        "policy",
        format!(
            "misfire grace {grace}, coalesce {}, max catch-up {}, max instances {}",
            text::yes_no(policy.fire.coalesce),
            policy.fire.max_catch_up,
            policy.fire.max_instances
        ),
    ));
    lines.push((
        "retry",
        format!(
            "{} attempts, backoff {} doubling up to {}, timeout {}",
            policy.retry.max_attempts,
            text::policy_duration(policy.retry.backoff),
            text::policy_duration(policy.retry.max_backoff),
            text::policy_duration(policy.timeout)
        ),
    ));
    lines.push(("run on start", text::yes_no(policy.run_on_start).to_owned()));
    lines.push(("next run", text::maybe_instant(s.next_run_at, zone)));
    let last = match (s.stats.last_run_id, s.stats.last_state) {
        (Some(id), Some(state)) => format!(
            "run {id}, {state}, started {}",
            text::maybe_instant(s.stats.last_run_at, zone)
        ),
        _ => dash(),
    };
    lines.push(("last run", last));
    let stats = &s.stats;
    lines.push((
        "runs",
        format!(
            "{} total, {} succeeded, {} failed, {} skipped, {} missed",
            stats.total, stats.succeeded, stats.failed, stats.skipped, stats.missed
        ),
    ));
    lines.push(("created", text::instant(s.created_at, zone)));
    lines.push(("updated", text::instant(s.updated_at, zone)));

    let mut out = format!("schedule {} `{}`\n", s.id, s.name);
    for (label, value) in lines {
        out.push_str(&format!("  {label:<13} {value}\n"));
    }
    let when = if s.enabled {
        String::new()
    } else {
        " (disabled: none will run until it is enabled)".to_owned()
    };
    out.push_str(&format!("next {} fires ({zone}){when}:\n", fires.len()));
    for (at, note) in fires {
        let weekday = at.to_zoned(zone.tz().clone()).strftime("%a").to_string();
        out.push_str(&format!("  {}  {weekday}", text::instant(*at, zone)));
        if let Some(note) = note {
            out.push_str(&format!("  DST: {note}"));
        }
        out.push('\n');
    }
    out
}

/// Every field problem, one per line, each named by its flag; exit code 2.
fn invalid(problems: Vec<FieldError>) -> Failure {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", draft::flag(&p.field), p.message))
        .collect();
    Failure::usage(anyhow!(lines.join("\n")))
}

fn engine_failure(error: EngineError) -> Failure {
    match error {
        EngineError::Invalid(problems) => invalid(problems),
        EngineError::Store(error) => store_failure(error),
    }
}

/// Checks `draft` as a change of `base` (or a new schedule) and returns the spec to store.
fn checked_spec(
    session: &Session,
    draft: &ScheduleDraft,
    base: Option<&Schedule>,
) -> Result<tidings_store::ScheduleSpec, Failure> {
    let defaults = draft::defaults(&session.config.scheduler);
    let rules = Rules {
        registry: session.engine.registry(),
        min_interval: session.config.scheduler.min_interval,
    };
    let base_spec = base.map(Schedule::spec);
    draft
        .to_checked_spec(
            base_spec.as_ref(),
            base.map(|b| &b.trigger),
            &defaults,
            &rules,
            session.now(),
        )
        .map_err(invalid)
}

/// `created schedule `hello` (id 3): cron */5 * * * * UTC; next run 2026-…`.
fn summary(verb: &str, s: &Schedule, zone: &Zone) -> String {
    let zone = text::zone_of(&s.trigger, zone);
    let next = match s.next_run_at {
        Some(next) => format!("next run {}", text::instant(next, zone)),
        None if !s.enabled => "disabled".to_owned(),
        None => "no more runs".to_owned(),
    };
    format!(
        "{verb} schedule `{}` (id {}): {}, {}; {next}\n",
        s.name,
        s.id,
        text::trigger(&s.trigger, zone),
        s.kind
    )
}

async fn create(
    session: &Session,
    flags: &ScheduleFlags,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let draft = flags.draft(None)?;
    let spec = checked_spec(session, &draft, None)?;
    let schedule = session
        .engine
        .schedule_create(spec, ScheduleOrigin::Cli)
        .await
        .map_err(engine_failure)?;
    if json {
        return write_json(out, &schedule);
    }
    write(out, &summary("created", &schedule, session.zone()))
}

async fn update(
    session: &Session,
    target: &str,
    flags: &ScheduleFlags,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let current = session.schedule(target).await?;
    let draft = flags.draft(Some(&current.params))?;
    let spec = checked_spec(session, &draft, Some(&current))?;
    let schedule = session
        .engine
        .schedule_update(&ScheduleKey::Id(current.id), spec)
        .await
        .map_err(engine_failure)?;
    if json {
        return write_json(out, &schedule);
    }
    write(out, &summary("updated", &schedule, session.zone()))
}

async fn delete(
    session: &Session,
    target: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let schedule = session.schedule(target).await?;
    session
        .engine
        .schedule_delete(&ScheduleKey::Id(schedule.id))
        .await
        .map_err(engine_failure)?;
    if json {
        return write_json(
            out,
            &json!({ "deleted": { "id": schedule.id, "name": schedule.name } }),
        );
    }
    write(
        out,
        &format!(
            "deleted schedule `{}` (id {}); its runs are kept\n",
            schedule.name, schedule.id
        ),
    )
}

async fn set_enabled(
    session: &Session,
    target: &str,
    enabled: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let current = session.schedule(target).await?;
    let schedule = session
        .engine
        .schedule_set_enabled(&ScheduleKey::Id(current.id), enabled)
        .await
        .map_err(engine_failure)?;
    if json {
        return write_json(out, &schedule);
    }
    let verb = if enabled { "enabled" } else { "disabled" };
    write(out, &summary(verb, &schedule, session.zone()))
}

async fn run_now(
    session: &Session,
    target: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let schedule = session.schedule(target).await?;
    let enqueued = session
        .engine
        .schedule_run_now(&ScheduleKey::Id(schedule.id), RunTrigger::Manual)
        .await
        .map_err(engine_failure)?;
    match enqueued {
        RunEnqueued::Queued(run) if json => write_json(out, &run),
        RunEnqueued::Queued(run) => write(
            out,
            &format!(
                "queued run {} of schedule `{}` ({}); a running `tidings serve` starts it\n",
                run.id, schedule.name, run.kind
            ),
        ),
        RunEnqueued::AtCapacity(active) => {
            let zone = text::zone_of(&schedule.trigger, session.zone());
            let runs: Vec<String> = active
                .iter()
                .map(|run| match run.started_at {
                    Some(started) => format!(
                        "run {} is {} (attempt {}, started {})",
                        run.id,
                        run.state,
                        run.attempt,
                        text::instant(started, zone)
                    ),
                    None => format!("run {} is {}", run.id, run.state),
                })
                .collect();
            Err(Failure::runtime(anyhow!(
                "schedule `{}` already has {} run(s) queued or running (max_instances {}): {}",
                schedule.name,
                active.len(),
                schedule.policy.fire.max_instances,
                runs.join("; ")
            )))
        }
    }
}
