//! How PostgreSQL and sqlx failures become portable [`StoreError`]s.
//!
//! Inside the crate, operations return [`Error`], which keeps the raw sqlx error until the
//! boundary so that a transaction aborted by a deadlock or a serialization failure can be
//! retried before anyone sees it.

use sqlx::error::ErrorKind;
use tidings_store::StoreError;

/// A failure inside the crate: a database error not yet classified, or an already decided
/// store error (not found, invalid state, a corrupt row).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        match error {
            Error::Sql(error) => classify(&error),
            Error::Store(error) => error,
        }
    }
}

impl Error {
    /// A row that cannot be read back into its domain type.
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
        Error::Store(StoreError::Internal(what.to_string()))
    }

    /// True when PostgreSQL aborted the transaction to break a lock cycle (40P01) or a
    /// serialization conflict (40001): running the whole transaction again is safe and works.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, Error::Sql(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")))
    }

    /// True for a unique violation (SQLSTATE 23505).
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Sql(sqlx::Error::Database(db)) if db.kind() == ErrorKind::UniqueViolation)
    }

    /// True for a foreign key violation (SQLSTATE 23503).
    pub(crate) fn is_foreign_key_violation(&self) -> bool {
        matches!(self, Error::Sql(sqlx::Error::Database(db))
            if db.kind() == ErrorKind::ForeignKeyViolation)
    }
}

/// SQLSTATEs meaning "the server is going away or cannot take us now": class 08 (connection
/// exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
/// 53300 too_many_connections.
fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// Unique violations are conflicts; lost connections, pool timeouts and server shutdowns mean
/// the database is unavailable; a missing row is not found; the rest is internal. Messages
/// carry PostgreSQL's text only, never the SQL.
pub(crate) fn classify(error: &sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound {
            entity: "row",
            key: "requested".to_owned(),
        },
        sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.code().is_some_and(|code| is_unavailable_code(&code)) => {
            StoreError::Unavailable(format!("PostgreSQL: {}", db.message()))
        }
        sqlx::Error::Database(db) => StoreError::Internal(format!(
            "PostgreSQL error {}: {}",
            db.code().as_deref().unwrap_or("?"),
            db.message()
        )),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(format!("PostgreSQL connection: {error}"))
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// Attempts at a transaction that PostgreSQL aborted to break a deadlock before giving up.
const ATTEMPTS: u32 = 4;

/// Runs `transaction` again when PostgreSQL aborted it to break a lock cycle or a
/// serialization conflict (see [`Error::is_retryable`]); the aborted attempt left nothing.
pub(crate) async fn retrying<T, F, Fut>(mut transaction: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match transaction().await {
            Err(error) if error.is_retryable() && attempt < ATTEMPTS => {
                tracing::debug!(
                    attempt,
                    ?error,
                    "transaction aborted by PostgreSQL; retrying"
                );
                attempt += 1;
            }
            result => return result,
        }
    }
}
