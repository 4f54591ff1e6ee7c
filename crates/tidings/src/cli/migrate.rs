//! `tidings migrate`: apply the database's pending migrations and say what was done. `serve`
//! and the other commands apply them too; this is for doing it deliberately, before an upgrade
//! is rolled out.

use std::io::Write;

use anyhow::anyhow;
use clap::Args;

use super::text::write;
use super::{DatabaseArgs, Failure, GlobalArgs};
use crate::store::{self, Access};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

impl MigrateArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let config = global.load_config_with(&self.database)?;
        let url = &config.database.url;
        let store = store::open(url, Access::Tool)
            .await
            .map_err(Failure::runtime)?;
        let applied = store.migrate().await.map_err(|error| {
            Failure::runtime(anyhow!(
                "cannot migrate the database {url}: {}",
                store::scrub(error.to_string(), url)
            ))
        })?;
        let mut text = String::new();
        for migration in &applied {
            text.push_str(&format!(
                "applied {:04} {}\n",
                migration.version, migration.description
            ));
        }
        if applied.is_empty() {
            let known = store::migration_count(url.backend());
            let plural = if known == 1 { "" } else { "s" };
            text.push_str(&format!(
                "database is up to date ({known} migration{plural})\n"
            ));
        }
        write(out, &text)
    }
}
