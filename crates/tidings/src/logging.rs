//! Log output: tracing events to stderr, human-readable or one JSON object per line, filtered by
//! `RUST_LOG` when it is set and by `log.level` otherwise. Stdout is left to command output.
//!
//! `log.format = "auto"` colours the output when stderr is a terminal and `NO_COLOR` is not set.

use std::io::{self, IsTerminal};

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("RUST_LOG: invalid filter `{filter}`: {reason}")]
    InvalidRustLog { filter: String, reason: String },
    #[error("cannot start logging: {0}")]
    Install(String),
}

/// Installs the global subscriber for this process, reading `RUST_LOG` from its environment.
pub fn init(config: &LogConfig) -> Result<(), LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = filter(config, rust_log.as_deref())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr);
    let installed = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Auto => builder.with_ansi(colour_wanted()).try_init(),
    };
    installed.map_err(|err| LoggingError::Install(err.to_string()))
}

/// Colours for a terminal, unless `NO_COLOR` is set (<https://no-color.org>).
fn colour_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    io::stderr().is_terminal() && !no_color
}

/// The filter: `RUST_LOG` if it is set and not empty, else `log.level`.
pub fn filter(config: &LogConfig, rust_log: Option<&str>) -> Result<EnvFilter, LoggingError> {
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        Some(rust_log) => {
            EnvFilter::builder()
                .parse(rust_log)
                .map_err(|err| LoggingError::InvalidRustLog {
                    filter: rust_log.to_owned(),
                    reason: err.to_string(),
                })
        }
        // `log.level` was checked when the configuration was loaded.
        None => Ok(EnvFilter::builder().parse_lossy(config.level.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::LevelFilter;

    use super::*;
    use crate::config::LogLevel;

    fn config(level: &str) -> LogConfig {
        LogConfig {
            format: LogFormat::Text,
            level: LogLevel::parse(level).unwrap(),
        }
    }

    #[test]
    fn rust_log_wins_over_the_configured_level() {
        let filter = filter(&config("warn"), Some("debug")).unwrap();
        assert_eq!(filter.max_level_hint(), Some(LevelFilter::DEBUG));
    }

    #[test]
    fn the_configured_level_applies_without_rust_log() {
        assert_eq!(
            filter(&config("warn"), None).unwrap().max_level_hint(),
            Some(LevelFilter::WARN)
        );
        assert_eq!(
            filter(&config("warn"), Some("  "))
                .unwrap()
                .max_level_hint(),
            Some(LevelFilter::WARN)
        );
    }
}
