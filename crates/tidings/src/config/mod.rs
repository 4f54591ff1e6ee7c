//! The one typed configuration of tidings, its defaults, and how it is loaded.
//!
//! Layers, lowest first: the defaults written here < `tidings.toml` < `TIDINGS_*` environment
//! variables (`__` nests: `TIDINGS_SERVER__LISTEN`) < command-line flags. [`load`] merges them and
//! reports every problem at once (unknown keys with a suggestion, invalid values naming their key
//! and where they came from) as [`ConfigErrors`].
//!
//! Adding a setting: add the field to its section struct and to the section's `Default`; the
//! unknown-key check learns the new key from the serialized defaults (see `keys.rs`). Adding a
//! section: a struct with `#[serde(default)]` and a `Default`, a field in [`Config`], and one
//! `reader.section("name")` line in `load.rs`. A flag that sets a key: a field in [`Overrides`]
//! and its flag name in `layer.rs`, so that messages can name it.
//!
//! `[[schedules]]` is not a section but a list of declared schedules, read and checked entry by
//! entry in `declared.rs`.

mod database_url;
mod declared;
pub(crate) mod duration;
mod error;
mod keys;
mod layer;
mod listen_addr;
mod load;
mod log_level;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidings_core::Zone;

pub use database_url::{Backend, DatabaseUrl, DatabaseUrlError};
pub use declared::DeclaredSchedule;
pub use error::{ConfigError, ConfigErrors};
pub use load::{ConfigFile, ConfigSources, DEFAULT_CONFIG_FILE, Overrides, load};
pub use log_level::{LogLevel, LogLevelError};

/// Everything `tidings` can be configured with. Build it with [`load`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub scheduler: SchedulerConfig,
    pub webhooks: WebhooksConfig,
    pub runs: RunsConfig,
    pub cache: CacheConfig,
    pub stats: StatsConfig,
    /// `[sources.NAME]`: where feedback comes from, each synced by the `sync` job kind.
    /// Printed only when there are some; `keys.rs` knows the key either way.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, SourceConfig>,
    /// `[[schedules]]`: schedules declared in the file, reconciled into the store at start.
    /// Printed only when there are some; `keys.rs` knows the key either way.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<DeclaredSchedule>,
}

/// One `[sources.NAME]`: its `kind` and that kind's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceConfig {
    /// CSV files: `path` (a file, a glob or a folder), `delimiter`, `quote`, `mapping`, `zone`,
    /// `max_bad_fraction`.
    Csv(tidings_sources::CsvSource),
    /// An Airtable table: `base`, `table`, `token_env`, `filter_formula`, `view`, `fields`,
    /// `api_url`, `mapping`, `zone`, `overlap`. Gets default sync schedules when none of the
    /// configured schedules syncs it.
    Airtable(tidings_sources::airtable::AirtableSource),
}

impl SourceConfig {
    /// `csv` or `airtable`.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::Csv(_) => "csv",
            SourceConfig::Airtable(_) => "airtable",
        }
    }

    /// Where its records come from, for people: the CSV path, or the Airtable base and table
    /// (never the token).
    pub fn location(&self) -> String {
        match self {
            SourceConfig::Csv(csv) => csv.path.display().to_string(),
            SourceConfig::Airtable(airtable) => {
                let mut text = format!("airtable base {} table {}", airtable.base, airtable.table);
                if airtable.api_url != tidings_sources::airtable::AIRTABLE_API_URL {
                    text.push_str(&format!(" at {}", airtable.api_url));
                }
                text
            }
        }
    }
}

/// `[runs]`: the run history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunsConfig {
    /// Ended runs older than this are deleted by maintenance (once a minute, in batches, by
    /// whichever instances run it); `"unlimited"` keeps them all. 30 days by default.
    #[serde(with = "duration::or_unlimited")]
    pub retention: Option<Duration>,
}

impl Default for RunsConfig {
    fn default() -> Self {
        RunsConfig {
            retention: Some(Duration::from_secs(30 * 24 * 3600)),
        }
    }
}

/// `[stats]`: the pre-computed statistics (`GET /api/stats`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsConfig {
    /// How often the default `stats:refresh` schedule recomputes the snapshot; a snapshot
    /// older than twice this is reported `stale`.
    #[serde(with = "duration")]
    pub refresh_every: Duration,
    /// The zone of the calendar periods (`today`, `week`, `month`).
    pub timezone: Zone,
    /// Recompute after each successful sync of a source, so that new feedback shows at once.
    pub refresh_after_sync: bool,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            refresh_every: Duration::from_secs(15 * 60),
            timezone: Zone::utc(),
            refresh_after_sync: true,
        }
    }
}

/// `[cache]`: how the feedback cache is reported on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// A source with no successful sync for this long is reported `stale` by
    /// `/api/cache/status`. Three days by default: the default Airtable schedules leave the
    /// weekend with one full sync.
    #[serde(with = "duration")]
    pub stale_after: Duration,
    /// The source that `POST /api/cache/update-full` and `/api/cache/update-incremental` sync;
    /// the first configured source (by name) when unset.
    pub default_source: Option<String>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            stale_after: Duration::from_secs(3 * 24 * 3600),
            default_source: None,
        }
    }
}

impl Config {
    /// The source the seed's `/api/cache/update-*` aliases sync: `cache.default_source`, else
    /// the first source by name.
    pub fn default_source(&self) -> Option<&str> {
        self.cache
            .default_source
            .as_deref()
            .or_else(|| self.sources.keys().next().map(String::as_str))
    }
}

/// `[server]`: the HTTP listener.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Address the API and dashboard listen on; port 0 picks a free port.
    #[serde(with = "listen_addr")]
    pub listen: SocketAddr,
    /// How long running work may take to finish after SIGINT/SIGTERM.
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
    /// The largest request body accepted, in bytes; larger ones get `413`.
    pub body_limit: usize,
    /// How long a request may take before it is answered `408`.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser (`https://dash.example.com`); empty:
    /// CORS off.
    pub cors_origins: Vec<String>,
    /// Serve `/metrics` without an API key.
    pub public_metrics: bool,
    /// `TIDINGS_API_KEY`: accepted as an admin key besides the stored ones. Read from the
    /// environment only, never from the file, and never shown.
    #[serde(skip)]
    pub api_key: Option<crate::secret::Secret>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            shutdown_grace: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            public_metrics: true,
            api_key: None,
        }
    }
}

/// `[database]`: where the store lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`; its password is redacted whenever it is shown.
    pub url: DatabaseUrl,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: DatabaseUrl::sqlite("./data/tidings.db"),
        }
    }
}

/// `[log]`: what goes to stderr, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A level (`info`) or a filter (`info,tidings=debug`). `RUST_LOG`, when set, wins.
    pub level: LogLevel,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Auto,
            level: LogLevel::info(),
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured when stderr is a terminal.
    Auto,
    /// Human-readable, never coloured.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The name used in configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// `[scheduler]`: how schedules fire and runs are executed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerConfig {
    /// Zone for cron schedules that do not name their own.
    pub timezone: Zone,
    /// The default misfire grace of new schedules: an occurrence noticed later than this after
    /// its time is recorded as missed, not run. `None` (written `"unlimited"`): never missed.
    #[serde(with = "duration::or_unlimited")]
    pub misfire_grace: Option<Duration>,
    /// How long a claimed run belongs to an instance before another may rescue it.
    #[serde(with = "duration")]
    pub lease: Duration,
    /// How many runs one instance executes at once.
    pub concurrency: u32,
    /// The shortest interval a schedule may fire at.
    #[serde(with = "duration")]
    pub min_interval: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            timezone: Zone::utc(),
            misfire_grace: Some(Duration::from_secs(300)),
            lease: Duration::from_secs(30),
            concurrency: 10,
            min_interval: Duration::from_secs(1),
        }
    }
}

/// `[webhooks]`: how the deliveries to schedules' `callback_url`s are signed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhooksConfig {
    /// The key of each delivery's `X-Tidings-Signature` (HMAC-SHA256 of `<timestamp>.<body>`),
    /// best set as `TIDINGS_WEBHOOKS__SECRET`. Unset: deliveries go out unsigned, and `serve`
    /// says so when it starts.
    pub secret: Option<crate::secret::Secret>,
}

impl Config {
    /// The effective configuration as TOML, secrets redacted: what `tidings config check` prints.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}
