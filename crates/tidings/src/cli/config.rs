//! `tidings config check`: validate the configuration and print the effective settings.

use std::io::Write;

use clap::Subcommand;

use super::{Failure, GlobalArgs};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective settings as TOML, secrets redacted;
    /// or list every problem and exit with code 2
    Check,
}

impl ConfigCommand {
    pub fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        match self {
            ConfigCommand::Check => {
                let config = global.load_config(global.overrides())?;
                let text = config.to_toml().map_err(Failure::runtime)?;
                out.write_all(text.as_bytes()).map_err(Failure::runtime)
            }
        }
    }
}
