//! `aggregate` on hand-built records in both backends: every statistic's exact value, window
//! boundaries (a record exactly at a period's start is in it, one exactly at `as_of` is not),
//! calendar periods across New York's DST changes, and a group that fails without stopping the
//! others.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};
use tidings_core::{ManualClock, Zone};
use tidings_engine::{Job, JobContext, JobError};
use tidings_jobs::{AggregateJob, AggregateSettings};
use tidings_store::{
    FeedbackRecord, FeedbackUpsertParams, GroupStats, RunEnqueueParams, StatsGrouping, StatsPeriod,
    StatsSnapshot, Store, TagCount,
};
use tidings_storetest::fixtures::{adhoc, claim_one, enqueue, ts};
use tidings_storetest::{TestBackend, TestStore};
use tokio_util::sync::CancellationToken;

struct Rec {
    id: &'static str,
    created_at: Option<&'static str>,
    group: Option<&'static str>,
    channel: Option<&'static str>,
    rating: Option<f64>,
    label: Option<&'static str>,
    score: Option<f64>,
    tags: &'static [&'static str],
}

const REC: Rec = Rec {
    id: "",
    created_at: None,
    group: None,
    channel: None,
    rating: None,
    label: None,
    score: None,
    tags: &[],
};

fn record(rec: &Rec) -> FeedbackRecord {
    FeedbackRecord {
        external_id: rec.id.to_owned(),
        created_at: rec.created_at.map(ts),
        updated_at: None,
        customer_name: None,
        customer_email: None,
        channel: rec.channel.map(str::to_owned),
        group: rec.group.map(str::to_owned),
        rating: rec.rating,
        sentiment_label: rec.label.map(str::to_owned),
        sentiment_score: rec.score,
        sentiment_origin: None,
        title: None,
        body: None,
        tags: rec.tags.iter().map(|t| (*t).to_owned()).collect(),
        status: None,
        value: None,
        raw: json!({}).into(),
    }
}

async fn insert(store: &dyn Store, source: &str, records: &[Rec]) {
    store
        .feedback_upsert(FeedbackUpsertParams {
            source: source.to_owned(),
            records: records.iter().map(record).collect(),
            now: ts("2025-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
}

/// Runs `job` as a claimed run at `as_of`; returns its summary and the snapshot written.
async fn aggregate(
    job: &dyn Job,
    store: &Arc<dyn Store>,
    as_of: Timestamp,
    params: Value,
) -> (Result<Value, JobError>, Option<StatsSnapshot>) {
    enqueue(
        &**store,
        RunEnqueueParams {
            params,
            now: as_of,
            ..adhoc("aggregate", as_of)
        },
    )
    .await;
    let run = claim_one(&**store, "aggregate-test", as_of).await;
    let ctx = JobContext::new(
        run,
        CancellationToken::new(),
        Arc::new(ManualClock::new(as_of)),
        store.clone(),
    );
    let outcome = job.run(ctx).await;
    (outcome, store.stats_snapshot_current().await.unwrap())
}

fn stats<'a>(
    snapshot: &'a StatsSnapshot,
    grouping: StatsGrouping,
    group: Option<&str>,
    period: StatsPeriod,
) -> &'a GroupStats {
    &snapshot
        .rows
        .iter()
        .find(|r| r.grouping == grouping && r.group.as_deref() == group && r.period == period)
        .unwrap_or_else(|| panic!("no row {grouping} {group:?} {period}"))
        .stats
}

fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a value");
    assert!((actual - expected).abs() < 1e-9, "{actual} ≠ {expected}");
}

fn tags(list: &[(&str, u64)]) -> Vec<TagCount> {
    list.iter()
        .map(|(tag, count)| TagCount {
            tag: (*tag).to_owned(),
            count: *count,
        })
        .collect()
}

/// As of Wednesday 2025-06-04 12:00 UTC.
const AS_OF: &str = "2025-06-04T12:00:00Z";

async fn every_statistic_has_its_exact_value(backend: TestBackend) {
    let test = TestStore::open(backend).await;
    let store = test.store.clone();
    insert(
        &*store,
        "survey",
        &[
            Rec {
                id: "r1",
                created_at: Some("2025-06-04T11:30:00Z"),
                group: Some("A"),
                channel: Some("email"),
                rating: Some(4.6),
                label: Some("positive"),
                score: Some(0.8),
                tags: &["staff", "food"],
            },
            Rec {
                id: "r2",
                created_at: Some("2025-06-04T10:00:00Z"), // exactly at the previous hour's start
                group: Some("A"),
                channel: Some("chat"),
                rating: Some(2.4),
                label: Some("negative"),
                score: Some(-0.6),
                tags: &["food"],
            },
            Rec {
                id: "r3",
                created_at: Some("2025-06-04T11:00:00Z"), // exactly at the hour's start
                group: Some("B"),
                channel: Some("email"),
                label: Some("mixed"),
                tags: &["staff", "staff"],
                ..REC
            },
            Rec {
                id: "r4",
                created_at: Some("2025-06-04T10:30:00Z"),
                group: Some("A"),
                channel: Some("email"),
                rating: Some(1.0),
                label: Some("neutral"),
                score: Some(0.0),
                ..REC
            },
            Rec {
                id: "r5",
                created_at: Some("2025-06-03T11:59:59Z"), // the day before the last 24 hours
                group: Some("A"),
                channel: Some("email"),
                rating: Some(5.0),
                ..REC
            },
            Rec {
                id: "r6",
                created_at: Some(AS_OF), // not yet
                group: Some("A"),
                channel: Some("email"),
                ..REC
            },
            Rec {
                id: "r7", // no created_at: left out, counted
                group: Some("A"),
                ..REC
            },
        ],
    )
    .await;
    let job = AggregateJob::new(AggregateSettings::default());
    let (summary, snapshot) = aggregate(&job, &store, ts(AS_OF), json!({})).await;
    let summary = summary.unwrap();
    let snapshot = snapshot.unwrap();
    assert_eq!(summary["snapshot_id"], json!(snapshot.meta.id.0));
    assert_eq!(summary["rows_scanned"], 5);
    assert_eq!(summary["without_created_at"], 1);
    assert_eq!(summary["groups"], 5); // A, B; survey; email, chat
    assert_eq!(summary["rows"], 7 * (3 + 2 + 3));
    assert_eq!(summary["failed_groups"], 0);
    assert_eq!(snapshot.meta.as_of, ts(AS_OF));
    assert_eq!(snapshot.meta.zone, "UTC");
    assert_eq!(snapshot.meta.rows_scanned, 5);
    assert_eq!(snapshot.meta.without_created_at, 1);
    assert!(snapshot.meta.run_id.is_some());
    assert_eq!(snapshot.rows.len(), 56);

    let group = StatsGrouping::Group;
    let a_hour = stats(&snapshot, group, Some("A"), StatsPeriod::Hour);
    assert_eq!(
        (a_hour.count, a_hour.previous_count, a_hour.change),
        (1, 2, -1)
    );

    let a_day = stats(&snapshot, group, Some("A"), StatsPeriod::Day);
    assert_eq!((a_day.count, a_day.previous_count, a_day.change), (3, 1, 2));
    assert_eq!(a_day.rating.rated, 3);
    close(a_day.rating.average, 8.0 / 3.0);
    assert_eq!(a_day.rating.histogram, [1, 1, 0, 0, 1]);
    let s = &a_day.sentiment;
    assert_eq!((s.positive, s.neutral, s.negative, s.unknown), (1, 1, 1, 0));
    let shares = s.shares.clone().unwrap();
    close(Some(shares.positive), 1.0 / 3.0);
    close(Some(shares.unknown), 0.0);
    assert_eq!(s.scored, 3);
    close(s.average_score, 0.2 / 3.0);
    assert_eq!(a_day.top_tags, tags(&[("food", 2), ("staff", 1)]));
    assert_eq!(a_day.response_rate, None);
    assert_eq!(a_day.average_response_seconds, None);

    // The record exactly at the hour's start is in it; a tag given twice counts once.
    let b_hour = stats(&snapshot, group, Some("B"), StatsPeriod::Hour);
    assert_eq!((b_hour.count, b_hour.previous_count), (1, 0));
    assert_eq!(b_hour.rating.rated, 0);
    assert_eq!(b_hour.rating.average, None);
    assert_eq!(b_hour.sentiment.unknown, 1);
    close(b_hour.sentiment.shares.clone().map(|s| s.unknown), 1.0);
    assert_eq!(b_hour.sentiment.average_score, None);
    assert_eq!(b_hour.top_tags, tags(&[("staff", 1)]));

    // A period without records: count 0, averages and shares null.
    let b_week_before = stats(&snapshot, group, Some("B"), StatsPeriod::Week7);
    assert_eq!(b_week_before.previous_count, 0);
    let chat_hour = stats(
        &snapshot,
        StatsGrouping::Channel,
        Some("chat"),
        StatsPeriod::Hour,
    );
    assert_eq!(
        (chat_hour.count, chat_hour.previous_count, chat_hour.change),
        (0, 1, -1)
    );
    assert_eq!(chat_hour.rating.average, None);
    assert_eq!(chat_hour.sentiment.shares, None);
    assert!(chat_hour.top_tags.is_empty());

    let all_day = stats(&snapshot, group, None, StatsPeriod::Day);
    assert_eq!((all_day.count, all_day.previous_count), (4, 1));
    assert_eq!(all_day.top_tags, tags(&[("food", 2), ("staff", 2)]));
    let all_week = stats(&snapshot, group, None, StatsPeriod::Week7);
    assert_eq!((all_week.count, all_week.previous_count), (5, 0));
    // Today (UTC) began at 00:00: r1–r4; yesterday up to 12:00 had nothing, r5 came at 11:59:59.
    let today = stats(&snapshot, group, None, StatsPeriod::Today);
    assert_eq!((today.count, today.previous_count), (4, 1));

    let email = stats(
        &snapshot,
        StatsGrouping::Channel,
        Some("email"),
        StatsPeriod::Day,
    );
    assert_eq!(email.count, 3);
    let chat = stats(
        &snapshot,
        StatsGrouping::Channel,
        Some("chat"),
        StatsPeriod::Day,
    );
    assert_eq!(chat.count, 1);
    let survey = stats(
        &snapshot,
        StatsGrouping::Source,
        Some("survey"),
        StatsPeriod::Day,
    );
    assert_eq!(survey.count, 4);
    test.close().await;
}

async fn one_failing_group_does_not_stop_the_others(backend: TestBackend) {
    let test = TestStore::open(backend).await;
    let store = test.store.clone();
    insert(
        &*store,
        "survey",
        &[
            Rec {
                id: "ok",
                created_at: Some("2025-06-04T11:00:00Z"),
                group: Some("A"),
                channel: Some("email"),
                rating: Some(4.0),
                ..REC
            },
            Rec {
                id: "ok2",
                created_at: Some("2025-06-04T09:00:00Z"),
                channel: Some("email"),
                rating: Some(2.0),
                ..REC
            },
        ],
    )
    .await;
    insert(
        &*store,
        "import",
        &[Rec {
            id: "bad",
            created_at: Some("2025-06-04T11:00:00Z"),
            group: Some("C"),
            channel: Some("sms"),
            rating: Some(9.0),
            ..REC
        }],
    )
    .await;
    let job = AggregateJob::new(AggregateSettings::default());
    let (summary, snapshot) = aggregate(&job, &store, ts(AS_OF), json!({})).await;
    let summary = summary.unwrap();
    let snapshot = snapshot.unwrap();
    assert_eq!(summary["failed_groups"], 3);
    let failed: Vec<(StatsGrouping, &str)> = snapshot
        .meta
        .errors
        .iter()
        .map(|e| (e.grouping, e.group.as_str()))
        .collect();
    assert_eq!(
        failed,
        [
            (StatsGrouping::Group, "C"),
            (StatsGrouping::Source, "import"),
            (StatsGrouping::Channel, "sms"),
        ]
    );
    assert!(
        snapshot.meta.errors[0].error.contains("rating 9"),
        "{:?}",
        snapshot.meta.errors
    );
    assert!(
        !snapshot
            .rows
            .iter()
            .any(|r| matches!(r.group.as_deref(), Some("C" | "import" | "sms")))
    );
    // The others are written; `all` sums the groups that did not fail.
    let a = stats(&snapshot, StatsGrouping::Group, Some("A"), StatsPeriod::Day);
    assert_eq!(a.count, 1);
    let none = stats(
        &snapshot,
        StatsGrouping::Group,
        Some("(none)"),
        StatsPeriod::Day,
    );
    assert_eq!(none.count, 1);
    let all = stats(&snapshot, StatsGrouping::Group, None, StatsPeriod::Day);
    assert_eq!(all.count, 2);
    close(all.rating.average, 3.0);
    assert_eq!(snapshot.meta.groups, 2 + 1 + 1);
    test.close().await;
}

fn new_york() -> AggregateJob {
    AggregateJob::new(AggregateSettings {
        zone: Zone::parse("America/New_York").unwrap(),
        ..AggregateSettings::default()
    })
}

fn at(id: &'static str, created_at: &'static str) -> Rec {
    Rec {
        id,
        created_at: Some(created_at),
        ..REC
    }
}

/// Sunday 2025-03-09, 12:00 EDT: the day had 23 hours (02:00 EST → 03:00 EDT).
async fn calendar_periods_across_spring_forward(backend: TestBackend) {
    let test = TestStore::open(backend).await;
    let store = test.store.clone();
    insert(
        &*store,
        "s",
        &[
            at("today-start", "2025-03-09T05:00:00Z"), // 00:00 EST, today's first instant
            at("last-night", "2025-03-09T04:59:59Z"),  // 23:59:59 on the 8th
            at("yesterday-11", "2025-03-08T16:59:59Z"), // 11:59:59 EST on the 8th
            at("monday", "2025-03-03T05:00:00Z"),      // Monday 00:00 EST
            at("sunday-2nd", "2025-03-03T04:59:59Z"),  // Sunday the 2nd, 23:59:59
            at("feb-28", "2025-03-01T04:59:59Z"),      // 23:59:59 on February 28
            at("feb-9", "2025-02-09T16:59:59Z"),       // 11:59:59 on February 9
        ],
    )
    .await;
    let (summary, snapshot) =
        aggregate(&new_york(), &store, ts("2025-03-09T16:00:00Z"), json!({})).await;
    summary.unwrap();
    let snapshot = snapshot.unwrap();
    assert_eq!(snapshot.meta.zone, "America/New_York");
    let all = |period| stats(&snapshot, StatsGrouping::Group, None, period);
    let today = all(StatsPeriod::Today);
    assert_eq!((today.count, today.previous_count), (1, 1));
    let week = all(StatsPeriod::CalendarWeek);
    assert_eq!((week.count, week.previous_count), (4, 1));
    let month = all(StatsPeriod::CalendarMonth);
    assert_eq!((month.count, month.previous_count), (5, 1));
    test.close().await;
}

/// Sunday 2025-11-02, 12:00 EST: the day had 25 hours (02:00 EDT → 01:00 EST).
async fn calendar_periods_across_fall_back(backend: TestBackend) {
    let test = TestStore::open(backend).await;
    let store = test.store.clone();
    insert(
        &*store,
        "s",
        &[
            at("midnight", "2025-11-02T04:00:00Z"),       // 00:00 EDT
            at("first-0130", "2025-11-02T05:30:00Z"),     // 01:30 EDT
            at("second-0130", "2025-11-02T06:30:00Z"),    // 01:30 EST
            at("last-night", "2025-11-02T03:59:59Z"),     // 23:59:59 EDT on the 1st
            at("yesterday-1159", "2025-11-01T15:59:59Z"), // 11:59:59 EDT on the 1st
            at("yesterday-noon", "2025-11-01T16:00:00Z"), // 12:00 EDT: past the same point
        ],
    )
    .await;
    let (summary, snapshot) =
        aggregate(&new_york(), &store, ts("2025-11-02T17:00:00Z"), json!({})).await;
    summary.unwrap();
    let snapshot = snapshot.unwrap();
    let today = stats(&snapshot, StatsGrouping::Group, None, StatsPeriod::Today);
    assert_eq!((today.count, today.previous_count), (3, 1));
    // 24h is real time: 2025-11-01T17:00Z onwards.
    let day = stats(&snapshot, StatsGrouping::Group, None, StatsPeriod::Day);
    assert_eq!((day.count, day.previous_count), (4, 2));
    test.close().await;
}

async fn params_choose_the_groupings_and_bad_ones_are_refused(backend: TestBackend) {
    let test = TestStore::open(backend).await;
    let store = test.store.clone();
    insert(&*store, "s", &[at("x", "2025-06-04T11:00:00Z")]).await;
    let job = AggregateJob::new(AggregateSettings::default());
    let error = Job::validate(&job, &json!({ "groupings": ["venue"] })).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("groupings"));
    assert!(
        error.message.contains("unknown grouping `venue`"),
        "{error}"
    );
    assert!(Job::validate(&job, &json!({ "groupings": [] })).is_err());
    assert!(Job::validate(&job, &json!({ "zone": "UTC" })).is_err());
    let (summary, snapshot) =
        aggregate(&job, &store, ts(AS_OF), json!({ "groupings": ["channel"] })).await;
    assert_eq!(summary.unwrap()["rows"], 14);
    assert!(
        snapshot
            .unwrap()
            .rows
            .iter()
            .all(|r| r.grouping == StatsGrouping::Channel)
    );
    test.close().await;
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod aggregate_sqlite {
            $(#[tokio::test] async fn $case() { super::$case(super::TestBackend::Sqlite).await; })*
        }
        mod aggregate_postgres {
            $(#[tokio::test] async fn $case() { super::$case(super::TestBackend::Postgres).await; })*
        }
    };
}

on_both_backends!(
    every_statistic_has_its_exact_value,
    one_failing_group_does_not_stop_the_others,
    calendar_periods_across_spring_forward,
    calendar_periods_across_fall_back,
    params_choose_the_groupings_and_bad_ones_are_refused,
);
