//! sqlx errors classified as portable [`StoreError`]s.

use sqlx::error::ErrorKind;
use tidings_store::StoreError;

/// SQLite's primary result codes worth retrying: the database is busy or locked by another
/// connection (after `busy_timeout`), or the file cannot be read, written or opened.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;

/// Unique violations → `Conflict`; pool, I/O and busy errors → `Unavailable`; a missing row →
/// `NotFound`; anything else → `Internal`. Messages carry SQLite's text, never the SQL.
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => {
            let primary = db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .map(|code| code & 0xff);
            if db.kind() == ErrorKind::UniqueViolation {
                StoreError::Conflict(db.message().to_owned())
            } else if primary.is_some_and(|code| {
                matches!(
                    code,
                    SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN
                )
            }) {
                StoreError::Unavailable(db.message().to_owned())
            } else {
                StoreError::Internal(db.message().to_owned())
            }
        }
        sqlx::Error::RowNotFound => StoreError::NotFound {
            entity: "row",
            key: String::new(),
        },
        error @ (sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(error.to_string()),
        error => StoreError::Internal(error.to_string()),
    }
}

/// A value in the database that tidings cannot read back (a corrupt or hand-edited row).
pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("cannot read {what} from the database: {error}"))
}
