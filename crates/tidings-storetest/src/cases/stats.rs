//! Dashboard statistics: the feedback scan streams the records of its window and counts those
//! without `created_at`; snapshots are written whole, replace the previous one, and a reader
//! racing a writer sees the previous snapshot or the new one, never a mix.

use tidings_store::{
    FeedbackRecord, FeedbackReplaceParams, FeedbackStatsItem, FeedbackStatsScanParams, GroupStats,
    RunId, StatsGroupError, StatsGrouping, StatsPeriod, StatsRow, StatsSnapshotWriteParams, Store,
};

use crate::fixtures::*;

fn record(external_id: &str, created_at: Option<i64>) -> FeedbackRecord {
    FeedbackRecord {
        external_id: external_id.to_owned(),
        created_at: created_at.map(at),
        updated_at: None,
        customer_name: None,
        customer_email: None,
        channel: Some("email".to_owned()),
        group: Some("Lisbon".to_owned()),
        rating: Some(4.5),
        sentiment_label: Some("positive".to_owned()),
        sentiment_score: Some(0.5),
        sentiment_origin: None,
        title: None,
        body: None,
        tags: vec!["staff".to_owned(), "food".to_owned()],
        status: None,
        value: None,
        raw: serde_json::json!({}).into(),
    }
}

async fn scan(store: &dyn Store, from: i64, to: i64) -> (Vec<FeedbackStatsItem>, u64, u64) {
    let mut items = Vec::new();
    let scanned = store
        .feedback_stats_scan(
            FeedbackStatsScanParams {
                created_from: at(from),
                created_to: at(to),
            },
            &mut |item| items.push(item),
        )
        .await
        .unwrap();
    items.sort_by_key(|item| item.created_at);
    (items, scanned.rows_scanned, scanned.without_created_at)
}

pub async fn stats_scan_streams_the_window_and_counts_records_without_created_at(
    store: &dyn Store,
) {
    let mut records = vec![
        record("before", Some(-101)),
        record("at-start", Some(-100)),
        record("inside", Some(-50)),
        record("at-end", Some(0)),
        record("no-date-1", None),
        record("no-date-2", None),
    ];
    records[2].group = None;
    records[2].tags = Vec::new();
    store
        .feedback_replace_source(FeedbackReplaceParams {
            source: "survey".to_owned(),
            records,
            now: t0(),
        })
        .await
        .unwrap();
    let (items, rows, without) = scan(store, -100, 0).await;
    assert_eq!((rows, without), (2, 2));
    assert_eq!(
        items,
        vec![
            FeedbackStatsItem {
                created_at: at(-100),
                source: "survey".to_owned(),
                group: Some("Lisbon".to_owned()),
                channel: Some("email".to_owned()),
                rating: Some(4.5),
                sentiment_label: Some("positive".to_owned()),
                sentiment_score: Some(0.5),
                tags: vec!["staff".to_owned(), "food".to_owned()],
            },
            FeedbackStatsItem {
                created_at: at(-50),
                source: "survey".to_owned(),
                group: None,
                channel: Some("email".to_owned()),
                rating: Some(4.5),
                sentiment_label: Some("positive".to_owned()),
                sentiment_score: Some(0.5),
                tags: Vec::new(),
            },
        ]
    );
}

/// A snapshot whose every number is `marker`, with `groups` groups × 7 periods + the `all` rows.
fn snapshot(marker: u64, groups: u64) -> StatsSnapshotWriteParams {
    let stats = GroupStats {
        count: marker,
        ..GroupStats::default()
    };
    let mut rows = Vec::new();
    for period in StatsPeriod::ALL {
        for g in 0..groups {
            rows.push(StatsRow {
                grouping: StatsGrouping::Group,
                group: Some(format!("g{g}")),
                period,
                stats: stats.clone(),
            });
        }
        rows.push(StatsRow {
            grouping: StatsGrouping::Group,
            group: None,
            period,
            stats: stats.clone(),
        });
    }
    StatsSnapshotWriteParams {
        as_of: at(i64::try_from(marker).unwrap()),
        computed_at: at(i64::try_from(marker).unwrap() + 1),
        duration_ms: 12,
        rows_scanned: marker,
        without_created_at: 3,
        groups,
        errors: vec![StatsGroupError {
            grouping: StatsGrouping::Channel,
            group: "sms".to_owned(),
            error: format!("bad rating in snapshot {marker}"),
        }],
        zone: "Europe/Lisbon".to_owned(),
        run_id: Some(RunId(7)),
        rows,
    }
}

pub async fn stats_snapshot_write_then_current_round_trips_and_replaces_the_previous(
    store: &dyn Store,
) {
    assert_eq!(store.stats_snapshot_current_id().await.unwrap(), None);
    assert!(store.stats_snapshot_current().await.unwrap().is_none());

    let params = snapshot(1, 3);
    let first = store.stats_snapshot_write(params.clone()).await.unwrap();
    assert_eq!(
        store.stats_snapshot_current_id().await.unwrap(),
        Some(first.id)
    );
    let current = store.stats_snapshot_current().await.unwrap().unwrap();
    assert_eq!(current.meta, first);
    assert_eq!(current.meta.rows_scanned, 1);
    assert_eq!(current.meta.without_created_at, 3);
    assert_eq!(current.meta.groups, 3);
    assert_eq!(current.meta.zone, "Europe/Lisbon");
    assert_eq!(current.meta.errors, params.errors);
    assert_eq!(current.meta.as_of, at(1));
    let mut rows = current.rows.clone();
    let mut expected = params.rows.clone();
    let key = |r: &StatsRow| (r.period, r.group.clone());
    rows.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(rows, expected);

    let second = store.stats_snapshot_write(snapshot(2, 1)).await.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(
        store.stats_snapshot_current_id().await.unwrap(),
        Some(second.id)
    );
    let current = store.stats_snapshot_current().await.unwrap().unwrap();
    assert_eq!(current.meta.id, second.id);
    assert_eq!(
        current.rows.len(),
        7 * 2,
        "the previous snapshot's rows are gone"
    );
    assert!(current.rows.iter().all(|r| r.stats.count == 2));
}

/// A reader loop during snapshot writes sees, each time, one whole snapshot: its metadata and
/// every row from the same write.
pub async fn stats_snapshot_swap_is_atomic_under_concurrent_reads(store: &SharedStore) {
    store.stats_snapshot_write(snapshot(1, 50)).await.unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for marker in 2..=21 {
                let groups = if marker % 2 == 0 { 20 } else { 50 };
                store
                    .stats_snapshot_write(snapshot(marker, groups))
                    .await
                    .unwrap();
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut reads = 0;
                let mut seen = std::collections::BTreeSet::new();
                loop {
                    let snapshot = store.stats_snapshot_current().await.unwrap().unwrap();
                    let marker = snapshot.meta.rows_scanned;
                    assert_eq!(
                        snapshot.rows.len() as u64,
                        7 * (snapshot.meta.groups + 1),
                        "snapshot {marker} is whole"
                    );
                    assert!(
                        snapshot.rows.iter().all(|r| r.stats.count == marker),
                        "every row of snapshot {marker} is from it"
                    );
                    seen.insert(marker);
                    reads += 1;
                    if marker == 21 {
                        return (reads, seen);
                    }
                }
            })
        })
        .collect();
    writer.await.unwrap();
    for reader in readers {
        let (reads, seen) = reader.await.unwrap();
        assert!(
            reads >= 1 && seen.contains(&21),
            "{reads} reads saw {seen:?}"
        );
    }
}
