//! The feedback cache: full syncs (replace a source's set), upserts, reads and lists.
//!
//! A write reads the source's `(external_id, content_hash)` pairs inside its `BEGIN IMMEDIATE`
//! transaction, decides in Rust what is new, changed, unchanged or gone, and writes only the
//! new and changed rows, in multi-row statements of [`CHUNK`] rows: `INSERT OR FAIL` for the
//! new ones, `INSERT … ON CONFLICT DO UPDATE` for the changed ones. A write of many records
//! gets a larger page cache for its transaction ([`BULK_ROWS`]).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use sqlx::{QueryBuilder, Sqlite, Transaction};
use tidings_store::{
    FEEDBACK_PAGE_MAX, Feedback, FeedbackCursor, FeedbackId, FeedbackListParams, FeedbackRecord,
    FeedbackSort, FeedbackSortKey, FeedbackWritten, Page, SentimentOrigin, SortOrder, StoreError,
    StoreResult,
};

use crate::SqliteStore;
use crate::error::db_error;
use crate::page;
use crate::rows::{self, ms, to_json};

/// Rows per statement: 20 parameters each, well under SQLite's 32,766.
const CHUNK: usize = 500;

/// From this many records a write gets a larger page cache for its transaction.
const BULK_ROWS: usize = 5_000;

/// The page cache of such a write (negative: in KiB): 64 MiB rather than SQLite's 2 MB, which
/// a large transaction outgrows, spilling dirty pages to the WAL and reading index pages back
/// while it inserts. Set for that transaction only, then the cache is shrunk back, so an idle
/// server does not keep the memory.
const BULK_CACHE_SIZE: &str = "PRAGMA cache_size = -65536";

/// What a write does with the records it is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vanished {
    /// A full sync: they are deleted.
    Delete,
    /// An upsert: they are kept.
    Keep,
}

/// A record with its columns encoded once.
struct Encoded {
    record: FeedbackRecord,
    hash: String,
    tags: String,
}

/// Encodes the records, refusing a set that names one `external_id` twice.
fn encode(source: &str, records: Vec<FeedbackRecord>) -> StoreResult<Vec<Encoded>> {
    let mut seen = HashSet::with_capacity(records.len());
    let mut encoded = Vec::with_capacity(records.len());
    for record in records {
        if !seen.insert(record.external_id.clone()) {
            return Err(StoreError::Conflict(format!(
                "record `{}` appears twice in the records given for source `{source}`",
                record.external_id
            )));
        }
        encoded.push(Encoded {
            hash: record.content_hash(),
            tags: to_json(&record.tags)?,
            record,
        });
    }
    Ok(encoded)
}

/// Writes `records` for `source` in one transaction; see the module header.
pub(crate) async fn write(
    store: &SqliteStore,
    source: &str,
    records: Vec<FeedbackRecord>,
    now: Timestamp,
    vanished: Vanished,
) -> StoreResult<FeedbackWritten> {
    let encoded = encode(source, records)?;
    let mut tx = store.begin_write().await?;
    let cache_size = if encoded.len() >= BULK_ROWS {
        let current: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(BULK_CACHE_SIZE)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        Some(current)
    } else {
        None
    };
    let committed = match write_in(&mut tx, source, &encoded, now, vanished).await {
        Ok(written) => tx.commit().await.map(|()| written).map_err(db_error),
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error)
        }
    };
    if let Some(size) = cache_size {
        // The cache back to its size (an integer read from SQLite: nothing to inject), and its
        // memory back to the allocator.
        let sql = format!("PRAGMA cache_size = {size}; PRAGMA shrink_memory");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&store.writer)
            .await
            .map_err(db_error)?;
    }
    committed
}

/// The body of [`write`], inside its transaction.
async fn write_in(
    tx: &mut Transaction<'static, Sqlite>,
    source: &str,
    encoded: &[Encoded],
    now: Timestamp,
    vanished: Vanished,
) -> StoreResult<FeedbackWritten> {
    let existing = existing(tx, source, encoded, vanished).await?;

    let mut written = FeedbackWritten::default();
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for record in encoded {
        match existing.get(&record.record.external_id) {
            None => {
                written.inserted += 1;
                new.push(record);
            }
            Some((_, hash)) if *hash == record.hash => written.unchanged += 1,
            Some(_) => {
                written.updated += 1;
                changed.push(record);
            }
        }
    }
    for chunk in new.chunks(CHUNK) {
        upsert_chunk(tx, source, chunk, now, Conflict::Fail).await?;
    }
    for chunk in changed.chunks(CHUNK) {
        upsert_chunk(tx, source, chunk, now, Conflict::Update).await?;
    }
    if vanished == Vanished::Delete {
        let given: HashSet<&str> = encoded
            .iter()
            .map(|e| e.record.external_id.as_str())
            .collect();
        let gone: Vec<i64> = existing
            .iter()
            .filter(|(external_id, _)| !given.contains(external_id.as_str()))
            .map(|(_, (id, _))| *id)
            .collect();
        for chunk in gone.chunks(CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM feedback WHERE id IN (");
            let mut ids = query.separated(", ");
            for id in chunk {
                ids.push_bind(*id);
            }
            query.push(")");
            query.build().execute(&mut **tx).await.map_err(db_error)?;
        }
        written.deleted = gone.len() as u64;
    }
    Ok(written)
}

/// The stored `(id, content_hash)` by `external_id`: every record of the source for a full
/// sync, the given ones for an upsert.
async fn existing(
    tx: &mut Transaction<'static, Sqlite>,
    source: &str,
    encoded: &[Encoded],
    vanished: Vanished,
) -> StoreResult<HashMap<String, (i64, String)>> {
    let mut found = HashMap::new();
    let rows: Vec<(i64, String, String)> = match vanished {
        Vanished::Delete => {
            sqlx::query_as("SELECT id, external_id, content_hash FROM feedback WHERE source = ?1")
                .bind(source.to_owned())
                .fetch_all(&mut **tx)
                .await
                .map_err(db_error)?
        }
        Vanished::Keep => {
            let mut rows = Vec::new();
            for chunk in encoded.chunks(CHUNK) {
                let mut query = QueryBuilder::<Sqlite>::new(
                    "SELECT id, external_id, content_hash FROM feedback WHERE source = ",
                );
                query
                    .push_bind(source.to_owned())
                    .push(" AND external_id IN (");
                let mut ids = query.separated(", ");
                for record in chunk {
                    ids.push_bind(record.record.external_id.clone());
                }
                query.push(")");
                rows.extend(
                    query
                        .build_query_as::<(i64, String, String)>()
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(db_error)?,
                );
            }
            rows
        }
    };
    for (id, external_id, hash) in rows {
        found.insert(external_id, (id, hash));
    }
    Ok(found)
}

/// What an `INSERT` of [`upsert_chunk`] does with a row already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conflict {
    /// Records the transaction found missing: a conflict cannot happen, and any failed
    /// constraint fails the statement and so the write. `OR FAIL` rather than the default
    /// `ABORT` spares SQLite a statement journal (a copy of every page the statement changes,
    /// written to a temporary file so that the statement alone can be undone): the whole
    /// transaction is rolled back on an error anyway.
    Fail,
    /// Records changed: the stored row is rewritten.
    Update,
}

/// Inserts new records or rewrites changed ones; `first_seen_at` is kept on a rewrite.
async fn upsert_chunk(
    tx: &mut Transaction<'static, Sqlite>,
    source: &str,
    chunk: &[&Encoded],
    now: Timestamp,
    conflict: Conflict,
) -> StoreResult<()> {
    let mut query = QueryBuilder::<Sqlite>::new(match conflict {
        Conflict::Fail => "INSERT OR FAIL INTO feedback ",
        Conflict::Update => "INSERT INTO feedback ",
    });
    query.push(
        "(source, external_id, created_at, updated_at, customer_name,
             customer_email, channel, group_name, rating, sentiment_label, sentiment_score,
             sentiment_origin, title, body, tags, status, value, raw, content_hash, first_seen_at,
             synced_at) ",
    );
    // Borrowed, not cloned: SQLite copies each value as it is bound.
    query.push_values(chunk, |mut row, encoded| {
        let record = &encoded.record;
        row.push_bind(source)
            .push_bind(record.external_id.as_str())
            .push_bind(record.created_at.map(ms))
            .push_bind(record.updated_at.map(ms))
            .push_bind(record.customer_name.as_deref())
            .push_bind(record.customer_email.as_deref())
            .push_bind(record.channel.as_deref())
            .push_bind(record.group.as_deref())
            .push_bind(record.rating)
            .push_bind(record.sentiment_label.as_deref())
            .push_bind(record.sentiment_score)
            .push_bind(record.sentiment_origin.map(SentimentOrigin::as_str))
            .push_bind(record.title.as_deref())
            .push_bind(record.body.as_deref())
            .push_bind(encoded.tags.as_str())
            .push_bind(record.status.as_deref())
            .push_bind(record.value)
            .push_bind(record.raw.as_str())
            .push_bind(encoded.hash.as_str())
            .push_bind(ms(now))
            .push_bind(ms(now));
    });
    if conflict == Conflict::Fail {
        query.build().execute(&mut **tx).await.map_err(db_error)?;
        return Ok(());
    }
    query.push(
        " ON CONFLICT (source, external_id) DO UPDATE SET
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             customer_name = excluded.customer_name, customer_email = excluded.customer_email,
             channel = excluded.channel, group_name = excluded.group_name,
             rating = excluded.rating, sentiment_label = excluded.sentiment_label,
             sentiment_score = excluded.sentiment_score,
             sentiment_origin = excluded.sentiment_origin, title = excluded.title,
             body = excluded.body, tags = excluded.tags, status = excluded.status,
             value = excluded.value, raw = excluded.raw, content_hash = excluded.content_hash,
             synced_at = excluded.synced_at",
    );
    query.build().execute(&mut **tx).await.map_err(db_error)?;
    Ok(())
}

pub(crate) async fn get(store: &SqliteStore, id: FeedbackId) -> StoreResult<Feedback> {
    let row = sqlx::query("SELECT * FROM feedback WHERE id = ?1")
        .bind(id.0)
        .fetch_optional(&store.reader)
        .await
        .map_err(db_error)?;
    match row {
        Some(row) => rows::feedback(&row),
        None => Err(StoreError::not_found("feedback", &id)),
    }
}

fn sort_column(sort: FeedbackSort) -> &'static str {
    match sort {
        FeedbackSort::Created => "created_at",
        FeedbackSort::Updated => "updated_at",
        FeedbackSort::Rating => "rating",
    }
}

fn push_key(query: &mut QueryBuilder<Sqlite>, key: FeedbackSortKey) {
    match key {
        FeedbackSortKey::Millis(ms) => query.push_bind(ms),
        FeedbackSortKey::Rating(rating) => query.push_bind(rating),
    };
}

pub(crate) async fn list(
    store: &SqliteStore,
    params: FeedbackListParams,
) -> StoreResult<Page<Feedback>> {
    let limit = page::limit(params.limit, FEEDBACK_PAGE_MAX);
    let (sort, order) = (params.sort, params.order);
    let after = params
        .cursor
        .as_deref()
        .map(|text| FeedbackCursor::parse(text, sort, order))
        .transpose()?;

    let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM feedback WHERE true");
    if let Some(source) = params.source {
        query.push(" AND source = ").push_bind(source);
    }
    if let Some(from) = params.created_from {
        query.push(" AND created_at >= ").push_bind(ms(from));
    }
    if let Some(to) = params.created_to {
        query.push(" AND created_at < ").push_bind(ms(to));
    }
    if let Some(from) = params.updated_from {
        query.push(" AND updated_at >= ").push_bind(ms(from));
    }
    if let Some(to) = params.updated_to {
        query.push(" AND updated_at < ").push_bind(ms(to));
    }
    if let Some(group) = params.group {
        query.push(" AND group_name = ").push_bind(group);
    }
    if let Some(channel) = params.channel {
        query.push(" AND channel = ").push_bind(channel);
    }
    if let Some(min) = params.rating_min {
        query.push(" AND rating >= ").push_bind(min);
    }
    if let Some(max) = params.rating_max {
        query.push(" AND rating <= ").push_bind(max);
    }
    if let Some(sentiment) = params.sentiment {
        query.push(" AND sentiment_label = ").push_bind(sentiment);
    }
    if let Some(status) = params.status {
        query.push(" AND status = ").push_bind(status);
    }
    if let Some(tag) = params.tag {
        query
            .push(" AND EXISTS (SELECT 1 FROM json_each(feedback.tags) AS t WHERE t.value = ")
            .push_bind(tag)
            .push(")");
    }
    if let Some(text) = params.text {
        // SQLite's lower() folds ASCII only; the needle is folded fully here.
        let needle = text.to_lowercase();
        query.push(" AND (");
        for (i, column) in ["title", "body", "customer_name"].into_iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query
                .push(format_args!("instr(lower(COALESCE({column}, '')), "))
                .push_bind(needle.clone())
                .push(") > 0");
        }
        query.push(")");
    }

    // Keyset pagination in the order `column, id`, records without the value last in either
    // direction: the page starts strictly after the cursor's (value, id).
    let column = sort_column(sort);
    let cmp = match order {
        SortOrder::Asc => ">",
        SortOrder::Desc => "<",
    };
    if let Some(after) = after {
        match after.key {
            Some(key) => {
                query.push(format_args!(" AND ({column} {cmp} "));
                push_key(&mut query, key);
                query.push(format_args!(" OR ({column} = "));
                push_key(&mut query, key);
                query
                    .push(format_args!(" AND id {cmp} "))
                    .push_bind(after.id.0)
                    .push(format_args!(") OR {column} IS NULL)"));
            }
            None => {
                query
                    .push(format_args!(" AND {column} IS NULL AND id {cmp} "))
                    .push_bind(after.id.0);
            }
        }
    }
    // SQLite sorts NULL below every value, so newest-first already ends with the records
    // without one, and walks the `(column, id)` index backwards; oldest-first needs the
    // `IS NULL` term (and a sort).
    match order {
        SortOrder::Desc => query.push(format_args!(" ORDER BY {column} DESC, id DESC LIMIT ")),
        SortOrder::Asc => query.push(format_args!(
            " ORDER BY {column} IS NULL, {column} ASC, id ASC LIMIT "
        )),
    };
    query.push_bind(i64::from(limit) + 1);

    let mut items = query
        .build()
        .fetch_all(&store.reader)
        .await
        .map_err(db_error)?
        .iter()
        .map(rows::feedback)
        .collect::<StoreResult<Vec<_>>>()?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items
            .last()
            .map(|last| FeedbackCursor::after(last, sort).encode(sort, order))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub(crate) async fn count(store: &SqliteStore, source: Option<&str>) -> StoreResult<u64> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE ?1 IS NULL OR source = ?1")
            .bind(source.map(str::to_owned))
            .fetch_one(&store.reader)
            .await
            .map_err(db_error)?;
    Ok(u64::try_from(count).unwrap_or_default())
}
