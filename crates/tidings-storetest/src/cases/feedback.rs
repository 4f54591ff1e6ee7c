//! The feedback cache: full syncs replace a source's set atomically (counting what they
//! inserted, rewrote, left alone and deleted), upserts never delete, lists filter and sort with
//! keyset pages that hold across ties and missing values; and the sources' sync bookkeeping.

use std::collections::HashSet;
use std::time::Instant;

use jiff::Timestamp;
use tidings_store::{
    Feedback, FeedbackId, FeedbackListParams, FeedbackRecord, FeedbackReplaceParams, FeedbackSort,
    FeedbackUpsertParams, FeedbackWritten, RunId, SentimentOrigin, SortOrder, SourceFile,
    SourceState, SourceStateParams, Store, StoreError, SyncMode,
};

use crate::fixtures::*;

/// A record with only its id and a body; cases set the fields they look at.
fn record(external_id: &str) -> FeedbackRecord {
    FeedbackRecord {
        external_id: external_id.to_owned(),
        created_at: None,
        updated_at: None,
        customer_name: None,
        customer_email: None,
        channel: None,
        group: None,
        rating: None,
        sentiment_label: None,
        sentiment_score: None,
        sentiment_origin: None,
        title: None,
        body: Some(format!("feedback {external_id}")),
        tags: Vec::new(),
        status: None,
        value: None,
        raw: serde_json::json!({ "id": external_id }).into(),
    }
}

/// A record with every field set.
fn full_record(external_id: &str) -> FeedbackRecord {
    FeedbackRecord {
        external_id: external_id.to_owned(),
        created_at: Some(at(-3600)),
        updated_at: Some(at(-60)),
        customer_name: Some("Ada Lovelace".to_owned()),
        customer_email: Some("ada@example.com".to_owned()),
        channel: Some("email".to_owned()),
        group: Some("Lisbon".to_owned()),
        rating: Some(4.5),
        sentiment_label: Some("positive".to_owned()),
        sentiment_score: Some(0.75),
        sentiment_origin: Some(SentimentOrigin::Computed),
        title: Some("Lovely".to_owned()),
        body: Some("The staff were lovely.".to_owned()),
        tags: vec!["staff".to_owned(), "praise".to_owned()],
        status: Some("new".to_owned()),
        value: Some(129.9),
        raw: serde_json::json!({ "Name": "Ada", "Rating": 4.5, "Tags": ["staff", "praise"] })
            .into(),
    }
}

async fn replace(
    store: &dyn Store,
    source: &str,
    records: Vec<FeedbackRecord>,
    now: Timestamp,
) -> FeedbackWritten {
    store
        .feedback_replace_source(FeedbackReplaceParams {
            source: source.to_owned(),
            records,
            now,
        })
        .await
        .unwrap_or_else(|e| panic!("feedback_replace_source {source}: {e}"))
}

async fn upsert(
    store: &dyn Store,
    source: &str,
    records: Vec<FeedbackRecord>,
    now: Timestamp,
) -> FeedbackWritten {
    store
        .feedback_upsert(FeedbackUpsertParams {
            source: source.to_owned(),
            records,
            now,
        })
        .await
        .unwrap_or_else(|e| panic!("feedback_upsert {source}: {e}"))
}

fn written(inserted: u64, updated: u64, unchanged: u64, deleted: u64) -> FeedbackWritten {
    FeedbackWritten {
        inserted,
        updated,
        unchanged,
        deleted,
    }
}

/// Every record matching `params`, following the cursor with pages of `params.limit`.
async fn list_all(store: &dyn Store, params: FeedbackListParams) -> Vec<Feedback> {
    let mut params = params;
    let mut all = Vec::new();
    loop {
        let page = store
            .feedback_list(params.clone())
            .await
            .unwrap_or_else(|e| panic!("feedback_list: {e}"));
        assert!(
            page.items.len() <= params.limit.max(1) as usize,
            "a page is no larger than asked"
        );
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return all,
        }
    }
}

/// Every record of `source`, by external id.
async fn by_external_id(store: &dyn Store, source: &str) -> Vec<Feedback> {
    let mut all = list_all(
        store,
        FeedbackListParams {
            source: Some(source.to_owned()),
            limit: 10_000,
            ..FeedbackListParams::default()
        },
    )
    .await;
    all.sort_by(|a, b| a.record.external_id.cmp(&b.record.external_id));
    all
}

fn external_ids(feedback: &[Feedback]) -> Vec<&str> {
    feedback
        .iter()
        .map(|f| f.record.external_id.as_str())
        .collect()
}

/// The external ids `params` lists, sorted.
async fn listed(store: &dyn Store, params: FeedbackListParams) -> Vec<String> {
    let mut ids: Vec<String> = list_all(
        store,
        FeedbackListParams {
            limit: 100,
            ..params
        },
    )
    .await
    .into_iter()
    .map(|f| f.record.external_id)
    .collect();
    ids.sort();
    ids
}

pub async fn feedback_replace_counts_inserted_updated_unchanged_and_deleted(store: &dyn Store) {
    let first = replace(
        store,
        "reviews",
        vec![full_record("a"), record("b"), record("c")],
        t0(),
    )
    .await;
    assert_eq!(first, written(3, 0, 0, 0));
    let before = by_external_id(store, "reviews").await;
    assert_eq!(external_ids(&before), ["a", "b", "c"]);
    assert_eq!(before[0].source, "reviews");
    assert_eq!(before[0].record, full_record("a"), "every field read back");
    assert_eq!(before[0].first_seen_at, t0());
    assert_eq!(before[0].synced_at, t0());

    let changed_b = FeedbackRecord {
        status: Some("replied".to_owned()),
        ..record("b")
    };
    let second = replace(
        store,
        "reviews",
        vec![full_record("a"), changed_b.clone(), record("d")],
        at(60),
    )
    .await;
    assert_eq!(second, written(1, 1, 1, 1));
    let after = by_external_id(store, "reviews").await;
    assert_eq!(external_ids(&after), ["a", "b", "d"], "c is gone");
    assert_eq!(
        after[0], before[0],
        "a unchanged: not rewritten, synced_at kept"
    );
    assert_eq!(after[1].id, before[1].id, "b keeps its id");
    assert_eq!(after[1].record, changed_b);
    assert_eq!(after[1].first_seen_at, t0());
    assert_eq!(after[1].synced_at, at(60));
    assert_eq!(after[2].first_seen_at, at(60));
    assert_eq!(after[2].synced_at, at(60));

    let same = replace(
        store,
        "reviews",
        vec![record("d"), changed_b, full_record("a")],
        at(120),
    )
    .await;
    assert_eq!(
        same,
        written(0, 0, 3, 0),
        "the order of the set does not matter"
    );
    assert_eq!(by_external_id(store, "reviews").await, after);

    assert_eq!(
        replace(store, "reviews", Vec::new(), at(180)).await,
        written(0, 0, 0, 3)
    );
    assert_eq!(store.feedback_count(Some("reviews")).await.unwrap(), 0);
}

pub async fn feedback_replace_leaves_other_sources_alone(store: &dyn Store) {
    replace(store, "airtable", vec![record("a"), record("b")], t0()).await;
    replace(store, "csv", vec![record("a"), record("x")], t0()).await;
    let csv = by_external_id(store, "csv").await;

    let written_now = replace(store, "airtable", vec![record("b")], at(60)).await;
    assert_eq!(written_now, written(0, 0, 1, 1));
    assert_eq!(by_external_id(store, "csv").await, csv, "csv's `a` is kept");
    assert_eq!(
        external_ids(&by_external_id(store, "airtable").await),
        ["b"]
    );
    assert_eq!(store.feedback_count(Some("airtable")).await.unwrap(), 1);
    assert_eq!(store.feedback_count(Some("csv")).await.unwrap(), 2);
    assert_eq!(store.feedback_count(Some("nowhere")).await.unwrap(), 0);
    assert_eq!(store.feedback_count(None).await.unwrap(), 3);
}

/// Two real failures: a set naming one record twice (refused before anything is written), and
/// a record the database refuses (an empty `external_id`) after 1,200 others in earlier
/// statements of the same transaction have been written. Neither leaves a trace.
pub async fn feedback_replace_that_fails_leaves_the_previous_set_whole(store: &dyn Store) {
    replace(
        store,
        "reviews",
        vec![full_record("a"), record("b"), record("c")],
        t0(),
    )
    .await;
    let before = by_external_id(store, "reviews").await;

    let twice = store
        .feedback_replace_source(FeedbackReplaceParams {
            source: "reviews".to_owned(),
            records: vec![record("a"), record("x"), record("a")],
            now: at(60),
        })
        .await;
    let error = assert_store_error(
        twice,
        |e| matches!(e, StoreError::Conflict(_)),
        "a set with `a` twice",
    );
    assert!(error.to_string().contains("`a`"), "{error}");
    assert_eq!(by_external_id(store, "reviews").await, before);

    let mut records: Vec<FeedbackRecord> = (0..1_200).map(|i| record(&format!("new{i}"))).collect();
    records.push(FeedbackRecord {
        status: Some("replied".to_owned()),
        ..record("b")
    });
    records.push(record(""));
    let refused = store
        .feedback_replace_source(FeedbackReplaceParams {
            source: "reviews".to_owned(),
            records: records.clone(),
            now: at(60),
        })
        .await;
    assert!(refused.is_err(), "an empty external_id is refused");
    assert_eq!(by_external_id(store, "reviews").await, before);
    assert_eq!(store.feedback_count(None).await.unwrap(), 3);

    let refused = store
        .feedback_upsert(FeedbackUpsertParams {
            source: "reviews".to_owned(),
            records,
            now: at(60),
        })
        .await;
    assert!(refused.is_err(), "an upsert is one transaction too");
    assert_eq!(by_external_id(store, "reviews").await, before);
}

pub async fn feedback_upsert_inserts_and_rewrites_but_never_deletes(store: &dyn Store) {
    replace(store, "csv", vec![record("a"), record("b")], t0()).await;
    let changed_b = FeedbackRecord {
        rating: Some(2.0),
        ..record("b")
    };
    let written_now = upsert(
        store,
        "csv",
        vec![changed_b.clone(), record("c"), record("a")],
        at(60),
    )
    .await;
    assert_eq!(written_now, written(1, 1, 1, 0));
    let all = by_external_id(store, "csv").await;
    assert_eq!(external_ids(&all), ["a", "b", "c"]);
    assert_eq!(all[0].synced_at, t0());
    assert_eq!(all[1].record, changed_b);
    assert_eq!(all[1].synced_at, at(60));
    assert_eq!(all[1].first_seen_at, t0());

    assert_eq!(
        upsert(store, "csv", vec![record("d")], at(120)).await,
        written(1, 0, 0, 0)
    );
    assert_eq!(
        upsert(store, "csv", Vec::new(), at(180)).await,
        written(0, 0, 0, 0)
    );
    assert_eq!(store.feedback_count(Some("csv")).await.unwrap(), 4);
    assert_eq!(
        upsert(store, "other", vec![record("a")], at(180)).await,
        written(1, 0, 0, 0),
        "the same external id in another source is another record"
    );
}

pub async fn feedback_get_returns_the_record_and_unknown_is_not_found(store: &dyn Store) {
    replace(store, "reviews", vec![full_record("a")], t0()).await;
    let listed = by_external_id(store, "reviews").await;
    let got = store.feedback_get(listed[0].id).await.unwrap();
    assert_eq!(got, listed[0]);
    assert_eq!(got.record, full_record("a"));

    let missing = FeedbackId(listed[0].id.0 + 1_000);
    assert_store_error(
        store.feedback_get(missing).await,
        |e| matches!(e, StoreError::NotFound { .. }),
        "an unknown id",
    );
}

pub async fn feedback_list_filters(store: &dyn Store) {
    let records = vec![
        FeedbackRecord {
            created_at: Some(at(0)),
            updated_at: Some(at(500)),
            group: Some("Lisbon".to_owned()),
            channel: Some("email".to_owned()),
            rating: Some(5.0),
            sentiment_label: Some("positive".to_owned()),
            status: Some("new".to_owned()),
            tags: vec!["staff".to_owned()],
            ..record("a")
        },
        FeedbackRecord {
            created_at: Some(at(100)),
            updated_at: Some(at(100)),
            group: Some("Porto".to_owned()),
            channel: Some("chat".to_owned()),
            rating: Some(2.0),
            sentiment_label: Some("negative".to_owned()),
            status: Some("replied".to_owned()),
            tags: vec!["food".to_owned(), "staff".to_owned()],
            ..record("b")
        },
        FeedbackRecord {
            created_at: Some(at(200)),
            group: Some("Lisbon".to_owned()),
            channel: Some("chat".to_owned()),
            rating: Some(3.5),
            sentiment_label: Some("neutral".to_owned()),
            tags: vec!["food".to_owned()],
            ..record("c")
        },
        record("d"),
    ];
    replace(store, "reviews", records, t0()).await;
    replace(
        store,
        "survey",
        vec![FeedbackRecord {
            created_at: Some(at(100)),
            group: Some("Lisbon".to_owned()),
            rating: Some(5.0),
            ..record("s1")
        }],
        t0(),
    )
    .await;

    let all = FeedbackListParams::default;
    let cases: Vec<(&str, FeedbackListParams, Vec<&str>)> = vec![
        ("none", all(), vec!["a", "b", "c", "d", "s1"]),
        (
            "source",
            FeedbackListParams {
                source: Some("survey".to_owned()),
                ..all()
            },
            vec!["s1"],
        ),
        (
            "created from (inclusive)",
            FeedbackListParams {
                created_from: Some(at(100)),
                ..all()
            },
            vec!["b", "c", "s1"],
        ),
        (
            "created to (exclusive)",
            FeedbackListParams {
                created_to: Some(at(100)),
                ..all()
            },
            vec!["a"],
        ),
        (
            "created between",
            FeedbackListParams {
                created_from: Some(at(50)),
                created_to: Some(at(150)),
                source: Some("reviews".to_owned()),
                ..all()
            },
            vec!["b"],
        ),
        (
            "updated from",
            FeedbackListParams {
                updated_from: Some(at(200)),
                ..all()
            },
            vec!["a"],
        ),
        (
            "updated to",
            FeedbackListParams {
                updated_to: Some(at(200)),
                ..all()
            },
            vec!["b"],
        ),
        (
            "group",
            FeedbackListParams {
                group: Some("Lisbon".to_owned()),
                ..all()
            },
            vec!["a", "c", "s1"],
        ),
        (
            "channel",
            FeedbackListParams {
                channel: Some("chat".to_owned()),
                ..all()
            },
            vec!["b", "c"],
        ),
        (
            "rating min",
            FeedbackListParams {
                rating_min: Some(3.5),
                ..all()
            },
            vec!["a", "c", "s1"],
        ),
        (
            "rating max",
            FeedbackListParams {
                rating_max: Some(3.5),
                ..all()
            },
            vec!["b", "c"],
        ),
        (
            "rating between",
            FeedbackListParams {
                rating_min: Some(2.5),
                rating_max: Some(4.0),
                ..all()
            },
            vec!["c"],
        ),
        (
            "sentiment",
            FeedbackListParams {
                sentiment: Some("negative".to_owned()),
                ..all()
            },
            vec!["b"],
        ),
        (
            "status",
            FeedbackListParams {
                status: Some("new".to_owned()),
                ..all()
            },
            vec!["a"],
        ),
        (
            "tag",
            FeedbackListParams {
                tag: Some("staff".to_owned()),
                ..all()
            },
            vec!["a", "b"],
        ),
        (
            "tag is matched whole",
            FeedbackListParams {
                tag: Some("sta".to_owned()),
                ..all()
            },
            vec![],
        ),
        (
            "several",
            FeedbackListParams {
                group: Some("Lisbon".to_owned()),
                tag: Some("food".to_owned()),
                channel: Some("chat".to_owned()),
                ..all()
            },
            vec!["c"],
        ),
    ];
    for (what, params, expected) in cases {
        assert_eq!(listed(store, params).await, expected, "filter: {what}");
    }
}

pub async fn feedback_list_text_search_is_case_insensitive(store: &dyn Store) {
    replace(
        store,
        "reviews",
        vec![
            FeedbackRecord {
                title: Some("Checkout BROKEN".to_owned()),
                ..record("a")
            },
            FeedbackRecord {
                body: Some("The app crashed twice".to_owned()),
                ..record("b")
            },
            FeedbackRecord {
                customer_name: Some("Grace Hopper".to_owned()),
                customer_email: Some("broken@example.com".to_owned()),
                body: None,
                ..record("c")
            },
        ],
        t0(),
    )
    .await;
    let text = |needle: &str| FeedbackListParams {
        text: Some(needle.to_owned()),
        ..FeedbackListParams::default()
    };
    assert_eq!(listed(store, text("broken")).await, ["a"], "not the email");
    assert_eq!(listed(store, text("CRASH")).await, ["b"]);
    assert_eq!(listed(store, text("hopper")).await, ["c"]);
    assert_eq!(
        listed(store, text("feedback")).await,
        ["a"],
        "record()'s body of a; b's body was replaced, c has none"
    );
    assert_eq!(
        listed(store, text("%")).await,
        Vec::<String>::new(),
        "literal"
    );
    assert_eq!(
        listed(store, text("nothing like it")).await,
        Vec::<String>::new()
    );
}

/// 23 records whose sort values repeat and are sometimes missing, listed 4 per page in each
/// sort and order: the pages, put together, are every record once, in the order asked for,
/// records without the value last.
pub async fn feedback_list_sorts_each_way_across_pages_with_ties_and_nulls(store: &dyn Store) {
    let records: Vec<FeedbackRecord> = (0..23)
        .map(|i: i64| FeedbackRecord {
            created_at: (i % 5 != 0).then(|| at((i % 3) * 60)),
            updated_at: (i % 4 != 1).then(|| at(1_000 - (i % 6) * 10)),
            rating: (i % 7 != 3).then_some(((i % 4) as f64) * 1.5),
            ..record(&format!("r{i:02}"))
        })
        .collect();
    replace(store, "reviews", records, t0()).await;
    let stored = by_external_id(store, "reviews").await;

    for sort in [
        FeedbackSort::Created,
        FeedbackSort::Updated,
        FeedbackSort::Rating,
    ] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let key = |f: &Feedback| -> Option<f64> {
                match sort {
                    FeedbackSort::Created => f.record.created_at.map(|t| t.as_millisecond() as f64),
                    FeedbackSort::Updated => f.record.updated_at.map(|t| t.as_millisecond() as f64),
                    FeedbackSort::Rating => f.record.rating,
                }
            };
            let mut expected = stored.clone();
            expected.sort_by(|a, b| {
                let by_value = match (key(a), key(b)) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => match order {
                        SortOrder::Asc => x.total_cmp(&y),
                        SortOrder::Desc => y.total_cmp(&x),
                    },
                };
                by_value.then(match order {
                    SortOrder::Asc => a.id.cmp(&b.id),
                    SortOrder::Desc => b.id.cmp(&a.id),
                })
            });
            let pages = list_all(
                store,
                FeedbackListParams {
                    sort,
                    order,
                    limit: 4,
                    ..FeedbackListParams::default()
                },
            )
            .await;
            let unique: HashSet<FeedbackId> = pages.iter().map(|f| f.id).collect();
            assert_eq!(
                unique.len(),
                pages.len(),
                "{sort:?} {order:?}: no duplicates"
            );
            assert_eq!(
                external_ids(&pages),
                external_ids(&expected),
                "{sort:?} {order:?}"
            );
        }
    }

    let default = store
        .feedback_list(FeedbackListParams::default())
        .await
        .unwrap();
    let newest_first = list_all(
        store,
        FeedbackListParams {
            sort: FeedbackSort::Created,
            order: SortOrder::Desc,
            limit: 100,
            ..FeedbackListParams::default()
        },
    )
    .await;
    assert_eq!(
        default.items, newest_first,
        "created, newest first by default"
    );
    assert_eq!(default.next_cursor, None);

    let first = store
        .feedback_list(FeedbackListParams {
            sort: FeedbackSort::Rating,
            limit: 2,
            ..FeedbackListParams::default()
        })
        .await
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    assert_store_error(
        store
            .feedback_list(FeedbackListParams {
                sort: FeedbackSort::Created,
                cursor: Some(cursor),
                ..FeedbackListParams::default()
            })
            .await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "a rating cursor on a list sorted by creation",
    );
    assert_store_error(
        store
            .feedback_list(FeedbackListParams {
                cursor: Some("garbage".to_owned()),
                ..FeedbackListParams::default()
            })
            .await,
        |e| matches!(e, StoreError::InvalidState(_)),
        "a made-up cursor",
    );
}

pub async fn feedback_list_pages_hold_up_to_10000_records(store: &dyn Store) {
    let records: Vec<FeedbackRecord> = (0..10_001)
        .map(|i: i64| FeedbackRecord {
            created_at: Some(at(i)),
            ..record(&format!("r{i:05}"))
        })
        .collect();
    assert_eq!(
        replace(store, "big", records, t0()).await,
        written(10_001, 0, 0, 0)
    );
    let first = store
        .feedback_list(FeedbackListParams {
            limit: 50_000,
            ..FeedbackListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 10_000, "capped at 10,000");
    assert_eq!(first.items[0].record.external_id, "r10000");
    let rest = store
        .feedback_list(FeedbackListParams {
            limit: 10_000,
            cursor: first.next_cursor,
            ..FeedbackListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(external_ids(&rest.items), ["r00000"]);
    assert_eq!(rest.next_cursor, None);

    let default = store
        .feedback_list(FeedbackListParams::default())
        .await
        .unwrap();
    assert_eq!(default.items.len(), 50, "0 asks for the default page");
    assert!(default.next_cursor.is_some());
}

/// Not a benchmark: prints how long a full sync of 5,000 records takes (run with
/// `--nocapture` to see it), first inserting, then unchanged, then all rewritten.
pub async fn feedback_replace_of_5000_records_in_one_transaction(store: &dyn Store) {
    let records = |version: &str| -> Vec<FeedbackRecord> {
        (0..5_000)
            .map(|i: i64| FeedbackRecord {
                created_at: Some(at(i)),
                title: Some(format!("Visit {i} ({version})")),
                tags: vec!["bulk".to_owned()],
                ..full_record(&format!("rec{i:05}"))
            })
            .collect()
    };
    for (what, version, now, expected) in [
        ("insert", "v1", t0(), written(5_000, 0, 0, 0)),
        ("unchanged", "v1", at(60), written(0, 0, 5_000, 0)),
        ("rewrite", "v2", at(120), written(0, 5_000, 0, 0)),
    ] {
        let batch = records(version);
        let started = Instant::now();
        let result = replace(store, "bulk", batch, now).await;
        eprintln!(
            "{:?}: replace 5,000 records ({what}): {:?}",
            store.kind(),
            started.elapsed()
        );
        assert_eq!(result, expected, "{what}");
    }
    assert_eq!(store.feedback_count(Some("bulk")).await.unwrap(), 5_000);
}

fn state_params(
    mode: SyncMode,
    run: i64,
    now: Timestamp,
    watermark: Option<Timestamp>,
) -> SourceStateParams {
    SourceStateParams {
        source: "airtable".to_owned(),
        mode,
        run_id: Some(RunId(run)),
        at: now,
        watermark,
    }
}

pub async fn source_state_watermark_only_moves_forward(store: &dyn Store) {
    assert_eq!(store.source_state_get("airtable").await.unwrap(), None);

    let full = store
        .source_state_record(state_params(SyncMode::Full, 1, t0(), Some(at(-100))))
        .await
        .unwrap();
    assert_eq!(
        full,
        SourceState {
            source: "airtable".to_owned(),
            watermark: Some(at(-100)),
            last_full_run_id: Some(RunId(1)),
            last_full_at: Some(t0()),
            last_incremental_run_id: None,
            last_incremental_at: None,
        }
    );

    let earlier = store
        .source_state_record(state_params(
            SyncMode::Incremental,
            2,
            at(10),
            Some(at(-500)),
        ))
        .await
        .unwrap();
    assert_eq!(earlier.watermark, Some(at(-100)), "not moved back");
    assert_eq!(earlier.last_incremental_run_id, Some(RunId(2)));
    assert_eq!(earlier.last_incremental_at, Some(at(10)));
    assert_eq!(earlier.last_full_run_id, Some(RunId(1)), "full kept");
    assert_eq!(earlier.last_full_at, Some(t0()));

    let absent = store
        .source_state_record(state_params(SyncMode::Incremental, 3, at(20), None))
        .await
        .unwrap();
    assert_eq!(absent.watermark, Some(at(-100)), "an absent one leaves it");
    assert_eq!(absent.last_incremental_run_id, Some(RunId(3)));

    let later = store
        .source_state_record(state_params(SyncMode::Full, 4, at(30), Some(at(25))))
        .await
        .unwrap();
    assert_eq!(later.watermark, Some(at(25)));
    assert_eq!(later.last_full_run_id, Some(RunId(4)));
    assert_eq!(later.last_full_at, Some(at(30)));
    assert_eq!(later.last_incremental_run_id, Some(RunId(3)));
    assert_eq!(later.last_incremental_at, Some(at(20)));
    assert_eq!(
        store.source_state_get("airtable").await.unwrap(),
        Some(later)
    );

    let other = store
        .source_state_record(SourceStateParams {
            source: "csv".to_owned(),
            mode: SyncMode::Incremental,
            run_id: None,
            at: at(40),
            watermark: None,
        })
        .await
        .unwrap();
    assert_eq!(other.watermark, None);
    assert_eq!(other.last_incremental_run_id, None);
    assert_eq!(other.last_incremental_at, Some(at(40)));
    assert_eq!(other.last_full_at, None);
    assert_eq!(
        store
            .source_state_get("airtable")
            .await
            .unwrap()
            .and_then(|s| s.watermark),
        Some(at(25)),
        "sources are apart"
    );
}

pub async fn source_file_record_round_trips_and_replaces(store: &dyn Store) {
    let path = "/data/feedback/2025-06.csv";
    assert_eq!(store.source_file_get("csv", path).await.unwrap(), None);
    let file = SourceFile {
        source: "csv".to_owned(),
        path: path.to_owned(),
        size: 12_345,
        mtime: at(-86_400),
        sha256: "ab".repeat(32),
        imported_at: t0(),
        rows: 42,
    };
    store.source_file_record(file.clone()).await.unwrap();
    assert_eq!(
        store.source_file_get("csv", path).await.unwrap(),
        Some(file.clone())
    );

    let changed = SourceFile {
        size: 20_000,
        mtime: at(-60),
        sha256: "cd".repeat(32),
        imported_at: at(60),
        rows: 70,
        ..file.clone()
    };
    store.source_file_record(changed.clone()).await.unwrap();
    assert_eq!(
        store.source_file_get("csv", path).await.unwrap(),
        Some(changed)
    );
    assert_eq!(
        store.source_file_get("other", path).await.unwrap(),
        None,
        "kept per source"
    );
    assert_eq!(
        store
            .source_file_get("csv", "/data/feedback/2025-07.csv")
            .await
            .unwrap(),
        None
    );
}
