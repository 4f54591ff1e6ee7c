//! `tidings serve` across restarts: declared schedules reconciled at each start, the issue's
//! "hello every second" against a local server, a server killed with SIGKILL mid-run and
//! restarted, and several servers sharing one PostgreSQL.
//!
//! Firing is watched through what a user would look at, `tidings runs list --json`, polled every
//! 100 ms with a bound; the only plain waits are for wall-clock time a scenario needs to pass
//! (a downtime, a lease running out), never for the scheduler.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;

use super::{Backend, TestDb, wait_until};

fn instant(value: &Value) -> Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an instant: {value}"))
        .parse()
        .unwrap()
}

/// No occurrence of a schedule has two runs.
fn assert_no_duplicate_occurrences(runs: &[Value]) {
    let mut seen = HashSet::new();
    for run in runs.iter().filter(|r| r["trigger"] == "schedule") {
        let key = (
            run["schedule_id"].to_string(),
            run["scheduled_for"].to_string(),
        );
        assert!(
            seen.insert(key),
            "two runs for one occurrence: {run}\n{runs:#?}"
        );
    }
}

/// An HTTP server answering 200 to everything, counting the requests.
fn counting_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0_u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (port, count)
}

#[test]
fn hello_fires_every_second_against_a_local_server() {
    let db = TestDb::new(Backend::Sqlite);
    let (port, requests) = counting_server();
    let url = format!("url=http://127.0.0.1:{port}/");
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "hello",
        "--cron",
        "*/1 * * * * *",
        "--kind",
        "http",
        "--param",
        &url,
    ]);
    let mut server = db.serve(&[]);
    let line = server.wait_for_line("listening on http://");
    assert!(line.contains(", 1 schedule, 1 enabled)"), "{line}");

    // Three succeeded runs for consecutive seconds.
    let seconds = wait_until("three succeeded runs one second apart", || {
        if requests.load(Ordering::SeqCst) < 3 {
            return None;
        }
        let succeeded = db.json(&[
            "runs",
            "list",
            "--schedule",
            "hello",
            "--state",
            "succeeded",
            "--limit",
            "1000",
        ]);
        let mut seconds: Vec<i64> = succeeded
            .as_array()
            .unwrap()
            .iter()
            .map(|r| instant(&r["scheduled_for"]).as_second())
            .collect();
        seconds.sort_unstable();
        let consecutive = seconds
            .windows(3)
            .any(|w| w[1] == w[0] + 1 && w[2] == w[1] + 1);
        consecutive.then_some(seconds)
    });
    assert!(seconds.len() >= 3);
    server.stop();

    let runs = db.runs();
    assert_no_duplicate_occurrences(&runs);
    let succeeded = runs.iter().filter(|r| r["state"] == "succeeded").count();
    assert!(requests.load(Ordering::SeqCst) >= succeeded);
    let table = db.ok(&["runs", "list", "--schedule", "hello"]);
    assert!(
        table.contains("hello     http  schedule  succeeded"),
        "{table}"
    );
}

/// How long the killed server stays down: longer than its lease, several occurrences.
const DOWNTIME: Duration = Duration::from_secs(4);

#[test]
fn a_run_interrupted_by_sigkill_is_rescued_after_restart_and_downtime_is_missed() {
    let started = Instant::now();
    let db = TestDb::new(Backend::Sqlite);
    // A short lease, so that the interrupted run is rescuable soon after the kill.
    std::fs::write(
        db.file("tidings.toml"),
        "[scheduler]\nlease = \"2s\"\n[server]\nshutdown_grace = \"5s\"\n",
    )
    .unwrap();
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "slow",
        "--cron",
        "*/1 * * * * *",
        "--kind",
        "noop",
        "--param",
        "sleep_ms=2500",
        "--misfire-grace",
        "1s",
        "--backoff",
        "1s",
    ]);

    let mut first = db.serve(&[]);
    first.wait_until_listening();
    let running = wait_until("a run in state running", || {
        db.runs().into_iter().find(|r| r["state"] == "running")
    });
    first.send("-KILL");
    let (status, _) = first.wait_for_exit();
    assert_eq!(status.code(), None, "killed by a signal");
    let scheduled = instant(&running["scheduled_for"]);

    // The downtime: occurrences pass while nothing runs, and the lease of the interrupted run
    // (2 s, renewed every 0.7 s until the kill) runs out. A wait for wall-clock time to pass,
    // not for the scheduler.
    thread::sleep(DOWNTIME);

    let mut second = db.serve(&[]);
    second.wait_until_listening();
    let id = running["id"].as_i64().unwrap();
    let rescued = wait_until("the interrupted run succeeded on a later attempt", || {
        let run = db.json(&["runs", "show", &id.to_string()]);
        (run["state"] == "succeeded").then_some(run)
    });
    let missed = wait_until("a missed record for the downtime", || {
        db.runs().into_iter().find(|r| r["state"] == "missed")
    });
    let stderr = second.stop();

    // The interrupted run: its first attempt was lost with the worker, a later one succeeded.
    let attempts = rescued["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "{rescued:#}");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("worker lost"),
        "{rescued:#}"
    );
    assert_eq!(
        attempts.last().unwrap()["outcome"],
        "succeeded",
        "{rescued:#}"
    );
    assert!(rescued["attempt"].as_u64().unwrap() >= 2);
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("rescued a run whose worker was lost")),
        "{stderr:#?}"
    );

    // The downtime: occurrences past the grace, recorded as one missed run with their count.
    let occurrences = &missed["occurrences"];
    assert!(occurrences["count"].as_u64().unwrap() >= 2, "{missed:#}");
    assert!(instant(&occurrences["first"]) > scheduled, "{missed:#}");
    assert!(
        missed["error"].as_str().unwrap().starts_with("missed: "),
        "{missed:#}"
    );
    let table = db.ok(&["runs", "list", "--state", "missed"]);
    assert!(
        table.contains("slow      noop  schedule  missed"),
        "{table}"
    );

    let runs = db.runs();
    assert_no_duplicate_occurrences(&runs);
    assert!(
        runs.iter().all(|r| r["state"] != "running"),
        "nothing is left running after a clean stop: {runs:#?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
}

/// Starts a server on `db`, waits until it listens, stops it; returns its stderr.
fn start_and_stop(db: &TestDb) -> Vec<String> {
    let mut server = db.serve(&[]);
    server.wait_until_listening();
    server.stop()
}

fn logged(stderr: &[String], needle: &str) -> bool {
    stderr.iter().any(|line| line.contains(needle))
}

/// The schedules as `tidings schedules list --json` prints them, by name.
fn schedules_by_name(db: &TestDb) -> std::collections::HashMap<String, Value> {
    db.json(&["schedules", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

#[test]
fn declared_schedules_are_created_updated_and_disabled_at_each_start() {
    let db = TestDb::new(Backend::Sqlite);
    let declare = |toml: &str| std::fs::write(db.file("tidings.toml"), toml).unwrap();
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "mine",
        "--interval",
        "1h",
        "--kind",
        "noop",
    ]);

    declare(
        r#"
        [[schedules]]
        name = "report"
        cron = "0 8 * * 1"
        timezone = "Europe/Berlin"
        kind = "noop"
        description = "weekly"

        [[schedules]]
        name = "poll"
        interval = "1h"
        kind = "http"
        params = { url = "http://127.0.0.1:9/poll" }
        "#,
    );
    let stderr = start_and_stop(&db);
    assert!(
        logged(
            &stderr,
            "created schedule `report` (id 2) declared in the configuration"
        ),
        "{stderr:#?}"
    );
    assert!(
        logged(
            &stderr,
            "created schedule `poll` (id 3) declared in the configuration"
        ),
        "{stderr:#?}"
    );
    assert!(logged(&stderr, ", 3 schedules, 3 enabled)"), "{stderr:#?}");
    let first = schedules_by_name(&db);
    assert_eq!(first["report"]["origin"], "config");
    assert_eq!(first["report"]["trigger"]["zone"], "Europe/Berlin");
    assert_eq!(first["report"]["description"], "weekly");
    assert_eq!(first["poll"]["params"]["url"], "http://127.0.0.1:9/poll");
    assert_eq!(first["mine"]["origin"], "cli");

    // Changed, unchanged, added, and a name taken by a schedule from the command line.
    declare(
        r#"
        [[schedules]]
        name = "report"
        cron = "0 9 * * 1"
        timezone = "Europe/Berlin"
        kind = "noop"
        description = "weekly"

        [[schedules]]
        name = "poll"
        interval = "1h"
        kind = "http"
        params = { url = "http://127.0.0.1:9/poll" }

        [[schedules]]
        name = "nightly"
        cron = "0 0 * * *"
        kind = "noop"

        [[schedules]]
        name = "mine"
        interval = "5m"
        kind = "noop"
        "#,
    );
    let stderr = start_and_stop(&db);
    assert!(
        logged(
            &stderr,
            "updated schedule `report` (id 2) to match the configuration"
        ),
        "{stderr:#?}"
    );
    assert!(
        logged(
            &stderr,
            "created schedule `nightly` (id 4) declared in the configuration"
        ),
        "{stderr:#?}"
    );
    assert!(
        logged(
            &stderr,
            "declared schedule `mine` not applied: a schedule of that name (id 1) was created by cli"
        ),
        "{stderr:#?}"
    );
    assert!(!logged(&stderr, "`poll`"), "unchanged: {stderr:#?}");
    let second = schedules_by_name(&db);
    assert_eq!(second["report"]["trigger"]["expr"], "0 9 * * 1");
    assert_eq!(
        second["poll"], first["poll"],
        "an unchanged declaration keeps its anchor"
    );
    assert_eq!(second["mine"], first["mine"]);

    // Removed from the file: disabled, kept with their history.
    declare(
        r#"
        [[schedules]]
        name = "nightly"
        cron = "0 0 * * *"
        kind = "noop"
        "#,
    );
    let stderr = start_and_stop(&db);
    for name in ["report", "poll"] {
        assert!(
            logged(
                &stderr,
                &format!(
                    "schedule `{name}` is no longer declared in the configuration; disabled it"
                )
            ),
            "{stderr:#?}"
        );
    }
    assert!(logged(&stderr, ", 4 schedules, 2 enabled)"), "{stderr:#?}");
    let third = schedules_by_name(&db);
    assert_eq!(third["report"]["enabled"], false);
    assert_eq!(third["poll"]["enabled"], false);
    assert_eq!(third["nightly"]["enabled"], true);
    assert_eq!(third["mine"]["enabled"], true);
}

#[test]
fn several_servers_share_postgres_and_fire_each_occurrence_once() {
    let db = TestDb::new(Backend::Postgres);
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "shared",
        "--cron",
        "*/1 * * * * *",
        "--kind",
        "noop",
    ]);
    let mut a = db.serve(&[]);
    let mut b = db.serve(&[]);
    a.wait_until_listening();
    b.wait_until_listening();
    wait_until("five seconds of succeeded runs", || {
        let seconds: HashSet<i64> = db
            .runs()
            .iter()
            .filter(|r| r["state"] == "succeeded")
            .map(|r| instant(&r["scheduled_for"]).as_second())
            .collect();
        (seconds.len() >= 5).then_some(())
    });
    a.stop();
    b.stop();
    assert_no_duplicate_occurrences(&db.runs());
}
