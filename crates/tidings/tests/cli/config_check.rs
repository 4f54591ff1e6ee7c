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
        ],
    );

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    assert_eq!(
        text(&output.stdout),
        r#"[server]
listen = "0.0.0.0:9000"
shutdown_grace = "30s"

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

[schedules]
min_interval = "1s"
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
