//! `tidings serve`: load the configuration, start logging, bind, and serve until stopped.

use std::net::SocketAddr;

use clap::Args;

use super::{Failure, GlobalArgs};
use crate::app::App;
use crate::logging::{self, LoggingError};
use crate::secret::Secret;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port) [config: server.listen]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB [config: database.url]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<Secret>,
}

impl ServeArgs {
    pub async fn run(self, global: &GlobalArgs) -> Result<(), Failure> {
        let mut flags = global.overrides();
        flags.listen = self.listen;
        flags.database_url = self.database_url;
        let config = global.load_config(flags)?;
        logging::init(&config.log).map_err(|err| match err {
            LoggingError::InvalidRustLog { .. } => Failure::usage(err),
            LoggingError::Install(_) => Failure::runtime(err),
        })?;
        let app = App::build(config).await.map_err(Failure::runtime)?;
        app.run_until_stopped().await.map_err(Failure::runtime)
    }
}
