//! `tidings config check`: the effective configuration on stdout, or every problem on stderr.

use std::process::Output;

use tempfile::TempDir;

use super::tidings_in;

fn config_check(dir: &TempDir, envs: &[(&str, &str)]) -> Output {
    tidings_in(dir.path())
        .args(["config", "check"])
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn check_prints_the_effective_configuration_with_the_password_redacted() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("tidings.toml"),
        r#"
        [server]
        listen = "0.0.0.0:9000"

        [database]
        url = "postgres://tidings:hunter2@db.internal:5432/tidings"

        [scheduler]
        timezone = "Europe/Paris"
        misfire_grace = "10m"
        "#,
    )
    .unwrap();

    let output = config_check(
        &dir,
        &[
            ("TIDINGS_LOG__LEVEL", "debug"),
            ("TIDINGS_SCHEDULER__CONCURRENCY", "4"),
            ("TIDINGS_WEBHOOKS__SECRET", "whsec-hunter3"),
            ("TIDINGS_API_KEY", "tdg-hunter4"),
        ],
    );

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stdout).contains("hunter"));
    assert_eq!(text(&output.stderr), "");
    assert_eq!(
        text(&output.stdout),
        r#"[server]
listen = "0.0.0.0:9000"
shutdown_grace = "30s"
body_limit = 1048576
request_timeout = "30s"
cors_origins = []
public_metrics = true

[database]
url = "postgres://tidings:[redacted]@db.internal:5432/tidings"

[log]
format = "auto"
level = "debug"

[scheduler]
timezone = "Europe/Paris"
misfire_grace = "10m"
lease = "30s"
concurrency = 4
min_interval = "1s"

[webhooks]
secret = "[redacted]"

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
fn check_reads_the_file_named_by_flag_or_tidings_config() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("prod.toml"),
        "[server]\nlisten = \"0.0.0.0:7000\"\n",
    )
    .unwrap();

    let by_flag = tidings_in(dir.path())
        .args(["config", "check", "--config", "prod.toml"])
        .output()
        .unwrap();
    let by_env = config_check(&dir, &[("TIDINGS_CONFIG", "prod.toml")]);

    for output in [by_flag, by_env] {
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("listen = \"0.0.0.0:7000\""));
    }
}

#[test]
fn check_lists_every_problem_with_suggestions_and_exits_2() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("tidings.toml"),
        r#"
        [server]
        lisen = "0.0.0.0:9000"
        shutdown_grace = "30 parsecs"

        [database]
        url = "postgres://tidings:hunter2@db/tidings"

        [scheduler]
        timezone = "Mars/Olympus_Mons"
        concurency = 4
        "#,
    )
    .unwrap();

    let output = config_check(&dir, &[("TIDINGS_LOG__LEVL", "debug")]);

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "error: unknown key `scheduler.concurency` in ./tidings.toml; did you mean `scheduler.concurrency`?",
            "error: unknown key `server.lisen` in ./tidings.toml; did you mean `server.listen`?",
            "error: unknown key `log.levl` in environment variable TIDINGS_LOG__LEVL; did you mean TIDINGS_LOG__LEVEL?",
            "error: server.shutdown_grace: invalid duration `30 parsecs`: expected e.g. 30s, 5m, 1h 30m (from ./tidings.toml)",
            "error: scheduler.timezone: unknown time zone `Mars/Olympus_Mons`: expected an IANA name such as `UTC`, \
             `Europe/Berlin` or `America/New_York` (from ./tidings.toml)",
        ]
    );
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn a_named_config_file_that_does_not_exist_exits_2() {
    let dir = TempDir::new().unwrap();
    let output = tidings_in(dir.path())
        .args(["--config", "missing.toml", "config", "check"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: config file missing.toml not found\n"
    );
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn a_usage_error_exits_2() {
    let dir = TempDir::new().unwrap();
    let output = tidings_in(dir.path())
        .args(["config", "check", "--log-format", "xml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("invalid value 'xml' for '--log-format <FORMAT>'"));
}

#[test]
fn check_reports_bad_declared_schedules_with_their_index_and_name() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("tidings.toml"),
        r#"
        [scheduler]
        concurency = 4

        [[schedules]]
        name = "fine"
        interval = "15m"
        kind = "noop"

        [[schedules]]
        name = "nightly"
        cron = "0 25 * * *"
        timezone = "Mars/Olympus_Mons"
        kind = "http"
        retries = 3

        [[schedules]]
        name = "ping"
        interval = "500ms"
        kind = "nope"
        enabled = "yes"
        "#,
    )
    .unwrap();

    let output = config_check(&dir, &[]);

    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr).lines().collect::<Vec<_>>(),
        [
            "error: unknown key `scheduler.concurency` in ./tidings.toml; did you mean `scheduler.concurrency`?",
            "error: unknown key `schedules[1].retries` in ./tidings.toml",
            "error: schedules[1] (nightly).timezone: unknown time zone `Mars/Olympus_Mons`: expected an IANA name \
             such as `UTC`, `Europe/Berlin` or `America/New_York` (from ./tidings.toml)",
            "error: schedules[1] (nightly).cron: hour: value 25 out of range 0-23 (from ./tidings.toml)",
            "error: schedules[1] (nightly).params.url: invalid params for job kind `http`: `url`: is required \
             (from ./tidings.toml)",
            "error: schedules[2] (ping).enabled: invalid type: string \"yes\", expected a boolean (from ./tidings.toml)",
            "error: schedules[2] (ping).interval: invalid interval `500ms`: use whole seconds, such as 1s, 90s or 15m \
             (from ./tidings.toml)",
            "error: schedules[2] (ping).kind: invalid params for job kind `nope`: unknown job kind `nope`; known kinds: \
             aggregate, http, noop, sync, webhook (from ./tidings.toml)",
        ]
    );
}

#[test]
fn declared_schedules_and_an_unlimited_grace_are_printed_back() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("tidings.toml"),
        r#"
        [scheduler]
        misfire_grace = "unlimited"
        min_interval = "30s"

        [[schedules]]
        name = "ping"
        cron = "*/5 * * * *"
        timezone = "Europe/Berlin"
        kind = "http"
        params = { url = "https://example.com/ping", headers = { Authorization = "Bearer ${TOKEN}" } }
        tags = ["ops"]
        misfire_grace = "1m"

        [[schedules]]
        name = "tick"
        interval_seconds = 60
        anchor = 2026-01-01T00:00:00Z
        kind = "noop"
        enabled = false
        "#,
    )
    .unwrap();

    let output = config_check(&dir, &[]);

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("[scheduler]\ntimezone = \"UTC\"\nmisfire_grace = \"unlimited\"\nlease = \"30s\"\nconcurrency = 10\nmin_interval = \"30s\"\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(
            r#"[[schedules]]
name = "ping"
cron = "*/5 * * * *"
timezone = "Europe/Berlin"
kind = "http"
tags = ["ops"]
misfire_grace = "1m"

[schedules.params]
url = "https://example.com/ping"

[schedules.params.headers]
Authorization = "Bearer ${TOKEN}"

[[schedules]]
name = "tick"
interval_seconds = 60
anchor = "2026-01-01T00:00:00Z"
kind = "noop"
enabled = false
"#
        ),
        "{stdout}"
    );
}

#[test]
fn the_old_schedules_section_says_where_min_interval_went() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("tidings.toml"),
        "[schedules]\nmin_interval = \"5s\"\n",
    )
    .unwrap();
    let output = config_check(&dir, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: schedules: expected `[[schedules]]` entries, one table per schedule, found a `[schedules]` \
         table; `schedules.min_interval` is now `scheduler.min_interval` (from ./tidings.toml)\n"
    );
}
