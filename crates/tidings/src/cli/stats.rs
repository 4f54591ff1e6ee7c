//! `tidings stats`: the latest statistics snapshot as a table — one row per group for a grouping
//! and period, the `all` row last — or as JSON.

use std::io::Write;

use anyhow::anyhow;
use clap::Args;
use tidings_store::{StatsGrouping, StatsPeriod, StatsRow};

use super::session::{Session, store_failure};
use super::text::{Table, instant, write, write_json};
use super::{DatabaseArgs, Failure, GlobalArgs};

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// What the rows are per: group, source or channel
    #[arg(long, default_value = "group", value_parser = parse_grouping)]
    grouping: StatsGrouping,
    /// 1h, 24h, 7d, 30d, today, week or month
    #[arg(long, default_value = "24h", value_parser = parse_period)]
    period: StatsPeriod,
    /// Print the snapshot's rows for this grouping and period, and its metadata, as JSON
    #[arg(long)]
    json: bool,
}

fn parse_grouping(text: &str) -> Result<StatsGrouping, String> {
    StatsGrouping::parse(text).ok_or_else(|| "expected group, source or channel".to_owned())
}

fn parse_period(text: &str) -> Result<StatsPeriod, String> {
    StatsPeriod::parse(text)
        .ok_or_else(|| "expected 1h, 24h, 7d, 30d, today, week or month".to_owned())
}

impl StatsArgs {
    pub async fn run(self, global: &GlobalArgs, out: &mut dyn Write) -> Result<(), Failure> {
        let session = Session::open(global, &self.database).await?;
        let Some(snapshot) = session
            .store()
            .stats_snapshot_current()
            .await
            .map_err(store_failure)?
        else {
            return Err(Failure::runtime(anyhow!(
                "no statistics yet: they are computed by the `aggregate` job (the stats:refresh \
                 schedule of a running `tidings serve`, or `tidings schedules run stats:refresh`)"
            )));
        };
        let mut rows: Vec<&StatsRow> = snapshot
            .rows
            .iter()
            .filter(|row| row.grouping == self.grouping && row.period == self.period)
            .collect();
        // Groups by count, largest first; the `all` row last.
        rows.sort_by(|a, b| {
            (
                a.group.is_none(),
                std::cmp::Reverse(a.stats.count),
                &a.group,
            )
                .cmp(&(
                    b.group.is_none(),
                    std::cmp::Reverse(b.stats.count),
                    &b.group,
                ))
        });
        if self.json {
            return write_json(
                out,
                &serde_json::json!({ "snapshot": snapshot.meta, "rows": rows }),
            );
        }
        let zone = session.zone();
        let meta = &snapshot.meta;
        let mut text = format!(
            "statistics per {} over {}, as of {} ({} records scanned in {} ms; {} groups{})\n",
            self.grouping.as_str(),
            self.period.as_str(),
            instant(meta.as_of, zone),
            meta.rows_scanned,
            meta.duration_ms,
            meta.groups,
            if meta.errors.is_empty() {
                String::new()
            } else {
                format!("; {} failed", meta.errors.len())
            }
        );
        let mut table = Table::new(&[
            "GROUP", "COUNT", "CHANGE", "RATING", "POSITIVE", "NEUTRAL", "NEGATIVE", "TOP TAGS",
        ]);
        for row in &rows {
            let stats = &row.stats;
            let share = |n: u64| {
                if stats.count == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.0}%", n as f64 * 100.0 / stats.count as f64)
                }
            };
            let tags: Vec<String> = stats
                .top_tags
                .iter()
                .take(3)
                .map(|tag| format!("{} {}", tag.tag, tag.count))
                .collect();
            table.row(vec![
                row.group.clone().unwrap_or_else(|| "(all)".to_owned()),
                stats.count.to_string(),
                format!("{:+}", stats.change),
                stats
                    .rating
                    .average
                    .map_or_else(|| "-".to_owned(), |average| format!("{average:.2}")),
                share(stats.sentiment.positive),
                share(stats.sentiment.neutral),
                share(stats.sentiment.negative),
                tags.join(", "),
            ]);
        }
        text.push_str(&table.render());
        write(out, &text)
    }
}
