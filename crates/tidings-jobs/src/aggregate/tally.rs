//! The statistics of a whole scan, computed in one pass over the records: each record is
//! checked once, its tags interned once, and counted into its group of every grouping for each
//! period window it falls in. Pure: no I/O.
//!
//! A record whose values cannot be counted (a rating that does not round to 1–5, a sentiment
//! score that is not a number in −1…1) fails the groups it belongs to: their statistics are
//! left out of the snapshot and their error recorded, the other groups are kept. Each
//! grouping's `all` row is the sum of its groups that did not fail.

use std::collections::{BTreeMap, HashMap};

use tidings_store::{
    FeedbackStatsItem, GroupStats, RatingStats, SentimentShares, SentimentStats, StatsGroupError,
    StatsGrouping, StatsPeriod, StatsRow, TagCount,
};

use super::periods::PeriodWindows;

/// The group of records without a value for the grouping's column.
pub const NO_GROUP: &str = "(none)";

/// How many tags `top_tags` lists.
const TOP_TAGS: usize = 10;

const PERIODS: usize = StatsPeriod::ALL.len();

/// The counts of one group over one period's current window.
#[derive(Debug, Clone, Default)]
struct Tally {
    count: u64,
    previous: u64,
    rated: u64,
    rating_sum: f64,
    histogram: [u64; 5],
    positive: u64,
    neutral: u64,
    negative: u64,
    unknown: u64,
    scored: u64,
    score_sum: f64,
    /// By interned tag.
    tags: HashMap<u32, u64>,
}

impl Tally {
    fn add(&mut self, record: &Checked) {
        self.count += 1;
        if let Some((rating, bucket)) = record.rating {
            self.rated += 1;
            self.rating_sum += rating;
            self.histogram[bucket] += 1;
        }
        match record.sentiment {
            Sentiment::Positive => self.positive += 1,
            Sentiment::Neutral => self.neutral += 1,
            Sentiment::Negative => self.negative += 1,
            Sentiment::Unknown => self.unknown += 1,
        }
        if let Some(score) = record.score {
            self.scored += 1;
            self.score_sum += score;
        }
        for tag in &record.tags {
            *self.tags.entry(*tag).or_default() += 1;
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.previous += other.previous;
        self.rated += other.rated;
        self.rating_sum += other.rating_sum;
        for (mine, theirs) in self.histogram.iter_mut().zip(other.histogram) {
            *mine += theirs;
        }
        self.positive += other.positive;
        self.neutral += other.neutral;
        self.negative += other.negative;
        self.unknown += other.unknown;
        self.scored += other.scored;
        self.score_sum += other.score_sum;
        for (tag, count) in &other.tags {
            *self.tags.entry(*tag).or_default() += count;
        }
    }

    fn stats(&self, tag_names: &[String]) -> GroupStats {
        let mean = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
        let share = |n: u64| n as f64 / self.count as f64;
        let mut top: Vec<(&str, u64)> = self
            .tags
            .iter()
            .map(|(tag, count)| (tag_names[*tag as usize].as_str(), *count))
            .collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top.truncate(TOP_TAGS);
        GroupStats {
            count: self.count,
            previous_count: self.previous,
            change: i64::try_from(self.count).unwrap_or(i64::MAX)
                - i64::try_from(self.previous).unwrap_or(i64::MAX),
            rating: RatingStats {
                rated: self.rated,
                average: mean(self.rating_sum, self.rated),
                histogram: self.histogram,
            },
            sentiment: SentimentStats {
                positive: self.positive,
                neutral: self.neutral,
                negative: self.negative,
                unknown: self.unknown,
                shares: (self.count > 0).then(|| SentimentShares {
                    positive: share(self.positive),
                    neutral: share(self.neutral),
                    negative: share(self.negative),
                    unknown: share(self.unknown),
                }),
                scored: self.scored,
                average_score: mean(self.score_sum, self.scored),
            },
            top_tags: top
                .into_iter()
                .map(|(tag, count)| TagCount {
                    tag: tag.to_owned(),
                    count,
                })
                .collect(),
            response_rate: None,
            average_response_seconds: None,
        }
    }
}

/// One group's tallies, a period each, or why it failed.
#[derive(Debug, Clone, Default)]
struct GroupTally {
    periods: [Tally; PERIODS],
    /// The first problem found; the group is then left out.
    error: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Sentiment {
    Positive,
    Neutral,
    Negative,
    Unknown,
}

/// A record's values, checked.
struct Checked {
    /// The rating and its bucket (0 for 1, … 4 for 5).
    rating: Option<(f64, usize)>,
    sentiment: Sentiment,
    score: Option<f64>,
    tags: Vec<u32>,
}

/// The statistics of one scan in the making; see the module documentation.
#[derive(Debug)]
pub struct Tallies {
    windows: Vec<PeriodWindows>,
    groupings: Vec<StatsGrouping>,
    groups: Vec<HashMap<String, GroupTally>>,
    tag_ids: HashMap<String, u32>,
    tag_names: Vec<String>,
}

/// What a finished scan gives: the snapshot's rows and the groups that failed.
#[derive(Debug, Clone)]
pub struct Aggregated {
    pub rows: Vec<StatsRow>,
    pub errors: Vec<StatsGroupError>,
    /// Groups with statistics over every grouping (the `all` rows not counted).
    pub groups: u64,
}

impl Tallies {
    /// `windows` in the order of [`StatsPeriod::ALL`].
    pub fn new(windows: Vec<PeriodWindows>, groupings: Vec<StatsGrouping>) -> Tallies {
        let groups = groupings.iter().map(|_| HashMap::new()).collect();
        Tallies {
            windows,
            groupings,
            groups,
            tag_ids: HashMap::new(),
            tag_names: Vec::new(),
        }
    }

    fn check(&mut self, item: &FeedbackStatsItem) -> Result<Checked, String> {
        let rating = match item.rating {
            None => None,
            Some(rating) => {
                let rounded = (rating + 0.5).floor();
                if !(1.0..=5.0).contains(&rounded) {
                    return Err(format!(
                        "a record created at {} has rating {rating}, which does not round to 1–5",
                        item.created_at
                    ));
                }
                Some((rating, rounded as usize - 1))
            }
        };
        if let Some(score) = item.sentiment_score
            && !(-1.0..=1.0).contains(&score)
        {
            return Err(format!(
                "a record created at {} has sentiment score {score}, outside −1…1",
                item.created_at
            ));
        }
        let sentiment = match item.sentiment_label.as_deref() {
            Some("positive") => Sentiment::Positive,
            Some("neutral") => Sentiment::Neutral,
            Some("negative") => Sentiment::Negative,
            _ => Sentiment::Unknown,
        };
        let mut tags = Vec::with_capacity(item.tags.len());
        for tag in &item.tags {
            let id = match self.tag_ids.get(tag.as_str()) {
                Some(id) => *id,
                None => {
                    let id = u32::try_from(self.tag_names.len()).unwrap_or(u32::MAX);
                    self.tag_ids.insert(tag.clone(), id);
                    self.tag_names.push(tag.clone());
                    id
                }
            };
            // A tag given twice on one record counts once.
            if !tags.contains(&id) {
                tags.push(id);
            }
        }
        Ok(Checked {
            rating,
            sentiment,
            score: item.sentiment_score,
            tags,
        })
    }

    /// Counts one record into its group of every grouping.
    pub fn add(&mut self, item: &FeedbackStatsItem) {
        let mut current = [false; PERIODS];
        let mut previous = [false; PERIODS];
        for (i, window) in self.windows.iter().enumerate() {
            current[i] = window.current.contains(item.created_at);
            previous[i] = window.previous.contains(item.created_at);
        }
        if !current.iter().chain(&previous).any(|&x| x) {
            return;
        }
        // Only what a current window counts is checked: a record only in a previous window
        // adds nothing but its count.
        let checked = if current.iter().any(|&x| x) {
            Some(self.check(item))
        } else {
            None
        };
        for (grouping, groups) in self.groupings.iter().zip(&mut self.groups) {
            let key = match grouping {
                StatsGrouping::Group => item.group.as_deref(),
                StatsGrouping::Source => Some(item.source.as_str()),
                StatsGrouping::Channel => item.channel.as_deref(),
            }
            .unwrap_or(NO_GROUP);
            let group = match groups.get_mut(key) {
                Some(group) => group,
                None => groups.entry(key.to_owned()).or_default(),
            };
            if group.error.is_some() {
                continue;
            }
            match &checked {
                Some(Err(error)) => {
                    group.error = Some(error.clone());
                    continue;
                }
                Some(Ok(checked)) => {
                    for (tally, _) in group.periods.iter_mut().zip(current).filter(|(_, x)| *x) {
                        tally.add(checked);
                    }
                }
                None => {}
            }
            for (tally, _) in group.periods.iter_mut().zip(previous).filter(|(_, x)| *x) {
                tally.previous += 1;
            }
        }
    }

    /// The snapshot's rows: per grouping, each group that did not fail and `all`, each for
    /// every period; groups sorted by key. Failed groups are logged and listed in `errors`.
    pub fn finish(self) -> Aggregated {
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        let mut groups = 0;
        for (grouping, tallies) in self.groupings.iter().zip(self.groups) {
            let mut all: [Tally; PERIODS] = Default::default();
            let sorted: BTreeMap<String, GroupTally> = tallies.into_iter().collect();
            for (key, tally) in sorted {
                if let Some(error) = tally.error {
                    tracing::warn!(%grouping, group = %key, %error, "statistics of a group failed; left out");
                    errors.push(StatsGroupError {
                        grouping: *grouping,
                        group: key,
                        error,
                    });
                    continue;
                }
                groups += 1;
                for (period, (tally, sum)) in StatsPeriod::ALL
                    .into_iter()
                    .zip(tally.periods.iter().zip(&mut all))
                {
                    sum.merge(tally);
                    rows.push(StatsRow {
                        grouping: *grouping,
                        group: Some(key.clone()),
                        period,
                        stats: tally.stats(&self.tag_names),
                    });
                }
            }
            for (period, sum) in StatsPeriod::ALL.into_iter().zip(&all) {
                rows.push(StatsRow {
                    grouping: *grouping,
                    group: None,
                    period,
                    stats: sum.stats(&self.tag_names),
                });
            }
        }
        Aggregated {
            rows,
            errors,
            groups,
        }
    }
}
