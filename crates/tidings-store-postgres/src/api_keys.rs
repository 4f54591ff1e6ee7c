//! API keys: create, list, look up by prefix, revoke, touch, count.

use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tidings_store::{ApiKey, ApiKeyCreateParams, ApiKeyId, ApiKeyRole, StoreError};

use crate::error::{Error, Result};
use crate::rows::{instant, ms};

/// The unique rules a new key can hit (see `0002_api_keys.sql`).
const ACTIVE_NAME_INDEX: &str = "api_keys_active_name_idx";
const PREFIX_CONSTRAINT: &str = "api_keys_prefix_key";

fn optional_instant(row: &PgRow, column: &str) -> Result<Option<Timestamp>> {
    row.try_get::<Option<i64>, _>(column)?
        .map(|ms| instant(column, ms))
        .transpose()
}

/// A `SELECT *` / `RETURNING *` row of `api_keys`, without its hash.
fn api_key(row: &PgRow) -> Result<ApiKey> {
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: ApiKeyId(row.try_get("id")?),
        name: row.try_get("name")?,
        role: ApiKeyRole::parse(&role)
            .ok_or_else(|| Error::corrupt(format!("unknown API key role `{role}`")))?,
        prefix: row.try_get("prefix")?,
        created_at: instant("created_at", row.try_get("created_at")?)?,
        last_used_at: optional_instant(row, "last_used_at")?,
        revoked_at: optional_instant(row, "revoked_at")?,
    })
}

/// A unique violation on the active name or the prefix, said in the domain's words.
fn taken(params: &ApiKeyCreateParams, error: sqlx::Error) -> Error {
    let constraint = match &error {
        sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
        _ => None,
    };
    match constraint.as_deref() {
        Some(ACTIVE_NAME_INDEX) => Error::Store(StoreError::Conflict(format!(
            "an active API key named `{}` already exists",
            params.name
        ))),
        Some(PREFIX_CONSTRAINT) => Error::Store(StoreError::Conflict(format!(
            "an API key with prefix `{}` already exists",
            params.prefix
        ))),
        _ => Error::Sql(error),
    }
}

pub(crate) async fn create(pool: &PgPool, params: ApiKeyCreateParams) -> Result<ApiKey> {
    let row = sqlx::query(
        "INSERT INTO api_keys (name, role, prefix, hash, created_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING *",
    )
    .bind(&params.name)
    .bind(params.role.as_str())
    .bind(&params.prefix)
    .bind(&params.hash)
    .bind(ms(params.now))
    .fetch_one(pool)
    .await
    .map_err(|e| taken(&params, e))?;
    api_key(&row)
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<ApiKey>> {
    sqlx::query("SELECT * FROM api_keys ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(api_key)
        .collect()
}

pub(crate) async fn lookup(pool: &PgPool, prefix: &str) -> Result<Option<(ApiKey, Vec<u8>)>> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL")
        .bind(prefix)
        .fetch_optional(pool)
        .await?;
    row.map(|row| Ok((api_key(&row)?, row.try_get("hash")?)))
        .transpose()
}

/// A name is preferred to a prefix when the text is both (one key's name, another's prefix).
/// The outer `revoked_at IS NULL` is checked again after waiting for a concurrent revoke of the
/// same key, so only one of them revokes it; the other finds nothing.
pub(crate) async fn revoke(pool: &PgPool, name_or_prefix: &str, now: Timestamp) -> Result<ApiKey> {
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = $2
         WHERE revoked_at IS NULL
           AND id = (SELECT id FROM api_keys
                     WHERE revoked_at IS NULL AND (name = $1 OR prefix = $1)
                     ORDER BY name = $1 DESC, id
                     LIMIT 1)
         RETURNING *",
    )
    .bind(name_or_prefix)
    .bind(ms(now))
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => api_key(&row),
        None => Err(Error::Store(StoreError::not_found(
            "API key",
            &format!("`{name_or_prefix}`"),
        ))),
    }
}

pub(crate) async fn touch(pool: &PgPool, id: ApiKeyId, now: Timestamp) -> Result<()> {
    // GREATEST ignores NULL: the first use sets it, a late, earlier one does not move it back.
    let updated =
        sqlx::query("UPDATE api_keys SET last_used_at = GREATEST(last_used_at, $2) WHERE id = $1")
            .bind(id.0)
            .bind(ms(now))
            .execute(pool)
            .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::Store(StoreError::not_found("API key", &id)));
    }
    Ok(())
}

pub(crate) async fn count_active(pool: &PgPool) -> Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}
