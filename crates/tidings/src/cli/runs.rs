//! `tidings runs list|show`: the run history in the store, newest first, with each run's
//! attempts — including the `missed` and `skipped` records of occurrences that did not run.

use std::collections::HashMap;
use std::io::Write;

use clap::{Args, Subcommand};
use serde::Serialize;
use tidings_core::{RunState, Zone};
use tidings_store::{Attempt, Run, RunId, RunListParams, ScheduleId, ScheduleKey};

use super::session::{Session, schedule_key, store_failure};
use super::text::{self, Table, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Print JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// List runs, newest first
    List(ListArgs),
    /// Show a run with its attempts and summary
    Show {
        /// The run's id
        #[arg(value_name = "ID")]
        id: i64,
    },
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only runs of this schedule (name or id)
    #[arg(long, value_name = "NAME|ID")]
    schedule: Option<String>,
    /// Only runs in this state; repeatable (queued, running, succeeded, failed, timed_out,
    /// cancelled, skipped, missed)
    #[arg(long = "state", value_name = "STATE")]
    states: Vec<RunState>,
    /// Only runs of this job kind
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// How many runs to show
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
}

/// A run as printed: its row, and the name of its schedule.
#[derive(Debug, Serialize)]
struct RunView<'a> {
    #[serde(flatten)]
    run: &'a Run,
    /// The schedule's name; `None` for an ad-hoc run or a deleted schedule.
    schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<&'a [Attempt]>,
}

impl RunsArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let session = Session::open(global, &self.database).await?;
        match self.command {
            RunsCommand::List(args) => list(&session, args, self.json, out).await,
            RunsCommand::Show { id } => show(&session, RunId(id), self.json, out).await,
        }
    }
}

/// Schedule names by id, looked up once each.
struct ScheduleNames<'a> {
    session: &'a Session,
    names: HashMap<ScheduleId, Option<String>>,
}

impl ScheduleNames<'_> {
    async fn of(&mut self, id: Option<ScheduleId>) -> Option<String> {
        let id = id?;
        if let Some(name) = self.names.get(&id) {
            return name.clone();
        }
        let name = self
            .session
            .store()
            .schedule_get(&ScheduleKey::Id(id))
            .await
            .ok()
            .map(|s| s.name.to_string());
        self.names.insert(id, name.clone());
        name
    }
}

async fn list(
    session: &Session,
    args: ListArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let schedule_id = match &args.schedule {
        Some(text) => {
            let key = schedule_key(text)?;
            let schedule = session
                .store()
                .schedule_get(&key)
                .await
                .map_err(store_failure)?;
            Some(schedule.id)
        }
        None => None,
    };
    let runs = session
        .store()
        .run_list(RunListParams {
            schedule_id,
            kind: args.kind,
            states: args.states,
            limit: args.limit,
            ..RunListParams::default()
        })
        .await
        .map_err(store_failure)?
        .items;
    let mut names = ScheduleNames {
        session,
        names: HashMap::new(),
    };
    let mut views = Vec::with_capacity(runs.len());
    for run in &runs {
        views.push(RunView {
            run,
            schedule: names.of(run.schedule_id).await,
            attempts: None,
        });
    }
    if json {
        return write_json(out, &views);
    }
    if views.is_empty() {
        return write(out, "no runs\n");
    }
    let zone = session.zone();
    let mut table = Table::new(&[
        "ID",
        "SCHEDULE",
        "KIND",
        "TRIGGER",
        "STATE",
        "ATTEMPT",
        "SCHEDULED FOR",
        "STARTED",
        "FINISHED",
        "DURATION",
        "ERROR",
    ]);
    for view in &views {
        let run = view.run;
        table.row(vec![
            run.id.to_string(),
            view.schedule.clone().unwrap_or_else(|| "-".to_owned()),
            run.kind.clone(),
            run.trigger.to_string(),
            run.state.to_string(),
            run.attempt.to_string(),
            text::maybe_instant(run.scheduled_for, zone),
            text::maybe_instant(run.started_at, zone),
            text::maybe_instant(run.finished_at, zone),
            duration(run),
            run.error
                .as_deref()
                .map_or_else(String::new, |e| text::truncate(e, 60)),
        ]);
    }
    write(out, &table.render())
}

/// From the first attempt's start to the end, `-` until the run has ended.
fn duration(run: &Run) -> String {
    match (run.started_at, run.finished_at) {
        (Some(started), Some(finished)) => text::elapsed(finished.duration_since(started)),
        _ => "-".to_owned(),
    }
}

async fn show(
    session: &Session,
    id: RunId,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let run = session.store().run_get(id).await.map_err(store_failure)?;
    let attempts = session
        .store()
        .run_attempts(id)
        .await
        .map_err(store_failure)?;
    let mut names = ScheduleNames {
        session,
        names: HashMap::new(),
    };
    let view = RunView {
        run: &run,
        schedule: names.of(run.schedule_id).await,
        attempts: Some(&attempts),
    };
    if json {
        return write_json(out, &view);
    }
    write(out, &describe(&view, &attempts, session.zone()))
}

/// `show`'s text.
fn describe(view: &RunView<'_>, attempts: &[Attempt], zone: &Zone) -> String {
    let run = view.run;
    let schedule = match (&view.schedule, run.schedule_id) {
        (Some(name), Some(id)) => format!("`{name}` (id {id})"),
        (None, Some(id)) => format!("{id} (deleted)"),
        _ => "- (an ad-hoc run)".to_owned(),
    };
    let mut lines: Vec<(&str, String)> = vec![
        ("schedule", schedule),
        ("kind", run.kind.clone()),
        ("trigger", run.trigger.to_string()),
        ("state", run.state.to_string()),
        (
            "attempt",
            format!("{} of {}", run.attempt, run.retry.max_attempts),
        ),
        (
            "scheduled for",
            text::maybe_instant(run.scheduled_for, zone),
        ),
        ("created", text::instant(run.created_at, zone)),
        ("run after", text::instant(run.run_after, zone)),
        ("started", text::maybe_instant(run.started_at, zone)),
        ("finished", text::maybe_instant(run.finished_at, zone)),
        ("duration", duration(run)),
    ];
    if let Some(owner) = &run.lease_owner {
        lines.push((
            "lease",
            format!(
                "held by {owner} until {}",
                text::maybe_instant(run.lease_expires_at, zone)
            ),
        ));
    }
    if run.cancel_requested {
        lines.push(("cancel", "requested".to_owned()));
    }
    if let Some(occurrences) = &run.occurrences {
        lines.push((
            "occurrences",
            format!(
                "{} from {} to {}",
                occurrences.count,
                text::instant(occurrences.first, zone),
                text::instant(occurrences.last, zone)
            ),
        ));
    }
    lines.push(("error", run.error.clone().unwrap_or_else(|| "-".to_owned())));
    lines.push(("params", run.params.to_string()));
    let json_or_dash = |value: &Option<serde_json::Value>| {
        value.as_ref().map_or("-".to_owned(), ToString::to_string)
    };
    lines.push(("summary", json_or_dash(&run.summary)));
    if run.progress.is_some() {
        lines.push(("progress", json_or_dash(&run.progress)));
    }

    let mut out = format!("run {}\n", run.id);
    for (label, value) in lines {
        out.push_str(&format!("  {label:<13} {value}\n"));
    }
    if attempts.is_empty() {
        out.push_str("attempts: none yet\n");
        return out;
    }
    out.push_str("attempts:\n");
    let mut table = Table::new(&["#", "INSTANCE", "STARTED", "FINISHED", "OUTCOME", "ERROR"]);
    for attempt in attempts {
        table.row(vec![
            attempt.number.to_string(),
            attempt.instance.clone(),
            text::instant(attempt.started_at, zone),
            text::maybe_instant(attempt.finished_at, zone),
            attempt
                .outcome
                .map_or_else(|| "running".to_owned(), |o| o.to_string()),
            attempt.error.clone().unwrap_or_default(),
        ]);
    }
    for line in table.render().lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}
