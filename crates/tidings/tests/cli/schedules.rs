//! `tidings schedules …` on the store directly, no server running: round trips through every
//! subcommand on both backends, and the field errors of what the engine refuses.

use serde_json::{Value, json};

use super::{Backend, TestDb, text};

fn names(schedules: &Value) -> Vec<&str> {
    schedules
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

fn round_trip(backend: Backend) {
    let db = TestDb::new(backend);

    // Create: cron with params from --param (dotted keys nest), interval from --params-json,
    // once.
    let created = db.ok(&[
        "schedules",
        "create",
        "--name",
        "hello",
        "--cron",
        "0 9-18 * * 1-5",
        "--tz",
        "America/New_York",
        "--kind",
        "http",
        "--param",
        "url=http://127.0.0.1:9/hook",
        "--param",
        "headers.Authorization=Bearer ${TOKEN}",
        "--param",
        "timeout_seconds=5",
        "--tag",
        "ops",
        "--description",
        "office hours",
    ]);
    assert!(
        created.starts_with(
            "created schedule `hello` (id 1): cron 0 9-18 * * 1-5 America/New_York, http; next run "
        ),
        "{created}"
    );
    let every = db.json(&[
        "schedules",
        "create",
        "--name",
        "every",
        "--interval",
        "15m",
        "--kind",
        "noop",
        "--params-json",
        r#"{"sleep_ms": 10}"#,
        "--max-attempts",
        "5",
        "--misfire-grace",
        "unlimited",
        "--no-coalesce",
        "--max-catch-up",
        "3",
    ]);
    assert_eq!(every["origin"], "cli");
    assert_eq!(every["trigger"]["type"], "interval");
    assert_eq!(every["trigger"]["every_seconds"], 900);
    assert_eq!(every["params"], json!({"sleep_ms": 10}));
    assert_eq!(every["policy"]["misfire_grace"], Value::Null);
    assert_eq!(every["policy"]["coalesce"], false);
    assert_eq!(every["policy"]["max_catch_up"], 3);
    assert_eq!(every["policy"]["retry"]["max_attempts"], 5);
    let once = db.json(&[
        "schedules",
        "create",
        "--name",
        "once",
        "--at",
        "2099-01-01T09:00:00+01:00",
        "--kind",
        "noop",
    ]);
    assert_eq!(
        once["trigger"],
        json!({"type": "once", "at": "2099-01-01T08:00:00Z"})
    );
    assert_eq!(once["next_run_at"], "2099-01-01T08:00:00Z");

    // List: a table by default, JSON on request, newest first, with filters.
    let table = db.ok(&["schedules", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("ID  NAME   TRIGGER")
            && lines[0].ends_with(
                "ENABLED  NEXT RUN                   LAST STATE  TOTAL/OK/FAILED/MISSED"
            ),
        "{table}"
    );
    assert!(
        lines[1].starts_with("3   once   once 2099-01-01T08:00:00+00:00"),
        "{table}"
    );
    assert!(lines[2].starts_with("2   every  every 15m"), "{table}");
    assert!(
        lines[3].starts_with("1   hello  cron 0 9-18 * * 1-5 America/New_York  http  yes"),
        "{table}"
    );
    assert!(lines[3].ends_with("-           0/0/0/0"), "{table}");
    assert_eq!(
        names(&db.json(&["schedules", "list"])),
        ["once", "every", "hello"]
    );
    assert_eq!(
        names(&db.json(&["schedules", "list", "--kind", "noop"])),
        ["once", "every"]
    );
    assert_eq!(
        names(&db.json(&["schedules", "list", "--tag", "ops"])),
        ["hello"]
    );
    assert_eq!(
        names(&db.json(&["schedules", "list", "--text", "OFFICE"])),
        ["hello"]
    );
    assert_eq!(
        db.ok(&["schedules", "list", "--disabled"]),
        "no schedules\n"
    );

    // Show: every field and the next fires in the schedule's zone.
    let shown = db.ok(&["schedules", "show", "hello"]);
    assert!(shown.starts_with("schedule 1 `hello`\n  description   office hours\n  trigger       cron 0 9-18 * * 1-5 America/New_York\n"), "{shown}");
    assert!(
        shown.contains(
            "\n  policy        misfire grace 5m, coalesce yes, max catch-up 100, max instances 1\n"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("\nnext 5 fires (America/New_York):\n"),
        "{shown}"
    );
    assert_eq!(db.json(&["schedules", "show", "1"])["name"], "hello");

    // Update changes only what is given: one param, one policy number.
    let updated = db.json(&[
        "schedules",
        "update",
        "hello",
        "--param",
        "url=http://127.0.0.1:9/other",
        "--max-instances",
        "2",
    ]);
    assert_eq!(
        updated["params"],
        json!({
            "url": "http://127.0.0.1:9/other",
            "headers": {"Authorization": "Bearer ${TOKEN}"},
            "timeout_seconds": 5,
        })
    );
    assert_eq!(updated["policy"]["max_instances"], 2);
    assert_eq!(updated["trigger"]["expr"], "0 9-18 * * 1-5");
    assert_eq!(updated["description"], "office hours");
    assert_eq!(updated["tags"], json!(["ops"]));

    // Disable, enable.
    let disabled = db.ok(&["schedules", "disable", "hello"]);
    assert_eq!(
        disabled,
        "disabled schedule `hello` (id 1): cron 0 9-18 * * 1-5 America/New_York, http; disabled\n"
    );
    assert_eq!(
        names(&db.json(&["schedules", "list", "--disabled"])),
        ["hello"]
    );
    let enabled = db.json(&["schedules", "enable", "hello"]);
    assert_eq!(enabled["enabled"], true);
    assert!(enabled["next_run_at"].is_string(), "{enabled}");

    // Run: queued; a second one finds max_instances (1) reached and says which run is active.
    let run = db.json(&["schedules", "run", "every"]);
    assert_eq!(run["state"], "queued");
    assert_eq!(run["trigger"], "manual");
    let again = db.tidings(&["schedules", "run", "every"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        text(&again.stderr),
        format!(
            "error: schedule `every` already has 1 run(s) queued or running (max_instances 1): run {} is queued\n",
            run["id"]
        )
    );
    let runs = db.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["schedule"], "every");

    // Delete keeps the runs.
    assert_eq!(
        db.ok(&["schedules", "delete", "every"]),
        "deleted schedule `every` (id 2); its runs are kept\n"
    );
    assert_eq!(names(&db.json(&["schedules", "list"])), ["once", "hello"]);
    let runs = db.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["schedule"], Value::Null);
    let gone = db.tidings(&["schedules", "show", "every"]);
    assert_eq!(gone.status.code(), Some(1));
    assert_eq!(text(&gone.stderr), "error: no schedule `every`\n");
}

#[test]
fn schedules_round_trip_on_sqlite() {
    round_trip(Backend::Sqlite);
}

#[test]
fn schedules_round_trip_on_postgres() {
    round_trip(Backend::Postgres);
}

#[test]
fn show_lists_the_next_fires_with_dst_notes() {
    let db = TestDb::new(Backend::Sqlite);
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "nightly",
        "--cron",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--kind",
        "noop",
    ]);
    let shown = db.ok(&[
        "schedules",
        "show",
        "nightly",
        "--after",
        "2026-03-07T12:00:00-05:00",
    ]);
    let fires: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("next 5 fires"))
        .collect();
    assert_eq!(fires.len(), 6, "{shown}");
    assert_eq!(fires[0], "next 5 fires (America/New_York):");
    assert!(
        fires[1].starts_with(
            "  2026-03-08T03:00:00-04:00  Sun  DST: 02:30 does not exist on 2026-03-08"
        ),
        "{shown}"
    );
    assert_eq!(fires[2], "  2026-03-09T02:30:00-04:00  Mon");

    let json = db.json(&[
        "schedules",
        "show",
        "nightly",
        "--after",
        "2026-03-07T12:00:00-05:00",
    ]);
    assert_eq!(json["next_fires"][0]["at"], "2026-03-08T07:00:00Z");
    assert!(json["next_fires"][0]["dst_note"].is_string(), "{json}");
    assert_eq!(json["next_fires"][1]["dst_note"], Value::Null);
}

#[test]
fn invalid_schedules_exit_2_with_every_field_error() {
    let db = TestDb::new(Backend::Sqlite);
    let refused = |args: &[&str]| {
        let mut all = vec!["schedules", "create", "--name", "bad"];
        all.extend_from_slice(args);
        let output = db.tidings(&all);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        assert_eq!(text(&output.stdout), "");
        text(&output.stderr)
    };

    assert_eq!(
        refused(&["--cron", "61 * * * *", "--kind", "noop"]),
        "error: --cron: minute: value 61 out of range 0-59\n"
    );
    assert_eq!(
        refused(&["--cron", "* * * * *", "--kind", "nope"]),
        "error: --kind: invalid params for job kind `nope`: unknown job kind `nope`; known kinds: aggregate, http, noop, sync, webhook\n"
    );
    assert_eq!(
        refused(&["--cron", "* * * * *", "--kind", "http"]),
        "error: params.url: invalid params for job kind `http`: `url`: is required\n"
    );
    assert_eq!(
        refused(&[
            "--cron",
            "0 25 * * *",
            "--tz",
            "Mars/Olympus",
            "--kind",
            "http",
            "--misfire-grace",
            "soon",
        ]),
        "error: --tz: unknown time zone `Mars/Olympus`: expected an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`\n\
         error: --cron: hour: value 25 out of range 0-23\n\
         error: --misfire-grace: invalid duration `soon`: expected e.g. 30s, 5m, 1h 30m, or unlimited\n\
         error: params.url: invalid params for job kind `http`: `url`: is required\n"
    );
    assert_eq!(
        refused(&["--kind", "noop"]),
        "error: trigger: give one of cron, interval or at\n"
    );
    assert_eq!(
        refused(&["--at", "2001-01-01T00:00:00Z", "--kind", "noop"]),
        "error: --at: 2001-01-01T00:00:00Z is in the past; a once trigger needs a future instant\n"
    );
    assert_eq!(
        refused(&["--interval", "1s", "--kind", "noop", "--param", "sleep_ms"]),
        "error: --param `sleep_ms`: expected KEY=VALUE, e.g. url=https://example.com/hook\n"
    );
    // clap refuses two triggers before anything else.
    let both = db.tidings(&[
        "schedules",
        "create",
        "--name",
        "bad",
        "--cron",
        "* * * * *",
        "--at",
        "2099-01-01T00:00:00Z",
        "--kind",
        "noop",
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        text(&both.stderr).contains("cannot be used with"),
        "{}",
        text(&both.stderr)
    );

    // A taken name is refused the same way, and nothing was stored by the refusals.
    db.ok(&[
        "schedules",
        "create",
        "--name",
        "taken",
        "--interval",
        "1m",
        "--kind",
        "noop",
    ]);
    let taken = db.tidings(&[
        "schedules",
        "create",
        "--name",
        "taken",
        "--interval",
        "5m",
        "--kind",
        "noop",
    ]);
    assert_eq!(taken.status.code(), Some(2));
    assert_eq!(
        text(&taken.stderr),
        "error: a schedule named `taken` already exists\n"
    );
    assert_eq!(names(&db.json(&["schedules", "list"])), ["taken"]);
}
