//! `tidings cron next` and `tidings cron explain`: the cron dialect of CRON.md from the command
//! line, with no configuration, store or server involved.

use std::io::Write;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use tidings_core::cron::CronExpr;
use tidings_core::{Clock, SystemClock, Zone};

use super::Failure;

#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Print the next fire times of an expression, one RFC 3339 instant per line
    Next(NextArgs),
    /// Describe an expression in plain English, with its day rule, DST behaviour and next fires
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// A cron expression (5 fields, 6 with seconds first, or a macro such as @daily); quote it
    #[arg(value_name = "EXPR")]
    expr: String,
    /// IANA time zone whose wall clock the expression follows
    #[arg(long = "tz", value_name = "ZONE", default_value = "UTC")]
    zone: String,
    /// Print fire times strictly after this instant (RFC 3339, e.g. 2025-03-08T12:00:00-05:00)
    /// [default: now]
    #[arg(long, value_name = "RFC3339")]
    after: Option<String>,
    /// How many fire times to print
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: u32,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A cron expression (5 fields, 6 with seconds first, or a macro such as @daily); quote it
    #[arg(value_name = "EXPR")]
    expr: String,
    /// IANA time zone whose wall clock the expression follows
    #[arg(long = "tz", value_name = "ZONE", default_value = "UTC")]
    zone: String,
    /// Show fire times strictly after this instant (RFC 3339) [default: now]
    #[arg(long, value_name = "RFC3339")]
    after: Option<String>,
}

impl CronCommand {
    pub fn run(self, out: &mut dyn Write) -> Result<(), Failure> {
        match self {
            CronCommand::Next(args) => args.run(out),
            CronCommand::Explain(args) => args.run(out),
        }
    }
}

/// The parsed inputs both subcommands share.
struct Query {
    expr: CronExpr,
    zone: Zone,
    after: Timestamp,
}

impl Query {
    fn parse(expr: &str, zone: &str, after: Option<&str>) -> Result<Query, Failure> {
        let expr = CronExpr::parse(expr)
            .map_err(|e| Failure::usage(anyhow!("invalid cron expression: {e}")))?;
        let zone = Zone::parse(zone).map_err(|e| Failure::usage(anyhow!("invalid --tz: {e}")))?;
        let after = match after {
            None => SystemClock.now(),
            Some(text) => parse_instant(text)?,
        };
        Ok(Query { expr, zone, after })
    }
}

fn parse_instant(text: &str) -> Result<Timestamp, Failure> {
    text.trim().parse::<Timestamp>().map_err(|_| {
        Failure::usage(anyhow!(
            "invalid --after `{text}`: expected an RFC 3339 instant with an offset, such as 2025-03-08T12:00:00-05:00 or 2025-03-08T17:00:00Z"
        ))
    })
}

/// An instant as RFC 3339 with the zone's offset at that instant.
fn rfc3339(at: Timestamp, zone: &Zone) -> String {
    at.to_zoned(zone.tz().clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn write_failed(error: std::io::Error) -> Failure {
    Failure::runtime(anyhow::Error::new(error).context("cannot write output"))
}

impl NextArgs {
    fn run(self, out: &mut dyn Write) -> Result<(), Failure> {
        let query = Query::parse(&self.expr, &self.zone, self.after.as_deref())?;
        let mut at = query.after;
        for _ in 0..self.count {
            let Some(next) = query.expr.next_after(query.zone.tz(), at) else {
                tracing::warn!("no more fire times before the year 10000");
                break;
            };
            writeln!(out, "{}", rfc3339(next, &query.zone)).map_err(write_failed)?;
            at = next;
        }
        Ok(())
    }
}

/// How many upcoming fires `explain` lists.
const EXPLAIN_FIRES: usize = 5;

impl ExplainArgs {
    fn run(self, out: &mut dyn Write) -> Result<(), Failure> {
        let query = Query::parse(&self.expr, &self.zone, self.after.as_deref())?;
        let expr = &query.expr;
        let mut text = String::new();
        text.push_str(&format!("{}  ({})\n", expr, query.zone));
        text.push_str(&format!("  {}\n", expr.describe()));
        text.push_str(&format!("days:  {}\n", expr.day_rule().explain()));
        text.push_str(&format!("DST:   {}\n", expr.job_kind().explain()));
        text.push_str(&format!(
            "next {EXPLAIN_FIRES} after {}:\n",
            rfc3339(query.after, &query.zone)
        ));
        for fire in expr.fires_after(query.zone.tz(), query.after, EXPLAIN_FIRES) {
            let weekday = fire.at.to_zoned(query.zone.tz().clone()).strftime("%a");
            text.push_str(&format!("  {}  {weekday}", rfc3339(fire.at, &query.zone)));
            if let Some(note) = fire.note {
                text.push_str(&format!("  DST: {note}"));
            }
            text.push('\n');
        }
        out.write_all(text.as_bytes()).map_err(write_failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(args: &[&str]) -> Result<String, String> {
        use clap::Parser;
        #[derive(Parser)]
        struct Test {
            #[command(subcommand)]
            command: CronCommand,
        }
        let mut argv = vec!["test"];
        argv.extend_from_slice(args);
        let command = Test::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .command;
        let mut out = Vec::new();
        match command.run(&mut out) {
            Ok(()) => Ok(String::from_utf8(out).unwrap()),
            Err(Failure::Usage(e) | Failure::Runtime(e)) => Err(e.to_string()),
        }
    }

    #[test]
    fn next_prints_instants_with_the_zone_offset() {
        let out = next(&[
            "next",
            "30 2 * * *",
            "--tz",
            "America/New_York",
            "--after",
            "2025-03-08T12:00:00-05:00",
            "--count",
            "3",
        ])
        .unwrap();
        assert_eq!(
            out,
            "2025-03-09T03:00:00-04:00\n2025-03-10T02:30:00-04:00\n2025-03-11T02:30:00-04:00\n"
        );
    }

    #[test]
    fn bad_inputs_are_usage_errors_that_say_what_to_fix() {
        let err = next(&["next", "0 25 * * *"]).unwrap_err();
        assert_eq!(
            err,
            "invalid cron expression: hour: value 25 out of range 0-23"
        );
        let err = next(&["next", "* * * * *", "--tz", "Mars/Olympus"]).unwrap_err();
        assert!(
            err.starts_with("invalid --tz: unknown time zone `Mars/Olympus`"),
            "{err}"
        );
        let err = next(&["next", "* * * * *", "--after", "yesterday"]).unwrap_err();
        assert!(err.starts_with("invalid --after `yesterday`"), "{err}");
    }
}
