//! `LogLevel`: a level such as `info`, or a tracing filter such as `info,tidings=debug`.

use std::fmt;

use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// What `log.level` may hold: a level (`trace`, `debug`, `info`, `warn`, `error`, `off`) or a
/// filter in `RUST_LOG` syntax (`info,tidings=debug`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LogLevel(String);

/// A `log.level` that is neither a level nor a filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid log level `{text}`: expected trace, debug, info, warn, error, off, or a filter such as `info,tidings=debug`"
)]
pub struct LogLevelError {
    text: String,
}

impl LogLevel {
    pub fn parse(text: &str) -> Result<LogLevel, LogLevelError> {
        let trimmed = text.trim();
        let error = || LogLevelError {
            text: text.to_owned(),
        };
        // A lone word is a target name to `EnvFilter` ("verbose" would enable everything in a
        // crate called `verbose`), so a single word must be a level.
        if !trimmed.contains(['=', ',', '[']) {
            trimmed.parse::<LevelFilter>().map_err(|_| error())?;
        }
        EnvFilter::builder().parse(trimmed).map_err(|_| error())?;
        Ok(LogLevel(trimmed.to_owned()))
    }

    /// The default level.
    pub fn info() -> LogLevel {
        LogLevel("info".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for LogLevel {
    type Error = LogLevelError;

    fn try_from(text: String) -> Result<LogLevel, LogLevelError> {
        LogLevel::parse(&text)
    }
}

impl From<LogLevel> for String {
    fn from(level: LogLevel) -> String {
        level.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_filters_are_accepted() {
        for text in [
            "info",
            "DEBUG",
            "off",
            "info,tidings=debug",
            "tidings::app=trace",
        ] {
            assert!(LogLevel::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_word_that_is_not_a_level_is_refused() {
        let err = LogLevel::parse("verbose").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid log level `verbose`: expected trace, debug, info, warn, error, off, or a filter such as `info,tidings=debug`"
        );
        assert!(LogLevel::parse("tidings=loud").is_err());
    }
}
