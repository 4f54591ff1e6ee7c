//! Hand-checked fire times across DST transitions, per `CRON.md`.
//!
//! Every expected instant below was derived by hand from the zone's real transitions (listed above
//! each group, checked against jiff's bundled tzdb) and CRON.md's rules:
//!
//! - spring gap: a fixed-time job fires once at the first instant after the jump, second 0 (several
//!   skipped times still fire once); a wildcard job (minute or hour field starts with `*`) loses
//!   the gap;
//! - autumn fold: a fixed-time job fires in the first pass only; a wildcard job in both passes;
//! - a jump of more than 3 h is a clock correction: the wall clock is simply followed.
//!
//! Expected values read like `tidings cron next` output: RFC 3339 with the zone's offset.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic on bad fixture data is a test failure"
)]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tidings_core::cron::CronExpr;
use tidings_core::trigger::CronTrigger;
use tidings_core::zone::Zone;

/// The first `count` fires of `expr` in `zone` strictly after `after`, chaining `next_after`.
fn fires(expr: &str, zone: &str, after: &str, count: usize) -> Vec<String> {
    let parsed = CronExpr::parse(expr).unwrap_or_else(|e| panic!("`{expr}` rejected: {e}"));
    let trigger = CronTrigger::new(parsed, Zone::parse(zone).unwrap());
    let tz = TimeZone::get(zone).unwrap();
    let mut at: Timestamp = after.parse().unwrap();
    let mut out = Vec::new();
    for _ in 0..count {
        let Some(next) = trigger.next_after(at) else {
            break;
        };
        out.push(
            next.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
        );
        at = next;
    }
    out
}

// America/New_York: 2019-03-10, 2025-03-09, 2030-03-10 02:00 EST → 03:00 EDT (gap 02:00–02:59);
// 2019-11-03, 2025-11-02, 2030-11-03 02:00 EDT → 01:00 EST (01:00–01:59 twice).

#[test]
fn new_york_spring_gap_fixed_job_fires_once_at_0300() {
    // CRON.md's own example.
    assert_eq!(
        fires(
            "30 2 * * *",
            "America/New_York",
            "2025-03-08T12:00:00-05:00",
            3
        ),
        [
            "2025-03-09T03:00:00-04:00",
            "2025-03-10T02:30:00-04:00",
            "2025-03-11T02:30:00-04:00",
        ]
    );
}

#[test]
fn new_york_autumn_fold_fixed_job_fires_in_first_pass_only() {
    // CRON.md's own example.
    assert_eq!(
        fires(
            "30 1 * * *",
            "America/New_York",
            "2025-11-01T12:00:00-04:00",
            2
        ),
        ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"]
    );
}

#[test]
fn new_york_autumn_fold_wildcard_job_fires_in_both_passes() {
    // CRON.md's own example.
    assert_eq!(
        fires(
            "*/30 * * * *",
            "America/New_York",
            "2025-11-02T00:45:00-04:00",
            5
        ),
        [
            "2025-11-02T01:00:00-04:00",
            "2025-11-02T01:30:00-04:00",
            "2025-11-02T01:00:00-05:00",
            "2025-11-02T01:30:00-05:00",
            "2025-11-02T02:00:00-05:00",
        ]
    );
}

#[test]
fn new_york_several_skipped_gap_times_fire_once_at_0300() {
    assert_eq!(
        fires(
            "0,15,30,45 2 * * *",
            "America/New_York",
            "2025-03-09T01:00:00-05:00",
            3
        ),
        [
            "2025-03-09T03:00:00-04:00",
            "2025-03-10T02:00:00-04:00",
            "2025-03-10T02:15:00-04:00",
        ]
    );
}

#[test]
fn new_york_wildcard_minute_job_loses_the_gap() {
    assert_eq!(
        fires(
            "*/15 2 * * *",
            "America/New_York",
            "2025-03-09T01:00:00-05:00",
            3
        ),
        [
            "2025-03-10T02:00:00-04:00",
            "2025-03-10T02:15:00-04:00",
            "2025-03-10T02:30:00-04:00",
        ]
    );
}

#[test]
fn new_york_wildcard_hour_step_job_loses_the_gap() {
    // `0 */2 * * *` is a wildcard job: 02:00 does not exist on 2025-03-09 and is not caught up.
    assert_eq!(
        fires(
            "0 */2 * * *",
            "America/New_York",
            "2025-03-09T00:30:00-05:00",
            2
        ),
        ["2025-03-09T04:00:00-04:00", "2025-03-09T06:00:00-04:00"]
    );
}

#[test]
fn new_york_hourly_macro_is_a_wildcard_job_across_both_transitions() {
    assert_eq!(
        fires(
            "@hourly",
            "America/New_York",
            "2025-03-09T00:30:00-05:00",
            3
        ),
        [
            "2025-03-09T01:00:00-05:00",
            "2025-03-09T03:00:00-04:00",
            "2025-03-09T04:00:00-04:00",
        ]
    );
    assert_eq!(
        fires(
            "@hourly",
            "America/New_York",
            "2025-11-02T00:30:00-04:00",
            4
        ),
        [
            "2025-11-02T01:00:00-04:00",
            "2025-11-02T01:00:00-05:00",
            "2025-11-02T02:00:00-05:00",
            "2025-11-02T03:00:00-05:00",
        ]
    );
}

#[test]
fn new_york_six_field_fixed_job_catches_up_at_second_zero() {
    assert_eq!(
        fires(
            "15 30 2 * * *",
            "America/New_York",
            "2025-03-08T12:00:00-05:00",
            2
        ),
        ["2025-03-09T03:00:00-04:00", "2025-03-10T02:30:15-04:00"]
    );
}

#[test]
fn new_york_six_field_wildcard_job_loses_the_gap() {
    assert_eq!(
        fires(
            "30 * 2 * * *",
            "America/New_York",
            "2025-03-09T01:59:00-05:00",
            2
        ),
        ["2025-03-10T02:00:30-04:00", "2025-03-10T02:01:30-04:00"]
    );
}

#[test]
fn new_york_six_field_fixed_job_with_seconds_fires_in_first_pass_only() {
    // Minute 30 and hour 1 are restricted, so this is a fixed-time job despite `*/20` seconds.
    assert_eq!(
        fires(
            "*/20 30 1 * * *",
            "America/New_York",
            "2025-11-02T00:00:00-04:00",
            4
        ),
        [
            "2025-11-02T01:30:00-04:00",
            "2025-11-02T01:30:20-04:00",
            "2025-11-02T01:30:40-04:00",
            "2025-11-03T01:30:00-05:00",
        ]
    );
}

#[test]
fn new_york_six_field_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "0 */20 1 * * *",
            "America/New_York",
            "2025-11-02T00:59:59-04:00",
            7
        ),
        [
            "2025-11-02T01:00:00-04:00",
            "2025-11-02T01:20:00-04:00",
            "2025-11-02T01:40:00-04:00",
            "2025-11-02T01:00:00-05:00",
            "2025-11-02T01:20:00-05:00",
            "2025-11-02T01:40:00-05:00",
            "2025-11-03T01:00:00-05:00",
        ]
    );
}

#[test]
fn new_york_start_in_second_pass_fixed_job_waits_for_next_day() {
    assert_eq!(
        fires(
            "30 1 * * *",
            "America/New_York",
            "2025-11-02T01:10:00-05:00",
            1
        ),
        ["2025-11-03T01:30:00-05:00"]
    );
}

#[test]
fn new_york_start_between_the_passes_fixed_job_does_not_fire_again() {
    assert_eq!(
        fires(
            "30 1 * * *",
            "America/New_York",
            "2025-11-02T01:45:00-04:00",
            1
        ),
        ["2025-11-03T01:30:00-05:00"]
    );
}

#[test]
fn new_york_start_in_second_pass_wildcard_job_continues_in_second_pass() {
    assert_eq!(
        fires(
            "*/30 * * * *",
            "America/New_York",
            "2025-11-02T01:10:00-05:00",
            2
        ),
        ["2025-11-02T01:30:00-05:00", "2025-11-02T02:00:00-05:00"]
    );
}

#[test]
fn new_york_start_exactly_on_the_jump_does_not_repeat_the_catch_up() {
    // 2025-03-09T03:00:00-04:00 is the transition instant and the catch-up fire; results are
    // strictly after the start.
    assert_eq!(
        fires(
            "30 2 * * *",
            "America/New_York",
            "2025-03-09T03:00:00-04:00",
            1
        ),
        ["2025-03-10T02:30:00-04:00"]
    );
    assert_eq!(
        fires(
            "*/30 * * * *",
            "America/New_York",
            "2025-03-09T03:00:00-04:00",
            1
        ),
        ["2025-03-09T03:30:00-04:00"]
    );
}

#[test]
fn new_york_sub_second_start_before_the_jump_gets_the_catch_up() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "America/New_York",
            "2025-03-09T01:59:59.5-05:00",
            1
        ),
        ["2025-03-09T03:00:00-04:00"]
    );
}

#[test]
fn new_york_catch_up_and_regular_0300_fire_merge_into_one() {
    assert_eq!(
        fires(
            "0 2,3 * * *",
            "America/New_York",
            "2025-03-09T01:00:00-05:00",
            3
        ),
        [
            "2025-03-09T03:00:00-04:00",
            "2025-03-10T02:00:00-04:00",
            "2025-03-10T03:00:00-04:00",
        ]
    );
}

#[test]
fn new_york_2019_spring_gap_fixed_job_fires_at_0300() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "America/New_York",
            "2019-03-09T12:00:00-05:00",
            2
        ),
        ["2019-03-10T03:00:00-04:00", "2019-03-11T02:30:00-04:00"]
    );
}

#[test]
fn new_york_2019_autumn_fold_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "0,45 1 * * *",
            "America/New_York",
            "2019-11-02T12:00:00-04:00",
            3
        ),
        [
            "2019-11-03T01:00:00-04:00",
            "2019-11-03T01:45:00-04:00",
            "2019-11-04T01:00:00-05:00",
        ]
    );
    assert_eq!(
        fires(
            "*/45 1 * * *",
            "America/New_York",
            "2019-11-02T12:00:00-04:00",
            5
        ),
        [
            "2019-11-03T01:00:00-04:00",
            "2019-11-03T01:45:00-04:00",
            "2019-11-03T01:00:00-05:00",
            "2019-11-03T01:45:00-05:00",
            "2019-11-04T01:00:00-05:00",
        ]
    );
}

#[test]
fn new_york_2030_autumn_fold_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "30 1 * * *",
            "America/New_York",
            "2030-11-02T12:00:00-04:00",
            2
        ),
        ["2030-11-03T01:30:00-04:00", "2030-11-04T01:30:00-05:00"]
    );
}

#[test]
fn new_york_second_sunday_of_march_fixed_job_catches_up_every_year() {
    // The second Sunday of March is the spring-forward day: 2025-03-09, 2026-03-08, 2027-03-14.
    assert_eq!(
        fires(
            "30 2 ? 3 0#2",
            "America/New_York",
            "2025-01-01T00:00:00-05:00",
            3
        ),
        [
            "2025-03-09T03:00:00-04:00",
            "2026-03-08T03:00:00-04:00",
            "2027-03-14T03:00:00-04:00",
        ]
    );
    assert_eq!(
        fires(
            "30 2 * * sun",
            "America/New_York",
            "2030-03-01T00:00:00-05:00",
            2
        ),
        ["2030-03-03T02:30:00-05:00", "2030-03-10T03:00:00-04:00"]
    );
}

// Europe/London: 2019-03-31, 2025-03-30, 2030-03-31 01:00 GMT → 02:00 BST (gap 01:00–01:59);
// 2019-10-27, 2025-10-26, 2030-10-27 02:00 BST → 01:00 GMT (01:00–01:59 twice).

#[test]
fn london_spring_gap_fixed_job_fires_once_at_0200() {
    assert_eq!(
        fires(
            "30 1 * * *",
            "Europe/London",
            "2025-03-29T12:00:00+00:00",
            2
        ),
        ["2025-03-30T02:00:00+01:00", "2025-03-31T01:30:00+01:00"]
    );
    assert_eq!(
        fires(
            "45 1 * * *",
            "Europe/London",
            "2019-03-30T12:00:00+00:00",
            2
        ),
        ["2019-03-31T02:00:00+01:00", "2019-04-01T01:45:00+01:00"]
    );
}

#[test]
fn london_spring_gap_hourly_job_loses_0100() {
    assert_eq!(
        fires("0 * * * *", "Europe/London", "2025-03-30T00:30:00+00:00", 2),
        ["2025-03-30T02:00:00+01:00", "2025-03-30T03:00:00+01:00"]
    );
}

#[test]
fn london_autumn_fold_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "30 1 * * *",
            "Europe/London",
            "2025-10-25T12:00:00+01:00",
            2
        ),
        ["2025-10-26T01:30:00+01:00", "2025-10-27T01:30:00+00:00"]
    );
}

#[test]
fn london_autumn_fold_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "*/20 1 * * *",
            "Europe/London",
            "2030-10-27T00:50:00+01:00",
            7
        ),
        [
            "2030-10-27T01:00:00+01:00",
            "2030-10-27T01:20:00+01:00",
            "2030-10-27T01:40:00+01:00",
            "2030-10-27T01:00:00+00:00",
            "2030-10-27T01:20:00+00:00",
            "2030-10-27T01:40:00+00:00",
            "2030-10-28T01:00:00+00:00",
        ]
    );
}

#[test]
fn dublin_spring_gap_fixed_job_fires_once_at_0200() {
    // Dublin's tzdb rules use "negative DST" (IST is standard time); the wall clock is London's.
    assert_eq!(
        fires(
            "0,30 1 * * *",
            "Europe/Dublin",
            "2025-03-29T12:00:00+00:00",
            3
        ),
        [
            "2025-03-30T02:00:00+01:00",
            "2025-03-31T01:00:00+01:00",
            "2025-03-31T01:30:00+01:00",
        ]
    );
    assert_eq!(
        fires(
            "30 1 * * *",
            "Europe/Dublin",
            "2025-10-25T12:00:00+01:00",
            2
        ),
        ["2025-10-26T01:30:00+01:00", "2025-10-27T01:30:00+00:00"]
    );
}

// Europe/Berlin: 2025-03-30, 2030-03-31 02:00 CET → 03:00 CEST (gap 02:00–02:59);
// 2025-10-26, 2030-10-27 03:00 CEST → 02:00 CET (02:00–02:59 twice).

#[test]
fn berlin_spring_gap_fixed_job_fires_once_at_0300() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "Europe/Berlin",
            "2025-03-29T12:00:00+01:00",
            2
        ),
        ["2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"]
    );
    assert_eq!(
        fires("0 2 * * *", "Europe/Berlin", "2030-03-30T12:00:00+01:00", 2),
        ["2030-03-31T03:00:00+02:00", "2030-04-01T02:00:00+02:00"]
    );
}

#[test]
fn berlin_autumn_fold_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "Europe/Berlin",
            "2025-10-25T12:00:00+02:00",
            2
        ),
        ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"]
    );
    assert_eq!(
        fires(
            "30 15 2 * * *",
            "Europe/Berlin",
            "2030-10-27T00:00:00+02:00",
            2
        ),
        ["2030-10-27T02:15:30+02:00", "2030-10-28T02:15:30+01:00"]
    );
}

#[test]
fn berlin_autumn_fold_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "*/30 2 * * *",
            "Europe/Berlin",
            "2025-10-26T01:59:00+02:00",
            5
        ),
        [
            "2025-10-26T02:00:00+02:00",
            "2025-10-26T02:30:00+02:00",
            "2025-10-26T02:00:00+01:00",
            "2025-10-26T02:30:00+01:00",
            "2025-10-27T02:00:00+01:00",
        ]
    );
}

// Australia/Sydney (southern hemisphere): 2019-10-06, 2025-10-05 02:00 AEST → 03:00 AEDT
// (gap 02:00–02:59); 2019-04-07, 2025-04-06 03:00 AEDT → 02:00 AEST (02:00–02:59 twice).

#[test]
fn sydney_october_gap_fixed_job_fires_once_at_0300() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "Australia/Sydney",
            "2025-10-04T12:00:00+10:00",
            2
        ),
        ["2025-10-05T03:00:00+11:00", "2025-10-06T02:30:00+11:00"]
    );
    assert_eq!(
        fires(
            "0 2 * * *",
            "Australia/Sydney",
            "2019-10-05T00:00:00+10:00",
            3
        ),
        [
            "2019-10-05T02:00:00+10:00",
            "2019-10-06T03:00:00+11:00",
            "2019-10-07T02:00:00+11:00",
        ]
    );
}

#[test]
fn sydney_october_gap_wildcard_job_loses_the_gap() {
    assert_eq!(
        fires(
            "*/30 2 * * *",
            "Australia/Sydney",
            "2025-10-05T01:59:00+10:00",
            1
        ),
        ["2025-10-06T02:00:00+11:00"]
    );
}

#[test]
fn sydney_april_fold_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "Australia/Sydney",
            "2025-04-05T12:00:00+11:00",
            2
        ),
        ["2025-04-06T02:30:00+11:00", "2025-04-07T02:30:00+10:00"]
    );
}

#[test]
fn sydney_april_fold_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "*/30 2 * * *",
            "Australia/Sydney",
            "2019-04-07T01:59:00+11:00",
            5
        ),
        [
            "2019-04-07T02:00:00+11:00",
            "2019-04-07T02:30:00+11:00",
            "2019-04-07T02:00:00+10:00",
            "2019-04-07T02:30:00+10:00",
            "2019-04-08T02:00:00+10:00",
        ]
    );
}

// Australia/Lord_Howe (30-minute shift): 2025-10-05, 2030-10-06 02:00 +10:30 → 02:30 +11
// (gap 02:00–02:29); 2025-04-06 02:00 +11 → 01:30 +10:30 (01:30–01:59 twice).

#[test]
fn lord_howe_october_gap_fixed_job_fires_once_at_0230() {
    assert_eq!(
        fires(
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-04T12:00:00+10:30",
            2
        ),
        ["2025-10-05T02:30:00+11:00", "2025-10-06T02:15:00+11:00"]
    );
    assert_eq!(
        fires(
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2030-10-05T12:00:00+10:30",
            1
        ),
        ["2030-10-06T02:30:00+11:00"]
    );
}

#[test]
fn lord_howe_october_time_after_the_half_hour_gap_is_unaffected() {
    assert_eq!(
        fires(
            "45 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-04T12:00:00+10:30",
            1
        ),
        ["2025-10-05T02:45:00+11:00"]
    );
}

#[test]
fn lord_howe_october_gap_times_merge_and_later_time_still_fires() {
    // 02:00 and 02:20 are in the gap (one catch-up at 02:30); 02:40 exists.
    assert_eq!(
        fires(
            "0,20,40 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-04T12:00:00+10:30",
            3
        ),
        [
            "2025-10-05T02:30:00+11:00",
            "2025-10-05T02:40:00+11:00",
            "2025-10-06T02:00:00+11:00",
        ]
    );
}

#[test]
fn lord_howe_october_gap_wildcard_job_loses_half_an_hour() {
    assert_eq!(
        fires(
            "*/10 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-05T01:55:00+10:30",
            3
        ),
        [
            "2025-10-05T02:30:00+11:00",
            "2025-10-05T02:40:00+11:00",
            "2025-10-05T02:50:00+11:00",
        ]
    );
}

#[test]
fn lord_howe_april_fold_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2025-04-05T12:00:00+11:00",
            2
        ),
        ["2025-04-06T01:45:00+11:00", "2025-04-07T01:45:00+10:30"]
    );
    // 01:15 is before the repeated half hour: it happens once, at +11.
    assert_eq!(
        fires(
            "15 1 * * *",
            "Australia/Lord_Howe",
            "2025-04-05T12:00:00+11:00",
            2
        ),
        ["2025-04-06T01:15:00+11:00", "2025-04-07T01:15:00+10:30"]
    );
}

#[test]
fn lord_howe_april_fold_wildcard_job_repeats_only_the_repeated_half_hour() {
    assert_eq!(
        fires(
            "*/15 1 * * *",
            "Australia/Lord_Howe",
            "2025-04-06T00:50:00+11:00",
            7
        ),
        [
            "2025-04-06T01:00:00+11:00",
            "2025-04-06T01:15:00+11:00",
            "2025-04-06T01:30:00+11:00",
            "2025-04-06T01:45:00+11:00",
            "2025-04-06T01:30:00+10:30",
            "2025-04-06T01:45:00+10:30",
            "2025-04-07T01:00:00+10:30",
        ]
    );
}

// Pacific/Chatham (:45 offset): 2019-09-29, 2025-09-28 02:45 +12:45 → 03:45 +13:45
// (gap 02:45–03:44); 2025-04-06 03:45 +13:45 → 02:45 +12:45 (02:45–03:44 twice).

#[test]
fn chatham_september_gap_fixed_job_fires_once_at_0345() {
    assert_eq!(
        fires(
            "0 3 * * *",
            "Pacific/Chatham",
            "2025-09-27T12:00:00+12:45",
            2
        ),
        ["2025-09-28T03:45:00+13:45", "2025-09-29T03:00:00+13:45"]
    );
    assert_eq!(
        fires(
            "50 2 * * *",
            "Pacific/Chatham",
            "2025-09-27T12:00:00+12:45",
            1
        ),
        ["2025-09-28T03:45:00+13:45"]
    );
    assert_eq!(
        fires(
            "0 0 3 * * *",
            "Pacific/Chatham",
            "2019-09-28T12:00:00+12:45",
            1
        ),
        ["2019-09-29T03:45:00+13:45"]
    );
}

#[test]
fn chatham_september_time_before_the_gap_is_unaffected() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "Pacific/Chatham",
            "2025-09-27T12:00:00+12:45",
            1
        ),
        ["2025-09-28T02:30:00+12:45"]
    );
}

#[test]
fn chatham_september_gap_wildcard_job_loses_the_gap() {
    assert_eq!(
        fires(
            "*/15 3 * * *",
            "Pacific/Chatham",
            "2025-09-28T02:00:00+12:45",
            2
        ),
        ["2025-09-28T03:45:00+13:45", "2025-09-29T03:00:00+13:45"]
    );
}

#[test]
fn chatham_april_fold_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "0 3 * * *",
            "Pacific/Chatham",
            "2025-04-05T12:00:00+13:45",
            2
        ),
        ["2025-04-06T03:00:00+13:45", "2025-04-07T03:00:00+12:45"]
    );
}

#[test]
fn chatham_april_fold_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "*/30 3 * * *",
            "Pacific/Chatham",
            "2025-04-06T02:59:00+13:45",
            5
        ),
        [
            "2025-04-06T03:00:00+13:45",
            "2025-04-06T03:30:00+13:45",
            "2025-04-06T03:00:00+12:45",
            "2025-04-06T03:30:00+12:45",
            "2025-04-07T03:00:00+12:45",
        ]
    );
}

// America/Sao_Paulo: 2018-11-04 00:00 -03 → 01:00 -02 (midnight does not exist);
// 2019-02-17 00:00 -02 → 2019-02-16 23:00 -03 (23:00–23:59 on the 16th twice). No DST since.

#[test]
fn sao_paulo_2018_missing_midnight_daily_job_fires_at_0100() {
    assert_eq!(
        fires(
            "@daily",
            "America/Sao_Paulo",
            "2018-11-03T12:00:00-03:00",
            2
        ),
        ["2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00"]
    );
}

#[test]
fn sao_paulo_2018_missing_midnight_wildcard_job_loses_the_hour() {
    assert_eq!(
        fires(
            "*/30 0 * * *",
            "America/Sao_Paulo",
            "2018-11-03T23:50:00-03:00",
            1
        ),
        ["2018-11-05T00:00:00-02:00"]
    );
}

#[test]
fn sao_paulo_2019_fold_before_midnight_fixed_job_fires_in_first_pass_only() {
    assert_eq!(
        fires(
            "30 23 * * *",
            "America/Sao_Paulo",
            "2019-02-16T12:00:00-02:00",
            2
        ),
        ["2019-02-16T23:30:00-02:00", "2019-02-17T23:30:00-03:00"]
    );
}

#[test]
fn sao_paulo_2019_fold_before_midnight_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "*/30 23 * * *",
            "America/Sao_Paulo",
            "2019-02-16T22:45:00-02:00",
            5
        ),
        [
            "2019-02-16T23:00:00-02:00",
            "2019-02-16T23:30:00-02:00",
            "2019-02-16T23:00:00-03:00",
            "2019-02-16T23:30:00-03:00",
            "2019-02-17T23:00:00-03:00",
        ]
    );
}

#[test]
fn sao_paulo_has_no_dst_after_2019() {
    assert_eq!(
        fires(
            "0 0 * * *",
            "America/Sao_Paulo",
            "2025-11-01T12:00:00-03:00",
            3
        ),
        [
            "2025-11-02T00:00:00-03:00",
            "2025-11-03T00:00:00-03:00",
            "2025-11-04T00:00:00-03:00",
        ]
    );
    assert_eq!(
        fires(
            "30 23 * * *",
            "America/Sao_Paulo",
            "2025-02-15T12:00:00-03:00",
            2
        ),
        ["2025-02-15T23:30:00-03:00", "2025-02-16T23:30:00-03:00"]
    );
    assert_eq!(
        fires(
            "0 0 * * *",
            "America/Sao_Paulo",
            "2030-11-02T12:00:00-03:00",
            1
        ),
        ["2030-11-03T00:00:00-03:00"]
    );
}

// America/St_Johns until 2011 changed at 00:01: 2010-03-14 00:01 -03:30 → 01:01 -02:30
// (gap 00:01–01:00); 2010-11-07 00:01 -02:30 → 2010-11-06 23:01 -03:30 (23:01–00:00 twice,
// across midnight).

#[test]
fn st_johns_2010_gap_at_0001_fixed_job_catches_up_at_0101() {
    assert_eq!(
        fires(
            "30 0 * * *",
            "America/St_Johns",
            "2010-03-13T12:00:00-03:30",
            2
        ),
        ["2010-03-14T01:01:00-02:30", "2010-03-15T00:30:00-02:30"]
    );
    // Midnight itself still exists on that day.
    assert_eq!(
        fires(
            "0 0 * * *",
            "America/St_Johns",
            "2010-03-13T12:00:00-03:30",
            1
        ),
        ["2010-03-14T00:00:00-03:30"]
    );
}

#[test]
fn st_johns_2010_fold_across_midnight_fixed_jobs_fire_in_first_pass_only() {
    assert_eq!(
        fires(
            "30 23 * * *",
            "America/St_Johns",
            "2010-11-06T12:00:00-02:30",
            2
        ),
        ["2010-11-06T23:30:00-02:30", "2010-11-07T23:30:00-03:30"]
    );
    assert_eq!(
        fires(
            "0 0 * * *",
            "America/St_Johns",
            "2010-11-06T12:00:00-02:30",
            2
        ),
        ["2010-11-07T00:00:00-02:30", "2010-11-08T00:00:00-03:30"]
    );
}

#[test]
fn st_johns_2010_fold_across_midnight_wildcard_job_fires_in_both_passes() {
    assert_eq!(
        fires(
            "*/30 * * * *",
            "America/St_Johns",
            "2010-11-06T23:15:00-02:30",
            5
        ),
        [
            "2010-11-06T23:30:00-02:30",
            "2010-11-07T00:00:00-02:30",
            "2010-11-06T23:30:00-03:30",
            "2010-11-07T00:00:00-03:30",
            "2010-11-07T00:30:00-03:30",
        ]
    );
}

// Pacific/Apia skipped 2011-12-30 entirely: 2011-12-30 00:00 -10 → 2011-12-31 00:00 +14. A 24-hour
// jump is a clock correction, not DST: the wall clock is followed and nothing is caught up.

#[test]
fn apia_2011_skipped_day_is_a_clock_correction_without_catch_up() {
    assert_eq!(
        fires("30 2 * * *", "Pacific/Apia", "2011-12-29T12:00:00-10:00", 2),
        ["2011-12-31T02:30:00+14:00", "2012-01-01T02:30:00+14:00"]
    );
    assert_eq!(
        fires("0 12 * * *", "Pacific/Apia", "2011-12-29T13:00:00-10:00", 1),
        ["2011-12-31T12:00:00+14:00"]
    );
}

// Zones without DST: every wall time exists exactly once.

#[test]
fn utc_and_kolkata_fire_at_every_matching_wall_time() {
    assert_eq!(
        fires("30 2 * * *", "UTC", "2025-03-09T00:00:00Z", 2),
        ["2025-03-09T02:30:00+00:00", "2025-03-10T02:30:00+00:00"]
    );
    assert_eq!(
        fires(
            "*/30 1 * * *",
            "Asia/Kolkata",
            "2025-11-02T00:45:00+05:30",
            3
        ),
        [
            "2025-11-02T01:00:00+05:30",
            "2025-11-02T01:30:00+05:30",
            "2025-11-03T01:00:00+05:30",
        ]
    );
}
