//! `next_after` per call, tidings beside the `croner` and `cron` crates on the same
//! expressions, zones and start instants. Run with `cargo bench -p tidings-core`.
//!
//! Each benchmark iteration asks for the next fire after one of 1,024 start instants spread over
//! 2025–2026, so the figure is an average over many positions in the calendar, not one lucky
//! start. `cron` cannot express `L`, so that row has no `cron` column.

#![allow(clippy::unwrap_used)] // a benchmark set-up that fails should stop loudly

use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tidings_core::CronExpr;

fn main() {
    divan::main();
}

/// The rows of the comparison: (tidings/croner expression, `cron` crate expression, zone).
const ROWS: [(&str, Option<&str>, &str); 4] = [
    (
        "0 9-18 * * 1-5",
        Some("0 0 9-18 * * Mon-Fri"),
        "America/New_York",
    ),
    ("*/5 * * * *", Some("0 */5 * * * *"), "UTC"),
    ("0 0 L * *", None, "Europe/London"),
    ("0 0 29 2 *", Some("0 0 0 29 2 *"), "UTC"),
];

const STARTS: usize = 1024;

/// Deterministic start instants spread over two years.
fn starts() -> Vec<Timestamp> {
    let base = Timestamp::from_second(1_735_689_600).unwrap(); // 2025-01-01T00:00:00Z
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..STARTS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let offset = (state % (2 * 365 * 86_400)) as i64;
            Timestamp::from_second(base.as_second() + offset).unwrap()
        })
        .collect()
}

/// Benchmark arguments: `EXPR @ ZONE`, one per row.
const ARGS: [&str; 4] = [
    "0 9-18 * * 1-5 @ America/New_York",
    "*/5 * * * * @ UTC",
    "0 0 L * * @ Europe/London",
    "0 0 29 2 * @ UTC",
];

/// The rows `cron` can express (it has no `L`).
const CRON_ARGS: [&str; 3] = [ARGS[0], ARGS[1], ARGS[3]];

fn row(arg: &str) -> (&'static str, Option<&'static str>, &'static str) {
    ROWS[ARGS.iter().position(|a| *a == arg).unwrap()]
}

#[divan::bench(args = ARGS, sample_count = 500)]
fn tidings(bencher: divan::Bencher, arg: &str) {
    let (expr, _, zone) = row(arg);
    let expr = CronExpr::parse(expr).unwrap();
    let tz = TimeZone::get(zone).unwrap();
    let starts = starts();
    let mut i = 0;
    bencher
        .with_inputs(|| {
            i = (i + 1) % STARTS;
            starts[i]
        })
        .bench_local_refs(|start| expr.next_after(&tz, *start));
}

#[divan::bench(args = ARGS, sample_count = 500)]
fn croner(bencher: divan::Bencher, arg: &str) {
    let (expr, _, zone) = row(arg);
    let cron = croner::Cron::from_str(expr).unwrap();
    let tz = TimeZone::get(zone).unwrap();
    let starts: Vec<jiff::Zoned> = starts()
        .into_iter()
        .map(|s| s.to_zoned(tz.clone()))
        .collect();
    let mut i = 0;
    bencher
        .with_inputs(|| {
            i = (i + 1) % STARTS;
            &starts[i]
        })
        .bench_local_refs(|start| cron.find_next_occurrence(*start, false).unwrap());
}

#[divan::bench(args = CRON_ARGS, sample_count = 500)]
fn cron(bencher: divan::Bencher, arg: &str) {
    let (_, expr, zone) = row(arg);
    let expr = expr.unwrap();
    let schedule = cron::Schedule::from_str(expr).unwrap();
    let tz: chrono_tz::Tz = zone.parse().unwrap();
    let starts: Vec<chrono::DateTime<chrono_tz::Tz>> = starts()
        .into_iter()
        .map(|s| {
            chrono::DateTime::from_timestamp(s.as_second(), 0)
                .unwrap()
                .with_timezone(&tz)
        })
        .collect();
    let mut i = 0;
    bencher
        .with_inputs(|| {
            i = (i + 1) % STARTS;
            &starts[i]
        })
        .bench_local_refs(|start| schedule.after(start).next().unwrap());
}
