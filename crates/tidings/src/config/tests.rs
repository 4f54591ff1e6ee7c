//! Loading tests: layering, unknown keys, invalid values, redaction. The environment is injected,
//! never set on the process, so these run in parallel.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;

use super::*;
use crate::secret::Secret;

/// A configuration file in a fresh directory, and the variables and flags to load with it.
struct Setup {
    dir: TempDir,
    file: Option<String>,
    env: Vec<(String, String)>,
    flags: Overrides,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            dir: TempDir::new().unwrap(),
            file: None,
            env: Vec::new(),
            flags: Overrides::default(),
        }
    }

    fn file(mut self, toml: &str) -> Setup {
        self.file = Some(toml.to_owned());
        self
    }

    fn env(mut self, name: &str, value: &str) -> Setup {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    fn flags(mut self, flags: Overrides) -> Setup {
        self.flags = flags;
        self
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("tidings.toml")
    }

    /// The path as messages show it.
    fn shown(&self) -> String {
        self.path().display().to_string()
    }

    fn load(&self) -> Result<Config, ConfigErrors> {
        let file = match &self.file {
            Some(toml) => {
                std::fs::write(self.path(), toml).unwrap();
                ConfigFile::Required(self.path())
            }
            None => ConfigFile::Optional(self.path()),
        };
        load(&ConfigSources {
            file,
            env: self.env.clone(),
            flags: self.flags.clone(),
        })
    }

    fn problems(&self) -> Vec<String> {
        match self.load() {
            Ok(config) => panic!("expected problems, loaded {config:?}"),
            Err(errors) => errors.problems().iter().map(ToString::to_string).collect(),
        }
    }
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn nothing_configured_gives_the_documented_defaults() {
    let config = Setup::new().load().unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(
        config.to_toml().unwrap(),
        r#"[server]
listen = "127.0.0.1:8080"
shutdown_grace = "30s"
body_limit = 1048576
request_timeout = "30s"
cors_origins = []
public_metrics = true

[database]
url = "sqlite://./data/tidings.db"

[log]
format = "auto"
level = "info"

[scheduler]
timezone = "UTC"
misfire_grace = "5m"
lease = "30s"
concurrency = 10
min_interval = "1s"

[webhooks]

[runs]
retention = "720h"

[cache]
stale_after = "72h"

[stats]
refresh_every = "15m"
timezone = "UTC"
refresh_after_sync = true
"#
    );
}

#[test]
fn file_overrides_defaults_env_overrides_file_and_flags_override_env() {
    let config = Setup::new()
        .file(
            r#"
            [server]
            listen = "0.0.0.0:1000"
            shutdown_grace = "1m"
            [log]
            level = "debug"
            format = "json"
            [scheduler]
            concurrency = 4
            "#,
        )
        .env("TIDINGS_SERVER__LISTEN", "0.0.0.0:2000")
        .env("TIDINGS_LOG__LEVEL", "warn")
        .flags(Overrides {
            listen: Some(addr("0.0.0.0:3000")),
            log_format: Some(LogFormat::Text),
            ..Overrides::default()
        })
        .load()
        .unwrap();

    assert_eq!(
        config.server.listen,
        addr("0.0.0.0:3000"),
        "flag over env over file"
    );
    assert_eq!(config.log.format, LogFormat::Text, "flag over file");
    assert_eq!(config.log.level.as_str(), "warn", "env over file");
    assert_eq!(
        config.server.shutdown_grace,
        Duration::from_secs(60),
        "file over default"
    );
    assert_eq!(config.scheduler.concurrency, 4, "file over default");
    assert_eq!(config.scheduler.lease, Duration::from_secs(30), "default");
}

#[test]
fn env_variables_nest_with_double_underscores_and_are_typed() {
    let config = Setup::new()
        .env("TIDINGS_SCHEDULER__CONCURRENCY", "20")
        .env("TIDINGS_SCHEDULER__MISFIRE_GRACE", "1h 30m")
        .env("TIDINGS_SCHEDULER__TIMEZONE", "Europe/Berlin")
        .env("TIDINGS_LOG__LEVEL", "info,tidings=debug")
        .env(
            "TIDINGS_DATABASE__URL",
            "postgres://app:hunter2@db:5432/tidings",
        )
        .load()
        .unwrap();
    assert_eq!(config.scheduler.concurrency, 20);
    assert_eq!(
        config.scheduler.misfire_grace,
        Some(Duration::from_secs(5400))
    );
    assert_eq!(config.scheduler.timezone.name(), "Europe/Berlin");
    assert_eq!(config.log.level.as_str(), "info,tidings=debug");
    assert_eq!(config.database.url.backend(), Backend::Postgres);
    assert_eq!(
        config.database.url.expose(),
        "postgres://app:hunter2@db:5432/tidings"
    );
}

#[test]
fn variables_that_are_not_settings_are_ignored() {
    let config = Setup::new()
        .env("TIDINGS_CONFIG", "/etc/tidings.toml")
        .env("TIDINGS_API_KEY", "tk_secret")
        .env("TIDINGS_TEST_DATABASE_URL", "postgres://localhost/test")
        .env("HOME", "/root")
        .load()
        .unwrap();
    // TIDINGS_API_KEY is no setting of the file, but the bootstrap admin key, kept redacted.
    let api_key = config
        .server
        .api_key
        .clone()
        .expect("TIDINGS_API_KEY is read");
    assert_eq!(api_key.expose(), "tk_secret");
    assert_eq!(format!("{api_key:?}"), "[redacted]");
    assert_eq!(
        Config {
            server: ServerConfig {
                api_key: None,
                ..config.server
            },
            ..config
        },
        Config::default()
    );
}

#[test]
fn a_database_flag_overrides_the_file_and_stays_redacted() {
    let config = Setup::new()
        .file("[database]\nurl = \"sqlite://./other.db\"\n")
        .flags(Overrides {
            database_url: Some(Secret::new("postgres://app:hunter2@db/tidings")),
            ..Overrides::default()
        })
        .load()
        .unwrap();
    assert_eq!(
        config.database.url.expose(),
        "postgres://app:hunter2@db/tidings"
    );
    let shown = [format!("{config:?}"), config.to_toml().unwrap()];
    for text in shown {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("postgres://app:[redacted]@db/tidings"),
            "{text}"
        );
    }
}

#[test]
fn an_unknown_key_in_the_file_names_the_file_and_the_key_meant() {
    let setup = Setup::new().file("[server]\nlisen = \"0.0.0.0:80\"\n");
    assert_eq!(
        setup.problems(),
        [format!(
            "unknown key `server.lisen` in {}; did you mean `server.listen`?",
            setup.shown()
        )]
    );
}

#[test]
fn an_unknown_variable_names_the_variable_and_the_variable_meant() {
    let problems = Setup::new()
        .env("TIDINGS_SERVER__LISEN", "0.0.0.0:80")
        .env("TIDINGS_SERVER_LISTEN", "0.0.0.0:80")
        .env("TIDINGS_PLUGINS", "all")
        .problems();
    assert_eq!(
        problems,
        [
            "unknown key `plugins` in environment variable TIDINGS_PLUGINS",
            "unknown key `server.lisen` in environment variable TIDINGS_SERVER__LISEN; \
             did you mean TIDINGS_SERVER__LISTEN?",
            "unknown key `server_listen` in environment variable TIDINGS_SERVER_LISTEN; \
             did you mean TIDINGS_SERVER__LISTEN?",
        ]
    );
}

#[test]
fn an_invalid_value_names_the_key_the_reason_and_where_it_was_set() {
    let setup = Setup::new().file("[server]\nshutdown_grace = \"30 parsecs\"\n");
    assert_eq!(
        setup.problems(),
        [format!(
            "server.shutdown_grace: invalid duration `30 parsecs`: expected e.g. 30s, 5m, 1h 30m (from {})",
            setup.shown()
        )]
    );

    let problems = Setup::new()
        .env("TIDINGS_SCHEDULER__CONCURRENCY", "many")
        .problems();
    assert_eq!(
        problems,
        [
            "scheduler.concurrency: invalid type: found string \"many\", expected u32 \
             (from environment variable TIDINGS_SCHEDULER__CONCURRENCY)"
        ]
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let setup = Setup::new()
        .file(
            r#"
            [server]
            listen = "nowhere"
            shutdown_grace = "30 parsecs"
            lisen = "0.0.0.0:80"

            [database]
            url = "mysql://root:hunter2@db/tidings"

            [log]
            format = "xml"

            [scheduler]
            timezone = "Mars/Olympus_Mons"
            concurrency = 0

            [shedules]
            min_interval = "1s"
            "#,
        )
        .env("TIDINGS_LOG__LEVL", "debug")
        .env("TIDINGS_SCHEDULER__LEASE", "0s");
    let file = setup.shown();
    let problems = setup.problems();
    assert_eq!(
        problems,
        [
            format!("unknown key `server.lisen` in {file}; did you mean `server.listen`?"),
            format!("unknown key `shedules` in {file}; did you mean `schedules`?"),
            "unknown key `log.levl` in environment variable TIDINGS_LOG__LEVL; \
             did you mean TIDINGS_LOG__LEVEL?"
                .to_owned(),
            format!("server.listen: invalid address `nowhere`: expected IP:PORT such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080 (from {file})"),
            format!(
                "server.shutdown_grace: invalid duration `30 parsecs`: expected e.g. 30s, 5m, 1h 30m (from {file})"
            ),
            format!(
                "database.url: unsupported database scheme `mysql`: expected `sqlite://` or `postgres://` (from {file})"
            ),
            format!("log.format: unknown value `xml`: expected one of auto, text, json (from {file})"),
            format!(
                "scheduler.timezone: unknown time zone `Mars/Olympus_Mons`: expected an IANA name such as \
                 `UTC`, `Europe/Berlin` or `America/New_York` (from {file})"
            ),
            format!("scheduler.concurrency: must be at least 1 (from {file})"),
            "scheduler.lease: must be longer than 0s (from environment variable TIDINGS_SCHEDULER__LEASE)"
                .to_owned(),
        ]
    );
    assert!(problems.iter().all(|p| !p.contains("hunter2")));
}

#[test]
fn a_named_file_must_exist_but_the_default_one_may_be_absent() {
    let setup = Setup::new();
    let missing = setup.dir.path().join("nope.toml");
    let err = load(&ConfigSources {
        file: ConfigFile::Required(missing.clone()),
        env: Vec::new(),
        flags: Overrides::default(),
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("config file {} not found", missing.display())
    );

    assert!(
        setup.load().is_ok(),
        "an absent optional file is no problem"
    );
}

#[test]
fn a_toml_syntax_error_is_located_and_other_layers_are_still_checked() {
    let setup = Setup::new()
        .file("[server]\nlisten = \"127.0.0.1:80\nshutdown_grace = \"1s\"\n")
        .env("TIDINGS_SERVER__LISTN", "0.0.0.0:80");
    let problems = setup.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(&format!("{}:2:", setup.shown()))
            && problems[0].contains("invalid TOML"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("unknown key `server.listn`"),
        "{problems:?}"
    );
}

#[test]
fn misfire_grace_may_be_unlimited_and_min_interval_lives_in_scheduler() {
    let config = Setup::new()
        .env("TIDINGS_SCHEDULER__MISFIRE_GRACE", "unlimited")
        .env("TIDINGS_SCHEDULER__MIN_INTERVAL", "1m")
        .load()
        .unwrap();
    assert_eq!(config.scheduler.misfire_grace, None);
    assert_eq!(config.scheduler.min_interval, Duration::from_secs(60));
    assert!(
        config
            .to_toml()
            .unwrap()
            .contains("misfire_grace = \"unlimited\"\n")
    );

    let problems = Setup::new()
        .env("TIDINGS_SCHEDULER__MIN_INTERVAL", "0s")
        .env("TIDINGS_SCHEDULER__MISFIRE_GRACE", "forever")
        .problems();
    assert_eq!(
        problems,
        [
            "scheduler.misfire_grace: invalid duration `forever`: expected e.g. 30s, 5m, 1h 30m, or unlimited \
             (from environment variable TIDINGS_SCHEDULER__MISFIRE_GRACE)",
            "scheduler.min_interval: must be longer than 0s \
             (from environment variable TIDINGS_SCHEDULER__MIN_INTERVAL)",
        ]
    );
}

#[test]
fn declared_schedules_are_checked_against_the_scheduler_settings() {
    let setup = Setup::new().file(
        r#"
        [scheduler]
        timezone = "America/New_York"
        min_interval = "1m"

        [[schedules]]
        name = "often"
        interval = "30s"
        kind = "noop"

        [[schedules]]
        name = "daily"
        cron = "0 9 * * *"
        kind = "noop"
        "#,
    );
    let file = setup.shown();
    assert_eq!(
        setup.problems(),
        [format!(
            "schedules[0] (often).interval: every 30 s is shorter than the minimum interval of 60 s \
             (scheduler.min_interval) (from {file})"
        )]
    );

    let config = Setup::new()
        .file(
            r#"
            [scheduler]
            timezone = "America/New_York"

            [[schedules]]
            name = "daily"
            cron = "0 9 * * *"
            kind = "noop"
            "#,
        )
        .load()
        .unwrap();
    assert_eq!(config.schedules.len(), 1);
    assert_eq!(config.schedules[0].name().as_str(), "daily");
    let defaults = crate::draft::defaults(&config.scheduler);
    let now = "2026-01-01T00:00:00Z".parse().unwrap();
    let spec = config.schedules[0].spec(None, &defaults, now).unwrap();
    assert_eq!(
        serde_json::to_value(&spec.trigger).unwrap(),
        serde_json::json!({"type": "cron", "expr": "0 9 * * *", "zone": "America/New_York"})
    );
}

#[test]
fn the_webhook_secret_is_read_from_the_environment_over_the_file_and_stays_redacted() {
    let config = Setup::new()
        .file("[webhooks]\nsecret = \"from-the-file\"\n")
        .env("TIDINGS_WEBHOOKS__SECRET", "whsec-hunter2")
        .load()
        .unwrap();
    let secret = config.webhooks.secret.clone().expect("the secret is read");
    assert_eq!(secret.expose(), "whsec-hunter2");
    let shown = [format!("{config:?}"), config.to_toml().unwrap()];
    for text in shown {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("from-the-file"), "{text}");
    }
    assert!(
        config
            .to_toml()
            .unwrap()
            .contains("[webhooks]\nsecret = \"[redacted]\"\n"),
        "{}",
        config.to_toml().unwrap()
    );
    assert_eq!(
        Setup::new()
            .file("[webhooks]\nsecret = \"from-the-file\"\n")
            .load()
            .unwrap()
            .webhooks
            .secret
            .map(|secret| secret.expose().to_owned())
            .as_deref(),
        Some("from-the-file")
    );
}

#[test]
fn a_misspelt_or_empty_webhook_secret_is_refused() {
    let problems = Setup::new()
        .env("TIDINGS_WEBHOOKS__SECERT", "whsec-hunter2")
        .problems();
    assert_eq!(
        problems,
        [
            "unknown key `webhooks.secert` in environment variable TIDINGS_WEBHOOKS__SECERT; \
             did you mean TIDINGS_WEBHOOKS__SECRET?"
        ]
    );
    let setup = Setup::new().file("[webhooks]\nsecret = \"\"\n");
    assert_eq!(
        setup.problems(),
        [format!(
            "webhooks.secret: must not be empty; leave it out to send deliveries unsigned (from {})",
            setup.shown()
        )]
    );
}

#[test]
fn sources_are_read_by_name_and_their_settings_checked() {
    let setup = Setup::new().file(
        "[sources.exports]\nkind = \"csv\"\npath = \"exports/*.csv\"\ndelimiter = \";\"\n\
         mapping = { group = \"Venue\" }\n\n\
         [[schedules]]\nname = \"sync:exports\"\ninterval = \"5m\"\nkind = \"sync\"\n\
         params = { source = \"exports\" }\n",
    );
    let config = setup.load().unwrap();
    let Some(SourceConfig::Csv(csv)) = config.sources.get("exports") else {
        panic!("no csv source: {:?}", config.sources);
    };
    assert_eq!(csv.path, PathBuf::from("exports/*.csv"));
    assert_eq!(csv.delimiter, b';');
    assert_eq!(config.schedules.len(), 1);
    // What `config check` prints reads back the same.
    let printed = config.to_toml().unwrap();
    assert!(
        printed.contains(
            "[sources.exports]\nkind = \"csv\"\npath = \"exports/*.csv\"\ndelimiter = \";\""
        ),
        "{printed}"
    );

    let problems = Setup::new()
        .file("[sources.exports]\nkind = \"csv\"\npth = \"a.csv\"\n")
        .problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .starts_with("sources.exports: unknown field: found `pth`, expected `one of `path`"),
        "{problems:?}"
    );

    // A sync of a source that is not configured is refused with the sources that are.
    let problems = Setup::new()
        .file(
            "[sources.exports]\nkind = \"csv\"\npath = \"a.csv\"\n\n\
             [[schedules]]\nname = \"sync:nope\"\ninterval = \"5m\"\nkind = \"sync\"\n\
             params = { source = \"nope\" }\n",
        )
        .problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("unknown source `nope`"),
        "{problems:?}"
    );
}

#[test]
fn airtable_sources_are_read_checked_and_never_hold_the_token() {
    let setup = Setup::new().file(
        "[sources.voc]\nkind = \"airtable\"\nbase = \"appAbc123\"\ntable = \"Feedback\"\n\
         token_env = \"VOC_TOKEN\"\nfilter_formula = \"YEAR({Created})=2025\"\noverlap = \"10m\"\n\n\
         [cache]\ndefault_source = \"voc\"\nstale_after = \"24h\"\n",
    );
    let config = setup.load().unwrap();
    let Some(SourceConfig::Airtable(airtable)) = config.sources.get("voc") else {
        panic!("no airtable source: {:?}", config.sources);
    };
    assert_eq!(airtable.base, "appAbc123");
    assert_eq!(airtable.token_env, "VOC_TOKEN");
    assert_eq!(airtable.overlap, Duration::from_secs(600));
    assert_eq!(config.default_source(), Some("voc"));
    assert_eq!(config.cache.stale_after, Duration::from_secs(86_400));
    assert_eq!(
        config.sources["voc"].location(),
        "airtable base appAbc123 table Feedback"
    );

    // A base id that is not one, and a default source that is not configured.
    let problems = Setup::new()
        .file(
            "[sources.voc]\nkind = \"airtable\"\nbase = \"Feedback\"\ntable = \"Feedback\"\n\n\
             [cache]\ndefault_source = \"vox\"\n",
        )
        .problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("sources.voc: base `Feedback` is not an Airtable base id"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with(
            "cache.default_source: names no configured source `vox`; configured sources: voc"
        ),
        "{problems:?}"
    );

    // A token written into the file is refused: only the name of its variable belongs there.
    let problems = Setup::new()
        .file(
            "[sources.voc]\nkind = \"airtable\"\nbase = \"appAbc123\"\ntable = \"Feedback\"\n\
             token = \"patXYZ.secret\"\n",
        )
        .problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("unknown field: found `token`"),
        "{problems:?}"
    );
    assert!(!problems[0].contains("patXYZ"), "{problems:?}");
}
