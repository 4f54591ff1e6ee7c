//! `tidings cron next` and `tidings cron explain`, run as a user would: the built binary, its
//! stdout, stderr and exit code.

use std::process::{Command, Output};

fn tidings(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("the tidings binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn next_prints_only_instants_one_per_line() {
    let output = tidings(&[
        "cron",
        "next",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2025-03-08T12:00:00-05:00",
        "--count",
        "3",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "2025-03-09T03:00:00-04:00\n2025-03-10T02:30:00-04:00\n2025-03-11T02:30:00-04:00\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn next_defaults_to_utc_five_fires_after_now() {
    let output = tidings(&["cron", "next", "@hourly"]);
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 5);
    for line in &lines {
        assert!(line.ends_with(":00:00+00:00"), "{line}");
    }
}

#[test]
fn next_in_a_half_hour_dst_zone_with_seconds() {
    // Lord Howe springs forward by 30 minutes at 02:00 on 2025-10-05.
    let output = tidings(&[
        "cron",
        "next",
        "15 10 2 * * *",
        "--tz",
        "Australia/Lord_Howe",
        "--after",
        "2025-10-04T12:00:00+10:30",
        "--count",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "2025-10-05T02:30:00+11:00\n2025-10-06T02:10:15+11:00\n"
    );
}

#[test]
fn bad_expression_zone_or_instant_exit_2_with_a_message_on_stderr() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["cron", "next", "61 * * * *"],
            "error: invalid cron expression: minute: value 61 out of range 0-59",
        ),
        (
            &["cron", "next", "0 0 30 2 *"],
            "error: invalid cron expression: `0 0 30 2 *` can never fire: day-of-month `30` has no day that exists in February (the longest has 29 days)",
        ),
        (
            &["cron", "next", "* * * *"],
            "error: invalid cron expression: expected 5 fields",
        ),
        (
            &["cron", "next", "* * * * *", "--tz", "EST5EDT/Nowhere"],
            "error: invalid --tz: unknown time zone `EST5EDT/Nowhere`",
        ),
        (
            &[
                "cron",
                "next",
                "* * * * *",
                "--after",
                "2025-13-01T00:00:00Z",
            ],
            "error: invalid --after `2025-13-01T00:00:00Z`: expected an RFC 3339 instant",
        ),
    ];
    for (args, expected) in cases {
        let output = tidings(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert!(
            stderr(&output).starts_with(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn count_must_be_positive() {
    let output = tidings(&["cron", "next", "* * * * *", "--count", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--count"), "{}", stderr(&output));
}

#[test]
fn explain_describes_rule_kind_and_dst_moves() {
    let output = tidings(&[
        "cron",
        "explain",
        "0,30 2 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2025-03-08T00:00:00-05:00",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0,30 2 * * *  (America/New_York)");
    assert_eq!(lines[1], "  At 02:00 and 02:30");
    assert!(lines[2].starts_with("days:  every day"), "{text}");
    assert!(lines[3].starts_with("DST:   fixed-time job"), "{text}");
    assert_eq!(lines[4], "next 5 after 2025-03-08T00:00:00-05:00:");
    assert_eq!(lines[5], "  2025-03-08T02:00:00-05:00  Sat");
    assert_eq!(lines[6], "  2025-03-08T02:30:00-05:00  Sat");
    assert_eq!(
        lines[7],
        "  2025-03-09T03:00:00-04:00  Sun  DST: 02:00 and 02:30 do not exist on 2025-03-09 (clocks jump from 02:00 to 03:00); they run once, at 03:00 instead"
    );
    assert_eq!(lines[8], "  2025-03-10T02:00:00-04:00  Mon");
    assert_eq!(lines.len(), 10);
}

#[test]
fn explain_shows_the_or_rule_in_words() {
    let output = tidings(&["cron", "explain", "30 4 1,15 * 5"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("At 04:30 on the 1st and 15th of the month, or on Fridays"),
        "{text}"
    );
    assert!(text.contains("day-of-month OR day-of-week"), "{text}");
}
