//! Loading: merge the layers over the defaults, find every unknown key, read each section,
//! check what the types alone cannot, read the declared `[[schedules]]`, and report every
//! problem at once.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::Serialized;
use figment::value::Value;
use figment::{Figment, Profile};
use serde::de::DeserializeOwned;

use super::declared;
use super::error::{ConfigError, ConfigErrors};
use super::keys::KeyTree;
use super::layer::{Layer, dotted};
use super::{Config, LogFormat, SourceConfig};
use crate::secret::Secret;

/// The file read when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "./tidings.toml";

/// Which configuration file to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigFile {
    /// Read the file if it exists: `./tidings.toml` when no file is named.
    Optional(PathBuf),
    /// Read the file; that it does not exist is an error. A path given with `--config` or
    /// `TIDINGS_CONFIG`.
    Required(PathBuf),
}

impl ConfigFile {
    /// `path` if the user named one, else `./tidings.toml` if it exists.
    pub fn named_or_default(path: Option<PathBuf>) -> ConfigFile {
        path.map_or_else(
            || ConfigFile::Optional(PathBuf::from(DEFAULT_CONFIG_FILE)),
            ConfigFile::Required,
        )
    }
}

/// Settings given as command-line flags; `None` keeps the value from the layers below.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`
    pub listen: Option<SocketAddr>,
    /// `--database-url`
    pub database_url: Option<Secret>,
    /// `--log-format`
    pub log_format: Option<LogFormat>,
    /// `--log-level`
    pub log_level: Option<String>,
}

impl Overrides {
    fn values(&self) -> Vec<(&'static str, Value)> {
        let mut values = Vec::new();
        if let Some(listen) = self.listen {
            values.push(("server.listen", Value::from(listen.to_string())));
        }
        if let Some(url) = &self.database_url {
            values.push(("database.url", Value::from(url.expose())));
        }
        if let Some(format) = self.log_format {
            values.push(("log.format", Value::from(format.as_str())));
        }
        if let Some(level) = &self.log_level {
            values.push(("log.level", Value::from(level.as_str())));
        }
        values
    }
}

/// Everything a configuration is loaded from.
#[derive(Clone)]
pub struct ConfigSources {
    pub file: ConfigFile,
    /// Environment variables; only `TIDINGS_*` ones are read, except `TIDINGS_CONFIG`,
    /// `TIDINGS_API_KEY` and `TIDINGS_TEST_*`.
    pub env: Vec<(String, String)>,
    pub flags: Overrides,
}

impl ConfigSources {
    /// Sources that read the environment of this process.
    pub fn with_process_env(file: ConfigFile, flags: Overrides) -> ConfigSources {
        let env = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        ConfigSources { file, env, flags }
    }
}

/// Builds the configuration from the defaults, the file, the environment and the flags, in that
/// order of precedence (later wins), or lists every problem found in them.
pub fn load(sources: &ConfigSources) -> Result<Config, ConfigErrors> {
    let mut problems = Vec::new();
    let mut layers = Vec::new();
    match read_file(&sources.file) {
        Ok(Some(file)) => layers.push(file),
        Ok(None) => {}
        Err(problem) => problems.push(problem),
    }
    layers.push(Layer::env(
        sources
            .env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    ));
    layers.push(Layer::flags(sources.flags.values()));

    let keys = KeyTree::of_config();
    for layer in &layers {
        for path in keys.unknown_keys(layer.values()) {
            problems.push(ConfigError::UnknownKey {
                key: dotted(&path),
                origin: layer.origin().describe(&path),
                suggestion: keys
                    .suggest(&path)
                    .map(|known| layer.origin().spell(&known)),
            });
        }
    }

    let defaults = Figment::from(Serialized::defaults(Config::default()));
    let merged = layers.into_iter().fold(defaults.clone(), Figment::merge);
    let mut reader = SectionReader {
        merged: &merged,
        defaults: &defaults,
        problems: &mut problems,
    };
    let mut config = Config {
        server: reader.section("server"),
        database: reader.section("database"),
        log: reader.section("log"),
        scheduler: reader.section("scheduler"),
        webhooks: reader.section("webhooks"),
        runs: reader.section("runs"),
        cache: reader.section("cache"),
        stats: reader.section("stats"),
        sources: BTreeMap::new(),
        schedules: Vec::new(),
    };
    if merged.find_value("sources").is_ok() {
        config.sources = reader.section("sources");
    }
    config.server.api_key = sources
        .env
        .iter()
        .find(|(name, value)| name == "TIDINGS_API_KEY" && !value.is_empty())
        .map(|(_, value)| Secret::new(value.clone()));
    check_limits(&config, &merged, &mut problems);
    config.schedules = declared::read(&merged, &config, &mut problems);

    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors::new(problems))
    }
}

fn read_file(file: &ConfigFile) -> Result<Option<Layer>, ConfigError> {
    let (path, required) = match file {
        ConfigFile::Optional(path) => (path, false),
        ConfigFile::Required(path) => (path, true),
    };
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Layer::file(&name, &text).map(Some),
        Err(err) if err.kind() == io::ErrorKind::NotFound && !required => Ok(None),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            Err(ConfigError::FileNotFound { path: name })
        }
        Err(err) => Err(ConfigError::FileUnreadable {
            path: name,
            reason: io_reason(&err, path),
        }),
    }
}

fn io_reason(err: &io::Error, path: &Path) -> String {
    if path.is_dir() {
        "it is a directory".to_owned()
    } else {
        err.to_string()
    }
}

/// Reads one section at a time, so that a bad value in one does not hide problems in another.
struct SectionReader<'a> {
    merged: &'a Figment,
    defaults: &'a Figment,
    problems: &'a mut Vec<ConfigError>,
}

impl SectionReader<'_> {
    /// The section `name`, with every invalid value in it reported and replaced by its default.
    ///
    /// Deserialization stops at the first bad value, so each round reports one, patches it with
    /// its default, and tries again; a section has few keys, so this ends quickly.
    fn section<T: DeserializeOwned + Default>(&mut self, name: &str) -> T {
        const MAX_ROUNDS: usize = 64;
        let mut figment = self.merged.clone();
        for _ in 0..MAX_ROUNDS {
            let errors = match figment.extract_inner::<T>(name) {
                Ok(section) => return section,
                Err(errors) => errors,
            };
            for error in errors {
                let path = key_path(name, &error.path);
                let key = dotted(&path);
                self.problems.push(ConfigError::InvalidValue {
                    reason: reason(&error.kind),
                    origin: error
                        .metadata
                        .as_ref()
                        .map(|md| md.interpolate(&Profile::Default, &path)),
                    key: key.clone(),
                });
                let Ok(default) = self.defaults.find_value(&key) else {
                    return T::default();
                };
                figment = figment.merge(Serialized::default(&key, default));
            }
        }
        T::default()
    }
}

/// The full path of the key an error is about. Figment appends the section's name to the end of
/// the path within the section (`["listen", "server"]`).
fn key_path(section: &str, error_path: &[String]) -> Vec<String> {
    let mut path: Vec<String> = error_path.to_vec();
    if path.last().map(String::as_str) == Some(section) {
        path.pop();
    }
    if path.first().map(String::as_str) != Some(section) {
        path.insert(0, section.to_owned());
    }
    path
}

/// Why a value was refused, in the user's terms.
fn reason(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::UnknownVariant(found, expected) => {
            format!(
                "unknown value `{found}`: expected one of {}",
                expected.join(", ")
            )
        }
        other => other.to_string(),
    }
}

/// Checks that need more than a value's type: a zero that would stall the scheduler.
fn check_limits(config: &Config, merged: &Figment, problems: &mut Vec<ConfigError>) {
    let mut refuse = |key: &str, reason: &str| {
        let path: Vec<&str> = key.split('.').collect();
        problems.push(ConfigError::InvalidValue {
            key: key.to_owned(),
            reason: reason.to_owned(),
            origin: merged
                .find_metadata(key)
                .map(|md| md.interpolate(&Profile::Default, &path)),
        });
    };
    if config.scheduler.concurrency == 0 {
        refuse("scheduler.concurrency", "must be at least 1");
    }
    for (name, source) in &config.sources {
        if let SourceConfig::Airtable(airtable) = source
            && let Err(problem) = airtable.check()
        {
            refuse(&format!("sources.{name}"), &problem);
        }
    }
    if let Some(name) = &config.cache.default_source
        && !config.sources.contains_key(name)
    {
        let names: Vec<&str> = config.sources.keys().map(String::as_str).collect();
        let known = if names.is_empty() {
            "no sources are configured".to_owned()
        } else {
            format!("configured sources: {}", names.join(", "))
        };
        refuse(
            "cache.default_source",
            &format!("names no configured source `{name}`; {known}"),
        );
    }
    if config.stats.refresh_every < std::time::Duration::from_secs(60) {
        refuse("stats.refresh_every", "must be at least 1m");
    }
    if config.cache.stale_after.is_zero() {
        refuse("cache.stale_after", "must be longer than 0s");
    }
    if config.scheduler.lease.is_zero() {
        refuse("scheduler.lease", "must be longer than 0s");
    }
    if config.scheduler.min_interval.is_zero() {
        refuse("scheduler.min_interval", "must be longer than 0s");
    }
    if config
        .webhooks
        .secret
        .as_ref()
        .is_some_and(|secret| secret.expose().is_empty())
    {
        refuse(
            "webhooks.secret",
            "must not be empty; leave it out to send deliveries unsigned",
        );
    }
}
