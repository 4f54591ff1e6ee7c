//! `/api/feedback`: the cache as seed 000's frontend reads it — every record, each filter
//! narrowing to exactly the records it names, sort orders, cursor pages covering every record
//! once, CSV, `ETag`/`304`, gzip, and the problems a bad query gets.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::Value;

use crate::helpers::{SAMPLE_RECORDS, TestApp};

/// Percent-encodes a query value.
pub(crate) fn enc(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

fn ids(records: &[Value]) -> BTreeSet<i64> {
    records.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

fn instant(value: &Value) -> Option<Timestamp> {
    value.as_str().map(|text| text.parse().unwrap())
}

/// Syncs `customer_project` and returns every record of the cache, as listed with the
/// largest page.
async fn synced(app: &TestApp) -> Vec<Value> {
    app.sync_now("customer_project", "full").await;
    let page = app.list_feedback("limit=10000").await.json(200);
    assert_eq!(page["count"], SAMPLE_RECORDS, "{page:#}");
    assert!(page.get("next_cursor").is_none());
    items(&page).clone()
}

async fn the_whole_cache_is_served_with_or_without_the_trailing_slash(app: TestApp) {
    let empty = app.list_feedback("").await.json(200);
    assert_eq!(empty["count"], 0);
    assert_eq!(items(&empty).len(), 0);

    let all = synced(&app).await;
    assert_eq!(all.len(), SAMPLE_RECORDS);
    assert_eq!(ids(&all).len(), SAMPLE_RECORDS, "ids are unique");
    let first = &all[0];
    for field in [
        "id",
        "source",
        "external_id",
        "created_at",
        "updated_at",
        "customer_name",
        "customer_email",
        "channel",
        "group",
        "rating",
        "sentiment_label",
        "sentiment_score",
        "sentiment_origin",
        "title",
        "body",
        "tags",
        "status",
        "value",
        "raw",
        "first_seen_at",
        "synced_at",
    ] {
        assert!(first.get(field).is_some(), "no `{field}` in {first:#}");
    }
    assert_eq!(first["source"], "customer_project");
    assert!(first["raw"].is_object(), "{first:#}");

    // Sentiment is the sample's own `Sentiment` column where it has one, computed from the
    // text where it has none, and says which.
    let (mut given, mut computed) = (0, 0);
    for record in &all {
        let own = record["raw"]["Sentiment"]
            .as_str()
            .filter(|s| !s.is_empty());
        match (own, record["sentiment_origin"].as_str()) {
            (Some(own), Some("source")) => {
                assert_eq!(record["sentiment_label"], own.to_lowercase(), "{record:#}");
                given += 1;
            }
            (None, Some("computed")) => {
                let label = record["sentiment_label"].as_str().unwrap();
                assert!(["positive", "neutral", "negative"].contains(&label));
                let score = record["sentiment_score"].as_f64().unwrap();
                assert!((-1.0..=1.0).contains(&score), "{record:#}");
                computed += 1;
            }
            _ => panic!("sentiment and its origin disagree with the source: {record:#}"),
        }
    }
    assert!(
        given > 0 && computed > 0,
        "{given} given, {computed} computed"
    );

    // Seed 000's clients call it with a trailing slash; the default page is 100.
    let slash = app.list_feedback_slash("").await.json(200);
    assert_eq!(slash["count"], 100);
    assert_eq!(items(&slash).as_slice(), &all[..100]);
    assert!(slash["next_cursor"].is_string());

    // One record, as the list shows it.
    let one = app
        .get_feedback(first["id"].as_i64().unwrap())
        .await
        .json(200);
    assert_eq!(&one, first);
    let missing = app
        .get_feedback(999_999_999)
        .await
        .assert_problem(404, "not-found");
    assert!(
        missing.body["detail"]
            .as_str()
            .unwrap()
            .contains("999999999"),
        "{missing}"
    );
    app.get_feedback("not-a-number")
        .await
        .assert_problem(404, "not-found");
}

async fn each_filter_narrows_to_the_records_it_names(app: TestApp) {
    let all = synced(&app).await;
    let sample = all
        .iter()
        .find(|r| r["tags"].as_array().is_some_and(|t| !t.is_empty()) && r["rating"].is_number())
        .unwrap()
        .clone();
    let text = |record: &Value, field: &str| record[field].as_str().map(str::to_owned);
    let tag = sample["tags"][0].as_str().unwrap().to_owned();
    // A word from a customer's name, lower-cased: text search ignores case.
    let word = sample["customer_name"]
        .as_str()
        .unwrap()
        .split(' ')
        .next_back()
        .unwrap()
        .to_lowercase();
    let created = |r: &Value| instant(&r["created_at"]);
    let updated = |r: &Value| instant(&r["updated_at"]);
    let middle: Timestamp = {
        let mut times: Vec<Timestamp> = all.iter().filter_map(created).collect();
        times.sort();
        times[times.len() / 2]
    };
    let late: Timestamp = {
        let mut times: Vec<Timestamp> = all.iter().filter_map(updated).collect();
        times.sort();
        times[times.len() * 3 / 4]
    };
    type Check = Box<dyn Fn(&Value) -> bool + Send + Sync>;
    let group = text(&sample, "group");
    let channel = text(&sample, "channel");
    let sentiment = text(&sample, "sentiment_label");
    let status = text(&sample, "status");
    let cases: Vec<(String, Check)> = vec![
        (
            format!("group={}", enc(group.as_deref().unwrap())),
            Box::new(move |r| r["group"].as_str() == group.as_deref()),
        ),
        (
            format!("channel={}", enc(channel.as_deref().unwrap())),
            Box::new(move |r| r["channel"].as_str() == channel.as_deref()),
        ),
        (
            format!("sentiment={}", enc(sentiment.as_deref().unwrap())),
            Box::new(move |r| r["sentiment_label"].as_str() == sentiment.as_deref()),
        ),
        (
            format!("status={}", enc(status.as_deref().unwrap())),
            Box::new(move |r| r["status"].as_str() == status.as_deref()),
        ),
        (format!("tag={}", enc(&tag)), {
            let tag = tag.clone();
            Box::new(move |r| r["tags"].as_array().unwrap().iter().any(|t| *t == *tag))
        }),
        (
            "rating_min=4".to_owned(),
            Box::new(|r| r["rating"].as_f64().is_some_and(|x| x >= 4.0)),
        ),
        (
            "rating_max=2".to_owned(),
            Box::new(|r| r["rating"].as_f64().is_some_and(|x| x <= 2.0)),
        ),
        (
            "rating_min=2&rating_max=3".to_owned(),
            Box::new(|r| {
                r["rating"]
                    .as_f64()
                    .is_some_and(|x| (2.0..=3.0).contains(&x))
            }),
        ),
        (
            format!("created_from={}", enc(&middle.to_string())),
            Box::new(move |r| created(r).is_some_and(|t| t >= middle)),
        ),
        (
            format!("created_to={}", enc(&middle.to_string())),
            Box::new(move |r| created(r).is_some_and(|t| t < middle)),
        ),
        (
            format!("updated_from={}", enc(&late.to_string())),
            Box::new(move |r| updated(r).is_some_and(|t| t >= late)),
        ),
        (
            format!("updated_to={}", enc(&late.to_string())),
            Box::new(move |r| updated(r).is_some_and(|t| t < late)),
        ),
        (format!("q={}", enc(&word)), {
            let word = word.clone();
            Box::new(move |r| {
                ["title", "body", "customer_name"].iter().any(|field| {
                    r[*field]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().contains(&word))
                })
            })
        }),
        (format!("text={}", enc(&word.to_uppercase())), {
            let word = word.clone();
            Box::new(move |r| {
                ["title", "body", "customer_name"].iter().any(|field| {
                    r[*field]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().contains(&word))
                })
            })
        }),
        (
            "source=customer_project".to_owned(),
            Box::new(|r| r["source"] == "customer_project"),
        ),
        ("source=sales_project".to_owned(), Box::new(|_| false)),
    ];
    for (query, keep) in &cases {
        let expected: Vec<Value> = all.iter().filter(|r| keep(r)).cloned().collect();
        let page = app
            .list_feedback(&format!("{query}&limit=10000"))
            .await
            .json(200);
        assert_eq!(
            ids(items(&page)),
            ids(&expected),
            "{query}: {} listed, {} expected",
            items(&page).len(),
            expected.len()
        );
        // Only one source is synced: its filter keeps everything, the other's nothing.
        if !query.starts_with("source=") {
            assert!(expected.len() < all.len(), "{query} does not narrow");
            assert!(!expected.is_empty(), "{query} keeps nothing");
        }
    }
    // Filters combine.
    let both = app
        .list_feedback("rating_min=4&sentiment=negative&limit=10000")
        .await
        .json(200);
    let expected = all.iter().filter(|r| {
        r["rating"].as_f64().is_some_and(|x| x >= 4.0) && r["sentiment_label"] == "negative"
    });
    assert_eq!(
        ids(items(&both)),
        ids(&expected.cloned().collect::<Vec<_>>())
    );
}

/// `(key, id)` of a record under `sort`, for checking order: records without the key come last
/// in either direction.
fn sort_key(record: &Value, sort: &str) -> (Option<f64>, i64) {
    let id = record["id"].as_i64().unwrap();
    let key = match sort {
        "rating" => record["rating"].as_f64(),
        "updated" => instant(&record["updated_at"]).map(|t| t.as_millisecond() as f64),
        _ => instant(&record["created_at"]).map(|t| t.as_millisecond() as f64),
    };
    (key, id)
}

async fn sort_orders_and_cursor_pages_cover_every_record_once(app: TestApp) {
    let all = synced(&app).await;
    for sort in ["created", "updated", "rating"] {
        for order in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let query = match &cursor {
                    None => format!("sort={sort}&order={order}&limit=1000"),
                    Some(c) => format!("sort={sort}&order={order}&limit=1000&cursor={}", enc(c)),
                };
                let page = app.list_feedback(&query).await.json(200);
                pages += 1;
                assert_eq!(page["count"], items(&page).len());
                seen.extend(items(&page).iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
                assert!(pages <= 10, "too many pages");
            }
            assert_eq!(seen.len(), all.len(), "{sort} {order}: every record once");
            assert_eq!(ids(&seen), ids(&all), "{sort} {order}");
            for pair in seen.windows(2) {
                let (a, b) = (sort_key(&pair[0], sort), sort_key(&pair[1], sort));
                let in_order = match (a.0, b.0) {
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (x, y) if order == "asc" => (x, a.1) < (y, b.1),
                    (x, y) => (x, a.1) > (y, b.1),
                };
                assert!(in_order, "{sort} {order}: {a:?} before {b:?}");
            }
        }
    }
    // A cursor belongs to its sort.
    let page = app.list_feedback("sort=rating&limit=5").await.json(200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let answer = app
        .list_feedback(&format!("sort=created&cursor={}", enc(cursor)))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["cursor"]);
}

async fn invalid_queries_are_422_naming_the_parameter(app: TestApp) {
    for (query, field) in [
        ("limit=10001", "limit"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("created_from=yesterday", "created_from"),
        ("created_to=2025-13-01T00:00:00Z", "created_to"),
        ("updated_from=2025-03-01", "updated_from"),
        ("updated_to=soon", "updated_to"),
        ("rating_min=high", "rating_min"),
        ("rating_max=NaN", "rating_max"),
        ("rating_min=4&rating_max=2", "rating_min"),
        ("sort=newest", "sort"),
        ("order=up", "order"),
        ("format=xml", "format"),
        ("cursor=nonsense", "cursor"),
        ("q=a&text=b", "q"),
        ("colour=blue", "colour"),
    ] {
        let answer = app
            .list_feedback(query)
            .await
            .assert_problem(422, "invalid-request");
        assert_eq!(answer.error_fields(), [field], "{query}: {answer}");
    }
    let answer = app
        .list_feedback("limit=10001")
        .await
        .assert_problem(422, "invalid-request");
    assert!(answer.error_message("limit").contains("10000"), "{answer}");
    // Several at once, all reported.
    let answer = app
        .list_feedback("limit=0&sort=x&created_from=x")
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields().len(), 3, "{answer}");
    // Empty values are no filter (forms send them).
    app.list_feedback("group=&channel=&limit=")
        .await
        .assert_status(200);
}

async fn csv_lists_the_same_records_in_pages(app: TestApp) {
    let all = synced(&app).await;
    let json = app
        .list_feedback("sort=created&order=asc&limit=300")
        .await
        .json(200);
    let answer = app
        .list_feedback("format=csv&sort=created&order=asc&limit=300")
        .await
        .assert_status(200);
    assert_eq!(answer.content_type(), "text/csv; charset=utf-8");
    assert!(answer.header("etag").is_some());
    let mut reader = csv::Reader::from_reader(answer.text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "id");
    assert!(header.contains(&"tags".to_owned()));
    assert!(!header.contains(&"raw".to_owned()));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 300);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, record) in rows.iter().zip(items(&json)) {
        assert_eq!(row[column("id")], record["id"].to_string());
        assert_eq!(row[column("external_id")], record["external_id"]);
        // Bodies have line breaks and quotes; they come back whole.
        assert_eq!(&row[column("body")], record["body"].as_str().unwrap_or(""));
        let tags: Vec<&str> = record["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(row[column("tags")], tags.join(";"));
        match record["rating"].as_f64() {
            Some(rating) => assert_eq!(row[column("rating")].parse::<f64>().unwrap(), rating),
            None => assert_eq!(&row[column("rating")], ""),
        }
        assert_eq!(
            row[column("created_at")].parse::<Timestamp>().ok(),
            instant(&record["created_at"])
        );
    }
    assert!(rows.iter().any(|r| r[column("body")].contains('\n')));
    // The next page is in the headers; following it gives the rest.
    let next = answer.header("x-next-cursor").unwrap().to_owned();
    assert_eq!(Some(next.as_str()), json["next_cursor"].as_str());
    let link = answer.header("link").unwrap();
    assert!(
        link.contains("cursor=") && link.ends_with("rel=\"next\""),
        "{link}"
    );
    let rest = app
        .list_feedback(&format!(
            "format=csv&sort=created&order=asc&cursor={}",
            enc(&next)
        ))
        .await
        .assert_status(200);
    assert!(rest.header("x-next-cursor").is_none());
    let rest_rows = csv::Reader::from_reader(rest.text.as_bytes())
        .records()
        .count();
    assert_eq!(rows.len() + rest_rows, all.len());
    // Without a limit, the export is the whole cache.
    let whole = app.list_feedback("format=csv").await.assert_status(200);
    assert_eq!(
        csv::Reader::from_reader(whole.text.as_bytes())
            .records()
            .count(),
        SAMPLE_RECORDS
    );
    // Filters apply to CSV too.
    let narrow = app
        .list_feedback("format=csv&rating_min=5")
        .await
        .assert_status(200);
    let fives = all
        .iter()
        .filter(|r| r["rating"].as_f64() == Some(5.0))
        .count();
    assert_eq!(
        csv::Reader::from_reader(narrow.text.as_bytes())
            .records()
            .count(),
        fives
    );
}

async fn an_unchanged_answer_is_304_and_gzip_is_honoured(app: TestApp) {
    app.sync_now("customer_project", "full").await;
    let first = app.list_feedback("limit=500").await.assert_status(200);
    let etag = first.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    // The same query, the same body, the same tag.
    let again = app.list_feedback("limit=500").await.assert_status(200);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.text, first.text);
    let other = app.list_feedback("limit=499").await.assert_status(200);
    assert_ne!(other.header("etag"), Some(etag.as_str()));

    let cached = app.with_header("if-none-match", &etag);
    let not_modified = cached.list_feedback("limit=500").await.assert_status(304);
    assert!(not_modified.text.is_empty(), "{not_modified}");
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    // Another tag, or another query: the body.
    app.with_header("if-none-match", "\"stale\"")
        .list_feedback("limit=500")
        .await
        .assert_status(200);
    cached.list_feedback("limit=499").await.assert_status(200);

    // CSV has its own tag, and 304s the same way.
    let csv = app
        .list_feedback("format=csv&limit=50")
        .await
        .assert_status(200);
    let csv_tag = csv.header("etag").unwrap();
    assert_ne!(csv_tag, etag);
    app.with_header("if-none-match", csv_tag)
        .list_feedback("format=csv&limit=50")
        .await
        .assert_status(304);
    // A single record too.
    let id = first.body["items"][0]["id"].as_i64().unwrap();
    let one = app.get_feedback(id).await.assert_status(200);
    app.with_header("if-none-match", one.header("etag").unwrap())
        .get_feedback(id)
        .await
        .assert_status(304);

    // gzip when asked for, the same JSON once decompressed.
    let gzipped = app
        .with_header("accept-encoding", "gzip")
        .list_feedback("limit=500")
        .await
        .assert_status(200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.body, first.body);
    assert_eq!(gzipped.header("etag"), Some(etag.as_str()));
    assert!(first.header("content-encoding").is_none());
}

async fn a_read_key_lists_feedback(app: TestApp) {
    let reader = app.with_key(tidings_store::ApiKeyRole::Read);
    reader.list_feedback("").await.assert_status(200);
    reader.list_feedback_slash("").await.assert_status(200);
    app.without_key()
        .list_feedback("")
        .await
        .assert_problem(401, "unauthorized");
    app.without_key()
        .list_feedback_slash("")
        .await
        .assert_problem(401, "unauthorized");
}

both_backends!(
    the_whole_cache_is_served_with_or_without_the_trailing_slash,
    each_filter_narrows_to_the_records_it_names,
    sort_orders_and_cursor_pages_cover_every_record_once,
    invalid_queries_are_422_naming_the_parameter,
    csv_lists_the_same_records_in_pages,
    an_unchanged_answer_is_304_and_gzip_is_honoured,
    a_read_key_lists_feedback,
);
