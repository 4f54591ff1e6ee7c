//! `tidings instances list`: the `tidings serve` processes registered in the store, with when
//! each was last seen.

use std::io::Write;

use clap::{Args, Subcommand};

use super::session::{Session, store_failure};
use super::text::{Table, elapsed, instant, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};

#[derive(Debug, Args)]
pub struct InstancesArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Print JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: InstancesCommand,
}

#[derive(Debug, Subcommand)]
enum InstancesCommand {
    /// List the instances sharing the store, oldest first
    List,
}

impl InstancesArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let InstancesCommand::List = self.command;
        let session = Session::open(global, &self.database).await?;
        let instances = session
            .store()
            .instance_list()
            .await
            .map_err(store_failure)?;
        if self.json {
            return write_json(out, &instances);
        }
        if instances.is_empty() {
            return write(out, "no instance is running on this database\n");
        }
        let now = session.now();
        let zone = session.zone();
        let mut table = Table::new(&["ID", "HOST", "PID", "VERSION", "STARTED", "LAST SEEN"]);
        for instance in &instances {
            table.row(vec![
                instance.id.clone(),
                instance.host.clone(),
                instance.pid.to_string(),
                instance.version.clone(),
                instant(instance.started_at, zone),
                format!("{} ago", elapsed(now.duration_since(instance.last_seen_at))),
            ]);
        }
        write(out, &table.render())
    }
}
