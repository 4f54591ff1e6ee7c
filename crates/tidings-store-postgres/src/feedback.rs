//! The feedback cache: full syncs (replace a source's set), upserts, reads and lists.
//!
//! A write takes a transaction-scoped advisory lock on the source, so that two syncs of one
//! source (two instances, or a full and an incremental run) take turns instead of deciding
//! against each other's half-written rows; other sources' syncs run beside it. It then reads
//! the source's `(external_id, content_hash)` pairs, decides in Rust what is new, changed,
//! unchanged or gone, and writes only the new and changed rows, in
//! `INSERT … SELECT FROM UNNEST(…) ON CONFLICT` statements of up to [`CHUNK`] rows. Readers keep
//! seeing the old rows until the commit.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use tidings_store::{
    FEEDBACK_PAGE_MAX, Feedback, FeedbackCursor, FeedbackId, FeedbackListParams, FeedbackRecord,
    FeedbackSort, FeedbackSortKey, FeedbackWritten, Page, SentimentOrigin, SortOrder, StoreError,
};

use crate::error::{Error, Result};
use crate::rows::{self, ms, opt_ms};

/// Rows per statement: bounds the size of one message, not the parameters (see `upsert_chunk`).
const CHUNK: usize = 5_000;

/// What a write does with the records it is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vanished {
    /// A full sync: they are deleted.
    Delete,
    /// An upsert: they are kept.
    Keep,
}

/// Refuses a set that names one `external_id` twice; returns each record's content hash.
fn hashes(source: &str, records: &[FeedbackRecord]) -> Result<Vec<String>> {
    let mut seen = HashSet::with_capacity(records.len());
    records
        .iter()
        .map(|record| {
            if seen.insert(record.external_id.as_str()) {
                Ok(record.content_hash())
            } else {
                Err(Error::Store(StoreError::Conflict(format!(
                    "record `{}` appears twice in the records given for source `{source}`",
                    record.external_id
                ))))
            }
        })
        .collect()
}

/// Writes `records` for `source` in one transaction; see the module header.
pub(crate) async fn write(
    pool: &PgPool,
    source: &str,
    records: &[FeedbackRecord],
    now: Timestamp,
    vanished: Vanished,
) -> Result<FeedbackWritten> {
    let hashes = hashes(source, records)?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('tidings.feedback:' || $1, 0))")
        .bind(source)
        .execute(&mut *tx)
        .await?;
    let existing = existing(&mut tx, source, records, vanished).await?;

    let mut written = FeedbackWritten::default();
    let mut changed = Vec::new();
    for (record, hash) in records.iter().zip(&hashes) {
        match existing.get(&record.external_id) {
            None => {
                written.inserted += 1;
                changed.push((record, hash));
            }
            Some((_, stored)) if stored == hash => written.unchanged += 1,
            Some(_) => {
                written.updated += 1;
                changed.push((record, hash));
            }
        }
    }
    for chunk in changed.chunks(CHUNK) {
        upsert_chunk(&mut tx, source, chunk, now).await?;
    }
    if vanished == Vanished::Delete {
        let given: HashSet<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
        let gone: Vec<i64> = existing
            .iter()
            .filter(|(external_id, _)| !given.contains(external_id.as_str()))
            .map(|(_, (id, _))| *id)
            .collect();
        if !gone.is_empty() {
            sqlx::query("DELETE FROM feedback WHERE id = ANY($1)")
                .bind(&gone)
                .execute(&mut *tx)
                .await?;
        }
        written.deleted = gone.len() as u64;
    }
    tx.commit().await?;
    Ok(written)
}

/// The stored `(id, content_hash)` by `external_id`: every record of the source for a full
/// sync, the given ones for an upsert.
async fn existing(
    tx: &mut Transaction<'static, Postgres>,
    source: &str,
    records: &[FeedbackRecord],
    vanished: Vanished,
) -> Result<HashMap<String, (i64, String)>> {
    let rows: Vec<(i64, String, String)> = match vanished {
        Vanished::Delete => {
            sqlx::query_as("SELECT id, external_id, content_hash FROM feedback WHERE source = $1")
                .bind(source)
                .fetch_all(&mut **tx)
                .await?
        }
        Vanished::Keep => {
            let ids: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
            sqlx::query_as(
                "SELECT id, external_id, content_hash FROM feedback
                 WHERE source = $1 AND external_id = ANY($2)",
            )
            .bind(source)
            .bind(&ids)
            .fetch_all(&mut **tx)
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|(id, external_id, hash)| (external_id, (id, hash)))
        .collect())
}

/// Inserts new records and rewrites changed ones; `first_seen_at` is kept on a rewrite. The
/// rows travel as one array per column, unnested into rows: one statement of 19 parameters
/// whatever the number of rows, planned once.
async fn upsert_chunk(
    tx: &mut Transaction<'static, Postgres>,
    source: &str,
    chunk: &[(&FeedbackRecord, &String)],
    now: Timestamp,
) -> Result<()> {
    fn column<T>(
        chunk: &[(&FeedbackRecord, &String)],
        value: impl Fn(&FeedbackRecord) -> T,
    ) -> Vec<T> {
        chunk.iter().map(|(record, _)| value(record)).collect()
    }
    let text = |value: fn(&FeedbackRecord) -> &Option<String>| column(chunk, |r| value(r).clone());
    sqlx::query(
        "INSERT INTO feedback (source, external_id, created_at, updated_at, customer_name,
             customer_email, channel, group_name, rating, sentiment_label, sentiment_score,
             sentiment_origin, title, body, tags, status, value, raw, content_hash, first_seen_at,
             synced_at)
         SELECT $1, r.*, $20, $20
         FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::float8[], $10::text[], $11::float8[], $12::text[],
                     $13::text[], $14::text[], $15::jsonb[], $16::text[], $17::float8[],
                     $18::text[]::json[], $19::text[]) AS r
         ON CONFLICT (source, external_id) DO UPDATE SET
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
             customer_name = EXCLUDED.customer_name, customer_email = EXCLUDED.customer_email,
             channel = EXCLUDED.channel, group_name = EXCLUDED.group_name,
             rating = EXCLUDED.rating, sentiment_label = EXCLUDED.sentiment_label,
             sentiment_score = EXCLUDED.sentiment_score,
             sentiment_origin = EXCLUDED.sentiment_origin, title = EXCLUDED.title,
             body = EXCLUDED.body, tags = EXCLUDED.tags, status = EXCLUDED.status,
             value = EXCLUDED.value, raw = EXCLUDED.raw, content_hash = EXCLUDED.content_hash,
             synced_at = EXCLUDED.synced_at",
    )
    .bind(source)
    .bind(column(chunk, |r| r.external_id.clone()))
    .bind(column(chunk, |r| opt_ms(r.created_at)))
    .bind(column(chunk, |r| opt_ms(r.updated_at)))
    .bind(text(|r| &r.customer_name))
    .bind(text(|r| &r.customer_email))
    .bind(text(|r| &r.channel))
    .bind(text(|r| &r.group))
    .bind(column(chunk, |r| r.rating))
    .bind(text(|r| &r.sentiment_label))
    .bind(column(chunk, |r| r.sentiment_score))
    .bind(column(chunk, |r| {
        r.sentiment_origin.map(SentimentOrigin::as_str)
    }))
    .bind(text(|r| &r.title))
    .bind(text(|r| &r.body))
    .bind(column(chunk, |r| serde_json::Value::from(r.tags.clone())))
    .bind(text(|r| &r.status))
    .bind(column(chunk, |r| r.value))
    .bind(
        chunk
            .iter()
            .map(|(record, _)| record.raw.as_str())
            .collect::<Vec<&str>>(),
    )
    .bind(
        chunk
            .iter()
            .map(|(_, hash)| (*hash).clone())
            .collect::<Vec<String>>(),
    )
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn get(pool: &PgPool, id: FeedbackId) -> Result<Feedback> {
    let row = sqlx::query("SELECT * FROM feedback WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => rows::feedback(&row),
        None => Err(Error::Store(StoreError::not_found("feedback", &id))),
    }
}

fn sort_column(sort: FeedbackSort) -> &'static str {
    match sort {
        FeedbackSort::Created => "created_at",
        FeedbackSort::Updated => "updated_at",
        FeedbackSort::Rating => "rating",
    }
}

fn push_key(query: &mut QueryBuilder<Postgres>, key: FeedbackSortKey) {
    match key {
        FeedbackSortKey::Millis(ms) => query.push_bind(ms),
        FeedbackSortKey::Rating(rating) => query.push_bind(rating),
    };
}

pub(crate) async fn list(pool: &PgPool, params: FeedbackListParams) -> Result<Page<Feedback>> {
    let limit = rows::page_limit(params.limit, FEEDBACK_PAGE_MAX);
    let (sort, order) = (params.sort, params.order);
    let after = params
        .cursor
        .as_deref()
        .map(|text| FeedbackCursor::parse(text, sort, order))
        .transpose()?;

    let mut query = QueryBuilder::<Postgres>::new("SELECT * FROM feedback WHERE true");
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
            .push(" AND tags @> jsonb_build_array(")
            .push_bind(tag)
            .push("::text)");
    }
    if let Some(text) = params.text {
        let needle = text.to_lowercase();
        query.push(" AND (");
        for (i, column) in ["title", "body", "customer_name"].into_iter().enumerate() {
            if i > 0 {
                query.push(" OR ");
            }
            query
                .push(format_args!("strpos(lower(coalesce({column}, '')), "))
                .push_bind(needle.clone())
                .push(") > 0");
        }
        query.push(")");
    }

    // Keyset pagination in the order `column NULLS LAST, id` (records without the value last,
    // either direction): the page starts strictly after the cursor's (value, id).
    let column = sort_column(sort);
    let (cmp, dir) = match order {
        SortOrder::Asc => (">", "ASC"),
        SortOrder::Desc => ("<", "DESC"),
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
    query
        .push(format_args!(
            " ORDER BY {column} {dir} NULLS LAST, id {dir} LIMIT "
        ))
        .push_bind(limit + 1);

    let items = query
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::feedback)
        .collect::<Result<Vec<_>>>()?;
    let mut page = rows::page(items, limit, |f| f.id.0);
    page.next_cursor = page
        .next_cursor
        .and(page.items.last())
        .map(|last| FeedbackCursor::after(last, sort).encode(sort, order));
    Ok(page)
}

pub(crate) async fn count(pool: &PgPool, source: Option<&str>) -> Result<u64> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE $1::text IS NULL OR source = $1")
            .bind(source)
            .fetch_one(pool)
            .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}
