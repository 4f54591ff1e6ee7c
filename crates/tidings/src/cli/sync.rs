//! `tidings sync SOURCE [--full]`: one sync of a configured source, in the foreground.
//!
//! The sync is a run like any other — queued in the store, recorded with its attempts and
//! summary, shown by `tidings runs` and `/api/cache/status` — but this process claims it and
//! executes it at once, with a progress bar on stderr (plain lines when stderr is not a
//! terminal). Ctrl-C cancels it: a full sync then changes nothing. The exit code is 0 when the
//! sync succeeded, 1 when it failed.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::SignedDuration;
use serde_json::{Value, json};
use tidings_core::{RetryPolicy, RunState};
use tidings_store::{Run, RunId, RunListParams};
use tokio_util::sync::CancellationToken;

use super::session::{Session, store_failure};
use super::text::{self, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};

/// How often the progress shown is refreshed from the run's stored progress.
const REFRESH: Duration = Duration::from_millis(200);
/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(2);
/// How long a foreground sync may take before it is stopped.
const TIMEOUT: SignedDuration = SignedDuration::from_hours(6);

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The source to sync, as named under [sources.NAME] in the configuration
    #[arg(value_name = "SOURCE")]
    source: String,
    /// A full sync: every record read, and the ones gone from the source deleted, in one
    /// transaction (default: incremental, only what changed since the last sync)
    #[arg(long)]
    full: bool,
    /// Print the run's summary as JSON on stdout
    #[arg(long)]
    json: bool,
}

impl SyncArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let session = Session::open(global, &self.database).await?;
        if !session.config.sources.contains_key(&self.source) {
            return Err(Failure::usage(unknown_source(&self.source, &session)));
        }
        if let Some(active) = active_sync(&session, &self.source).await? {
            return Err(Failure::runtime(anyhow!(
                "a sync of `{}` is already {} (run {}); follow it with `tidings runs show {}`",
                self.source,
                active.state,
                active.id,
                active.id
            )));
        }
        let mode = if self.full { "full" } else { "incremental" };
        let expected = session
            .store()
            .feedback_count(Some(&self.source))
            .await
            .map_err(store_failure)?;
        // A failed foreground sync is reported, not retried behind the user's back.
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let queued = session
            .engine
            .run_enqueue(
                "sync",
                json!({ "source": self.source, "mode": mode }),
                once,
                TIMEOUT,
            )
            .await
            .map_err(|error| Failure::runtime(anyhow!("{error}")))?;

        let stop = CancellationToken::new();
        let interrupt = {
            let stop = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.cancel();
                }
            })
        };
        let display = Display::new(&self.source, mode, expected, queued.id);
        let watcher = tokio::spawn(watch(session.engine.store().clone(), queued.id, display));
        let worked = session.engine.work_run(queued.id, stop.clone()).await;
        let ended = match worked {
            Ok(Some(run)) => Ok(run),
            // Another instance (a running `tidings serve`) claimed it first: follow it there.
            Ok(None) => follow(&session, queued.id, &stop).await,
            Err(error) => Err(store_failure(error)),
        };
        watcher.abort();
        let _ = watcher.await;
        interrupt.abort();
        let run = ended?;
        self.report(&session, &run, out)
    }

    fn report(&self, session: &Session, run: &Run, out: &mut dyn Write) -> Result<(), Failure> {
        if self.json {
            write_json(
                out,
                &json!({
                    "run_id": run.id,
                    "state": run.state,
                    "error": run.error,
                    "summary": run.summary,
                }),
            )?;
        } else {
            write(out, &summary_text(run, session))?;
        }
        match run.state {
            RunState::Succeeded => Ok(()),
            state => Err(Failure::runtime(anyhow!(
                "sync of `{}` {state} (run {}): {}",
                self.source,
                run.id,
                run.error.as_deref().unwrap_or("no error recorded")
            ))),
        }
    }
}

fn unknown_source(name: &str, session: &Session) -> anyhow::Error {
    let names: Vec<&str> = session.config.sources.keys().map(String::as_str).collect();
    if names.is_empty() {
        anyhow!("no sources are configured; add one under [sources.NAME] in tidings.toml")
    } else {
        anyhow!(
            "unknown source `{name}`; configured sources: {}",
            names.join(", ")
        )
    }
}

/// A sync of `source` already queued or running, if any.
pub(crate) async fn active_sync(session: &Session, source: &str) -> Result<Option<Run>, Failure> {
    let page = session
        .store()
        .run_list(RunListParams {
            kind: Some("sync".to_owned()),
            states: vec![RunState::Queued, RunState::Running],
            limit: 1000,
            ..RunListParams::default()
        })
        .await
        .map_err(store_failure)?;
    Ok(page
        .items
        .into_iter()
        .find(|run| run.params.get("source").and_then(Value::as_str) == Some(source)))
}

/// Waits for a run executed elsewhere to end; `stop` asks for it to be cancelled.
async fn follow(session: &Session, id: RunId, stop: &CancellationToken) -> Result<Run, Failure> {
    let mut cancel_asked = false;
    loop {
        let run = session.store().run_get(id).await.map_err(store_failure)?;
        if run.state.is_final() {
            return Ok(run);
        }
        if stop.is_cancelled() && !cancel_asked {
            session
                .engine
                .run_cancel(id, "cancelled from `tidings sync` (Ctrl-C)")
                .await
                .map_err(|error| Failure::runtime(anyhow!("{error}")))?;
            cancel_asked = true;
        }
        tokio::time::sleep(REFRESH).await;
    }
}

/// Shows the run's stored progress until aborted.
async fn watch(store: std::sync::Arc<dyn tidings_store::Store>, id: RunId, mut display: Display) {
    loop {
        if let Ok(run) = store.run_get(id).await {
            display.update(&run);
        }
        tokio::time::sleep(REFRESH).await;
    }
}

/// The progress shown while a sync runs: a bar on a terminal, plain lines otherwise.
struct Display {
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    started: Instant,
    last_text: String,
}

impl Display {
    fn new(source: &str, mode: &str, expected: u64, id: RunId) -> Display {
        let started = Instant::now();
        let stderr = std::io::stderr();
        if stderr.is_terminal() {
            let bar = ProgressBar::with_draw_target(
                (expected > 0).then_some(expected),
                ProgressDrawTarget::stderr(),
            );
            let style = ProgressStyle::with_template(
                "{spinner} {prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} records  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(format!("sync {source} ({mode}, run {id})"));
            bar.enable_steady_tick(Duration::from_millis(120));
            Display {
                bar: Some(bar),
                last_line: None,
                started,
                last_text: String::new(),
            }
        } else {
            let _ = writeln!(
                std::io::stderr(),
                "sync {source} ({mode}) queued as run {id}; {expected} records cached now"
            );
            Display {
                bar: None,
                last_line: None,
                started,
                last_text: String::new(),
            }
        }
    }

    fn update(&mut self, run: &Run) {
        let Some(progress) = run.progress.as_ref() else {
            return;
        };
        let count = |key: &str| progress.get(key).and_then(Value::as_u64);
        let records = count("records").or_else(|| count("rows")).unwrap_or(0);
        let mut notes = Vec::new();
        if let Some(pages) = count("pages") {
            notes.push(format!("{pages} pages"));
        }
        if let (Some(done), Some(files)) = (count("files_done"), count("files")) {
            notes.push(format!("{done}/{files} files"));
        }
        if let Some(limited) = count("rate_limited").filter(|n| *n > 0) {
            notes.push(format!("{limited} × 429"));
        }
        if let Some(retries) = count("retries").filter(|n| *n > 0) {
            notes.push(format!("{retries} retries"));
        }
        if let Some(wait) = progress.get("waiting_seconds").and_then(Value::as_f64) {
            notes.push(format!("waiting {wait:.0} s"));
        }
        if let Some(phase) = progress.get("phase").and_then(Value::as_str) {
            notes.push(phase.to_owned());
        }
        let note = notes.join(", ");
        match &self.bar {
            Some(bar) => {
                if bar.length().is_some_and(|len| records > len) {
                    bar.set_length(records);
                }
                bar.set_position(records);
                bar.set_message(note);
            }
            None => {
                let text = format!("{records} records, {note}");
                let due = self.last_line.is_none_or(|at| at.elapsed() >= PLAIN_EVERY);
                if due && text != self.last_text {
                    let seconds = self.started.elapsed().as_secs_f64();
                    let rate = records as f64 / seconds.max(0.001);
                    let _ = writeln!(
                        std::io::stderr(),
                        "[{seconds:>6.1} s] {text}, {rate:.0} records/s"
                    );
                    self.last_line = Some(Instant::now());
                    self.last_text = text;
                }
            }
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The ended run as a few lines: state, counts and any problems.
fn summary_text(run: &Run, session: &Session) -> String {
    let zone = session.zone();
    let mut text = format!("run {} {}", run.id, run.state);
    if let Some(ended) = run.finished_at {
        text.push_str(&format!(" at {}", text::instant(ended, zone)));
    }
    text.push('\n');
    if let Some(error) = &run.error {
        text.push_str(&format!("error: {error}\n"));
    }
    let Some(summary) = run.summary.as_ref().and_then(Value::as_object) else {
        return text;
    };
    let number = |key: &str| summary.get(key).and_then(Value::as_u64);
    let mut counts = Vec::new();
    for key in [
        "fetched",
        "rows",
        "inserted",
        "updated",
        "unchanged",
        "deleted",
        "bad_rows",
        "bad_records",
        "pages",
        "requests",
        "rate_limited",
        "retries",
        "files",
        "files_skipped",
    ] {
        if let Some(n) = number(key) {
            counts.push(format!("{key} {n}"));
        }
    }
    text.push_str(&counts.join(", "));
    if let Some(seconds) = summary.get("seconds").and_then(Value::as_f64) {
        text.push_str(&format!(" in {seconds:.1} s"));
    }
    text.push('\n');
    for key in ["bad_row_samples", "bad_record_samples", "warnings"] {
        if let Some(items) = summary.get(key).and_then(Value::as_array) {
            for item in items {
                let line = match item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                text.push_str(&format!("  {key}: {line}\n"));
            }
        }
    }
    text
}
