//! API keys: create, list, look up by prefix, revoke, touch, count.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use tidings_store::{ApiKey, ApiKeyCreateParams, ApiKeyId, ApiKeyRole, StoreError, StoreResult};

use crate::SqliteStore;
use crate::error::{corrupt, db_error};
use crate::rows::{ms, timestamp};

fn column<'r, T>(row: &'r SqliteRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name).map_err(db_error)
}

fn optional_instant(row: &SqliteRow, name: &str) -> StoreResult<Option<Timestamp>> {
    column::<Option<i64>>(row, name)?.map(timestamp).transpose()
}

/// A `SELECT *` / `RETURNING *` row of `api_keys`, without its hash.
fn api_key(row: &SqliteRow) -> StoreResult<ApiKey> {
    let role: String = column(row, "role")?;
    Ok(ApiKey {
        id: ApiKeyId(column(row, "id")?),
        name: column(row, "name")?,
        role: ApiKeyRole::parse(&role).ok_or_else(|| corrupt("an API key role", &role))?,
        prefix: column(row, "prefix")?,
        created_at: timestamp(column(row, "created_at")?)?,
        last_used_at: optional_instant(row, "last_used_at")?,
        revoked_at: optional_instant(row, "revoked_at")?,
    })
}

/// Two unique rules can refuse a new key: the active name, and the prefix. SQLite's message
/// names the column (`UNIQUE constraint failed: api_keys.prefix`).
fn taken(params: &ApiKeyCreateParams, error: sqlx::Error) -> StoreError {
    let on_prefix = matches!(&error, sqlx::Error::Database(db)
        if db.message().contains("api_keys.prefix"));
    match db_error(error) {
        StoreError::Conflict(_) if on_prefix => StoreError::Conflict(format!(
            "an API key with prefix `{}` already exists",
            params.prefix
        )),
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "an active API key named `{}` already exists",
            params.name
        )),
        other => other,
    }
}

pub(crate) async fn create(store: &SqliteStore, params: ApiKeyCreateParams) -> StoreResult<ApiKey> {
    let row = sqlx::query(
        "INSERT INTO api_keys (name, role, prefix, hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         RETURNING *",
    )
    .bind(&params.name)
    .bind(params.role.as_str())
    .bind(&params.prefix)
    .bind(&params.hash)
    .bind(ms(params.now))
    .fetch_one(&store.writer)
    .await
    .map_err(|e| taken(&params, e))?;
    api_key(&row)
}

pub(crate) async fn list(store: &SqliteStore) -> StoreResult<Vec<ApiKey>> {
    sqlx::query("SELECT * FROM api_keys ORDER BY id")
        .fetch_all(&store.reader)
        .await
        .map_err(db_error)?
        .iter()
        .map(api_key)
        .collect()
}

pub(crate) async fn lookup(
    store: &SqliteStore,
    prefix: &str,
) -> StoreResult<Option<(ApiKey, Vec<u8>)>> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE prefix = ?1 AND revoked_at IS NULL")
        .bind(prefix)
        .fetch_optional(&store.reader)
        .await
        .map_err(db_error)?;
    row.map(|row| Ok((api_key(&row)?, column(&row, "hash")?)))
        .transpose()
}

/// A name is preferred to a prefix when the text is both (one key's name, another's prefix).
pub(crate) async fn revoke(
    store: &SqliteStore,
    name_or_prefix: &str,
    now: Timestamp,
) -> StoreResult<ApiKey> {
    let mut tx = store.begin_write().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM api_keys
         WHERE revoked_at IS NULL AND (name = ?1 OR prefix = ?1)
         ORDER BY name = ?1 DESC, id
         LIMIT 1",
    )
    .bind(name_or_prefix)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some(id) = id else {
        return Err(StoreError::not_found(
            "API key",
            &format!("`{name_or_prefix}`"),
        ));
    };
    let row = sqlx::query("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 RETURNING *")
        .bind(id)
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    let key = api_key(&row)?;
    tx.commit().await.map_err(db_error)?;
    Ok(key)
}

pub(crate) async fn touch(store: &SqliteStore, id: ApiKeyId, now: Timestamp) -> StoreResult<()> {
    let updated = sqlx::query(
        "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, ?2), ?2) WHERE id = ?1",
    )
    .bind(id.0)
    .bind(ms(now))
    .execute(&store.writer)
    .await
    .map_err(db_error)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found("API key", &id));
    }
    Ok(())
}

pub(crate) async fn count_active(store: &SqliteStore) -> StoreResult<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL")
        .fetch_one(&store.reader)
        .await
        .map_err(db_error)?;
    Ok(u64::try_from(count).unwrap_or_default())
}
