//! What can be wrong with a configuration, phrased for the person who wrote it.

use std::fmt;

/// One problem with the configuration. Messages name the key and where its value came from,
/// and never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--config PATH` (or `TIDINGS_CONFIG`) names a file that does not exist.
    #[error("config file {path} not found")]
    FileNotFound { path: String },

    /// The file exists but could not be read.
    #[error("cannot read config file {path}: {reason}")]
    FileUnreadable { path: String, reason: String },

    /// The file is not valid TOML.
    #[error("{path}:{line}:{column}: invalid TOML: {message}")]
    FileSyntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },

    /// A key tidings does not know. `suggestion` is the closest known key, written the way the
    /// user would write it there (`` `server.listen` `` in a file, `TIDINGS_SERVER__LISTEN` in the
    /// environment).
    #[error("unknown key `{key}` in {origin}{}", did_you_mean(suggestion.as_deref()))]
    UnknownKey {
        key: String,
        origin: String,
        suggestion: Option<String>,
    },

    /// A known key with a value that cannot be used.
    #[error("{key}: {reason}{}", from(origin.as_deref()))]
    InvalidValue {
        key: String,
        reason: String,
        origin: Option<String>,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!("; did you mean {s}?"))
}

fn from(origin: Option<&str>) -> String {
    origin.map_or_else(String::new, |o| format!(" (from {o})"))
}

/// Every problem found while loading the configuration, in the order a reader meets them:
/// the file, unknown keys, then invalid values section by section. `Display` puts one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    pub(crate) fn new(problems: Vec<ConfigError>) -> ConfigErrors {
        ConfigErrors(problems)
    }

    /// The problems, at least one.
    pub fn problems(&self) -> &[ConfigError] {
        &self.0
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
