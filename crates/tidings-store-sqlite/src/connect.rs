//! Opening a store: the URL, the folder, the lock, the pragmas and the two pools.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tidings_store::{StoreError, StoreResult};

use crate::SqliteStore;
use crate::error::db_error;
use crate::lock::InstanceLock;

/// How a [`SqliteStore`] is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Take an exclusive lock on `<database>.lock` for the store's life, so that a second
    /// `tidings serve` on the same file fails at once with [`StoreError::Locked`] instead of
    /// firing every schedule twice. `serve` sets it; CLI commands do not.
    pub exclusive: bool,
}

/// How long a connection waits for another process's write lock before giving up.
/// A statement that takes longer is logged as a warning. sqlx's default, a second, warned of
/// every statistics refresh over a million records: a streamed statement counts until its last
/// row has been consumed.
const SLOW_STATEMENT: Duration = Duration::from_secs(5);

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const ROW_BUFFER: usize = 1_024;

/// Reader connections: WAL lets them read while the writer writes.
const READERS: u32 = 4;

/// Reads `sqlite://PATH` or `sqlite:PATH`.
pub(crate) fn path_from_url(url: &str) -> StoreResult<PathBuf> {
    let invalid = |why: &str| {
        StoreError::InvalidState(format!(
            "invalid SQLite URL `{url}`: {why} (expected sqlite://PATH, e.g. sqlite://./data/tidings.db)"
        ))
    };
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("it does not start with sqlite:"))?;
    if path.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if path.contains('?') {
        return Err(invalid("URL options are not supported"));
    }
    if path == ":memory:" {
        return Err(invalid(
            "an in-memory database is not shared between connections",
        ));
    }
    Ok(PathBuf::from(path))
}

pub(crate) async fn open(path: &Path, options: SqliteOptions) -> StoreResult<SqliteStore> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the folder {}: {e}",
                folder.display()
            ))
        })?;
    }
    // The lock comes before the first connection: a refused second server touches nothing.
    let lock = if options.exclusive {
        Some(InstanceLock::acquire(path)?)
    } else {
        None
    };

    let common = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Normal)
        // Rows come from the connection's worker thread through a channel; a deep one lets a
        // 1,000-row batch (firing, claims, list pages) arrive without a thread hand-off per row.
        .row_buffer_size(ROW_BUFFER)
        .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);

    // The writer opens first: it creates the file and switches it to WAL (a setting kept in the
    // file). It is never closed while the store lives, so the WAL files stay in place for the
    // readers. Connections are local, so pinging them before each use would only add a round trip.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with(
            common
                .clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal),
        )
        .await
        .map_err(|e| opening(path, e))?;

    // `query_only` rather than SQLITE_OPEN_READONLY: a read-only handle on a WAL database needs
    // the -shm file to exist already, which is not guaranteed after a checkpoint-on-close.
    let reader = SqlitePoolOptions::new()
        .max_connections(READERS)
        .test_before_acquire(false)
        .connect_with(common.pragma("query_only", "ON"))
        .await
        .map_err(|e| opening(path, e))?;

    tracing::debug!(path = %path.display(), exclusive = options.exclusive, "opened SQLite store");
    Ok(SqliteStore {
        writer,
        reader,
        path: path.to_owned(),
        _lock: lock,
    })
}

fn opening(path: &Path, error: sqlx::Error) -> StoreError {
    match db_error(error) {
        StoreError::Unavailable(why) | StoreError::Internal(why) => {
            StoreError::Unavailable(format!("cannot open {}: {why}", path.display()))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_path() {
        assert_eq!(
            path_from_url("sqlite://./data/tidings.db").unwrap(),
            PathBuf::from("./data/tidings.db")
        );
        assert_eq!(
            path_from_url("sqlite:data/tidings.db").unwrap(),
            PathBuf::from("data/tidings.db")
        );
        assert_eq!(
            path_from_url("sqlite:///var/lib/tidings/tidings.db").unwrap(),
            PathBuf::from("/var/lib/tidings/tidings.db")
        );
        let error = path_from_url("postgres://localhost/tidings")
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected sqlite://PATH"), "{error}");
        assert!(path_from_url("sqlite://").is_err());
        assert!(path_from_url("sqlite::memory:").is_err());
        assert!(path_from_url("sqlite://x.db?mode=rwc").is_err());
    }
}
