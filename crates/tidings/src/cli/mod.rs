//! The command line: global flags, the subcommands, and how a failure becomes an exit code
//! (0 ok, 1 the work failed, 2 usage or configuration error). Commands write their output to
//! the writer they are given, so tests can capture it; logs go to stderr.
//!
//! Adding a subcommand `foo`: write `cli/foo.rs` with a clap type `FooCommand` and a method
//! `run(self, …) -> Result<(), Failure>`, then add `pub mod foo;` below, a variant
//! `Foo(foo::FooCommand)` to [`Command`] and one arm to `Cli::dispatch`.

pub mod config;
pub mod cron;
pub mod instances;
pub mod keys;
pub mod migrate;
pub mod runs;
mod schedule_flags;
pub mod schedules;
pub mod serve;
mod session;
pub mod sources;
pub mod stats;
pub mod sync;
mod text;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigErrors, ConfigFile, ConfigSources, LogFormat, Overrides};
use crate::secret::Secret;

/// Exit code for a failure while doing the work.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for invalid flags, arguments or configuration (clap uses it for usage errors too).
pub const EXIT_USAGE: u8 = 2;

/// Keeps customer feedback fresh and acted upon, on a durable, time-zone-aware scheduler.
#[derive(Debug, Parser)]
#[command(name = "tidings", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: ./tidings.toml, if it exists]
    #[arg(long, global = true, env = "TIDINGS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log output: human-readable (coloured on a terminal), plain text, or JSON lines
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Log level or filter, e.g. `debug` or `info,tidings=debug` (RUST_LOG wins when set)
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

impl GlobalArgs {
    /// The global flags that are configuration settings; subcommands add their own.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            log_format: self.log_format,
            log_level: self.log_level.clone(),
            ..Overrides::default()
        }
    }

    /// Loads the configuration: defaults < file < `TIDINGS_*` environment < `flags`.
    pub fn load_config(&self, flags: Overrides) -> Result<Config, ConfigErrors> {
        let file = ConfigFile::named_or_default(self.config.clone());
        crate::config::load(&ConfigSources::with_process_env(file, flags))
    }

    /// The configuration, with `--database-url` applied.
    pub fn load_config_with(&self, database: &DatabaseArgs) -> Result<Config, ConfigErrors> {
        let mut flags = self.overrides();
        flags.database_url.clone_from(&database.database_url);
        self.load_config(flags)
    }
}

/// Where the store is, for the commands that work on it.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB [config: database.url]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<Secret>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: the HTTP API on `server.listen`, until SIGINT or SIGTERM
    Serve(serve::ServeArgs),

    /// Apply the database migrations and say what was done
    Migrate(migrate::MigrateArgs),

    /// Manage schedules in the store directly (no server needed)
    Schedules(schedules::SchedulesArgs),

    /// Inspect runs in the store directly (no server needed)
    Runs(runs::RunsArgs),

    /// Manage API keys in the store directly (no server needed)
    Keys(keys::KeysArgs),

    /// List the `tidings serve` instances sharing the store
    Instances(instances::InstancesArgs),

    /// Sync a source now, in the foreground, with a progress bar
    Sync(sync::SyncArgs),

    /// List the configured sources and the state of their cache
    Sources(sources::SourcesArgs),

    /// Show the latest statistics snapshot: per group, channel or source, for a period
    Stats(stats::StatsArgs),

    /// Inspect the configuration
    #[command(subcommand)]
    Config(config::ConfigCommand),

    /// Work with cron expressions: next fire times, plain-English explanations
    #[command(subcommand)]
    Cron(cron::CronCommand),
}

impl Cli {
    /// Runs the command, writing its output to `out` and any error to `err`, and returns the
    /// process's exit code.
    pub async fn run(self, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
        match self.dispatch(out).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.report(err),
        }
    }

    async fn dispatch(self, out: &mut dyn Write) -> Result<(), Failure> {
        let Cli { global, command } = self;
        match command {
            Command::Serve(args) => args.run(&global).await,
            Command::Migrate(args) => args.run(&global, out).await,
            Command::Schedules(args) => args.run(&global, out).await,
            Command::Runs(args) => args.run(&global, out).await,
            Command::Keys(args) => args.run(&global, out).await,
            Command::Sync(args) => args.run(&global, out).await,
            Command::Instances(args) => args.run(&global, out).await,
            Command::Sources(args) => args.run(&global, out).await,
            Command::Stats(args) => args.run(&global, out).await,
            Command::Config(command) => command.run(&global, out),
            Command::Cron(command) => command.run(out),
        }
    }
}

/// A command that did not succeed; the variant decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// The user asked for something invalid: flags, arguments, configuration. Exit code 2.
    Usage(anyhow::Error),
    /// The work failed: a port in use, a database down. Exit code 1.
    Runtime(anyhow::Error),
}

impl Failure {
    pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure::Usage(error.into())
    }

    pub fn runtime(error: impl Into<anyhow::Error>) -> Failure {
        Failure::Runtime(error.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Runtime(_) => EXIT_FAILURE,
        }
    }

    /// Writes the error to `err`, each line (each configuration problem) as `error: …`.
    fn report(self, err: &mut dyn Write) -> ExitCode {
        let code = self.exit_code();
        let (Failure::Usage(error) | Failure::Runtime(error)) = self;
        for line in format!("{error:#}").lines() {
            // Nothing sensible is left to do if stderr itself cannot be written.
            let _ = writeln!(err, "error: {line}");
        }
        ExitCode::from(code)
    }
}

impl From<ConfigErrors> for Failure {
    fn from(errors: ConfigErrors) -> Failure {
        Failure::usage(errors)
    }
}
