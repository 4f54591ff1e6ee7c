//! `tidings runs list|show`: the history a server leaves behind — successes, failures with
//! their errors, attempts — filtered and shown as a table or JSON.

use std::net::TcpListener;

use serde_json::Value;

use super::{Backend, TestDb, text, wait_until};

/// A port nothing listens on: connecting to it is refused.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn states_of<'a>(runs: &'a [Value], schedule: &str) -> Vec<&'a str> {
    runs.iter()
        .filter(|r| r["schedule"] == schedule)
        .map(|r| r["state"].as_str().unwrap())
        .collect()
}

fn history(backend: Backend) {
    let db = TestDb::new(backend);
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "ok",
        "--cron",
        "*/1 * * * * *",
        "--kind",
        "noop",
    ]);
    let url = format!("url=http://127.0.0.1:{}/", closed_port());
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "broken",
        "--cron",
        "*/1 * * * * *",
        "--kind",
        "http",
        "--param",
        &url,
        "--max-attempts",
        "1",
    ]);
    let mut server = db.serve(&[]);
    server.wait_until_listening();
    wait_until("a success and a failure", || {
        let runs = db.runs();
        let done = states_of(&runs, "ok").contains(&"succeeded")
            && states_of(&runs, "broken").contains(&"failed");
        done.then_some(())
    });
    server.stop();

    // The table: every column, newest first.
    let table = db.ok(&["runs", "list"]);
    let header = table.lines().next().unwrap();
    let columns: Vec<&str> = header
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        columns,
        [
            "ID",
            "SCHEDULE",
            "KIND",
            "TRIGGER",
            "STATE",
            "ATTEMPT",
            "SCHEDULED FOR",
            "STARTED",
            "FINISHED",
            "DURATION",
            "ERROR"
        ]
    );
    let failed_line = table
        .lines()
        .find(|l| l.contains(" failed "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        failed_line.contains("broken    http  schedule  failed"),
        "{table}"
    );

    // Filters.
    let failed = db.json(&["runs", "list", "--state", "failed"]);
    let failed = failed.as_array().unwrap();
    assert!(!failed.is_empty());
    for run in failed {
        assert_eq!(run["state"], "failed");
        assert_eq!(run["schedule"], "broken");
        assert_eq!(run["attempt"], 1);
        let error = run["error"].as_str().unwrap();
        assert!(error.contains("127.0.0.1"), "{error}");
    }
    let newest_ok = db.json(&[
        "runs",
        "list",
        "--schedule",
        "ok",
        "--state",
        "succeeded",
        "--limit",
        "1",
    ]);
    let newest_ok = newest_ok.as_array().unwrap();
    assert_eq!(newest_ok.len(), 1);
    assert_eq!(newest_ok[0]["kind"], "noop");
    let http_runs = db.json(&["runs", "list", "--kind", "http"]);
    assert!(
        http_runs
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["schedule"] == "broken")
    );
    let ids: Vec<i64> = db
        .runs()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // Show: the run, its attempts, its summary.
    let id = newest_ok[0]["id"].to_string();
    let shown = db.ok(&["runs", "show", &id]);
    assert!(shown.starts_with(&format!("run {id}\n  schedule      `ok` (id 1)\n  kind          noop\n  trigger       schedule\n  state         succeeded\n  attempt       1 of 3\n")), "{shown}");
    assert!(shown.contains("\n  summary       {}\n"), "{shown}");
    assert!(shown.contains("\nattempts:\n  #  INSTANCE"), "{shown}");
    let json = db.json(&["runs", "show", &id]);
    assert_eq!(json["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(json["attempts"][0]["outcome"], "succeeded");
    assert_eq!(json["summary"], serde_json::json!({}));

    let missing = db.tidings(&["runs", "show", "999999"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(text(&missing.stderr), "error: no run 999999\n");
}

#[test]
fn runs_history_on_sqlite() {
    history(Backend::Sqlite);
}

#[test]
fn runs_history_on_postgres() {
    history(Backend::Postgres);
}
