//! `tidings sources list`: the configured sources, with what the store holds for each — records
//! cached, last full and incremental sync, watermark — and any sync queued or running.

use std::io::Write;

use clap::{Args, Subcommand};
use jiff::Timestamp;
use serde::Serialize;
use tidings_store::{RunId, SourceState};

use super::session::{Session, store_failure};
use super::sync::active_sync;
use super::text::{Table, maybe_instant, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};

#[derive(Debug, Args)]
pub struct SourcesArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Print JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: SourcesCommand,
}

#[derive(Debug, Subcommand)]
enum SourcesCommand {
    /// List the configured sources and the state of their cache
    List,
}

/// One source as listed.
#[derive(Debug, Serialize)]
struct SourceView {
    name: String,
    kind: &'static str,
    location: String,
    records: u64,
    last_full_at: Option<Timestamp>,
    last_incremental_at: Option<Timestamp>,
    watermark: Option<Timestamp>,
    /// A sync queued or running now.
    syncing: Option<RunId>,
}

impl SourcesArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let SourcesCommand::List = self.command;
        let session = Session::open(global, &self.database).await?;
        let mut views = Vec::new();
        for (name, source) in &session.config.sources {
            let records = session
                .store()
                .feedback_count(Some(name))
                .await
                .map_err(store_failure)?;
            let state: Option<SourceState> = session
                .store()
                .source_state_get(name)
                .await
                .map_err(store_failure)?;
            let syncing = active_sync(&session, name).await?.map(|run| run.id);
            views.push(SourceView {
                name: name.clone(),
                kind: source.kind(),
                location: source.location(),
                records,
                last_full_at: state.as_ref().and_then(|s| s.last_full_at),
                last_incremental_at: state.as_ref().and_then(|s| s.last_incremental_at),
                watermark: state.as_ref().and_then(|s| s.watermark),
                syncing,
            });
        }
        if self.json {
            return write_json(out, &views);
        }
        if views.is_empty() {
            return write(
                out,
                "no sources are configured; add one under [sources.NAME] in tidings.toml\n",
            );
        }
        let zone = session.zone();
        let mut table = Table::new(&[
            "NAME",
            "KIND",
            "LOCATION",
            "RECORDS",
            "LAST FULL",
            "LAST INCREMENTAL",
            "WATERMARK",
            "SYNCING",
        ]);
        for view in &views {
            table.row(vec![
                view.name.clone(),
                view.kind.to_owned(),
                view.location.clone(),
                view.records.to_string(),
                maybe_instant(view.last_full_at, zone),
                maybe_instant(view.last_incremental_at, zone),
                maybe_instant(view.watermark, zone),
                view.syncing
                    .map_or_else(|| "-".to_owned(), |id| format!("run {id}")),
            ]);
        }
        write(out, &table.render())
    }
}
