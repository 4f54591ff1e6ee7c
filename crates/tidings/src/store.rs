//! Opening the store named by `database.url`: SQLite (`sqlite://PATH`, its folder created) or
//! PostgreSQL (`postgres://…`). This is the one place that names both backends.
//!
//! `serve` opens a SQLite file exclusively, so that a second server on the same file is refused
//! (several instances need PostgreSQL); the command-line tools open it shared and work beside a
//! running server. No message shows the database password.

use std::sync::Arc;

use tidings_store::{Store, StoreError};
use tidings_store_postgres::{PostgresOptions, PostgresStore};
use tidings_store_sqlite::{SqliteOptions, SqliteStore};

use crate::config::{Backend, DatabaseUrl};
use crate::secret::{REDACTED, Secret};

/// Who is opening the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `tidings serve`: the only server on a SQLite file; a pool sized for `connections`
    /// concurrent users on PostgreSQL.
    Serve { connections: u32 },
    /// A command-line tool: shares a SQLite file with a running server; a small pool.
    Tool,
}

/// Connections a command-line tool opens on PostgreSQL.
const TOOL_CONNECTIONS: u32 = 2;

/// Why the store could not be opened. The message never contains the password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Another `tidings serve` holds the SQLite file.
    #[error("{0}")]
    Locked(String),
    #[error("cannot open the database {url}: {reason}")]
    Failed { url: String, reason: String },
}

/// Opens the store at `url`. Does not migrate: call [`Store::migrate`].
pub async fn open(url: &DatabaseUrl, access: Access) -> Result<Arc<dyn Store>, OpenError> {
    let opened: Result<Arc<dyn Store>, StoreError> = match url.backend() {
        Backend::Sqlite => {
            let options = SqliteOptions {
                exclusive: matches!(access, Access::Serve { .. }),
            };
            SqliteStore::open_url(&url.expose(), options)
                .await
                .map(|store| Arc::new(store) as Arc<dyn Store>)
        }
        Backend::Postgres => {
            let max_connections = match access {
                Access::Serve { connections } => connections.max(2),
                Access::Tool => TOOL_CONNECTIONS,
            };
            let options = PostgresOptions {
                max_connections,
                schema: None,
            };
            PostgresStore::connect(&url.expose(), options)
                .await
                .map(|store| Arc::new(store) as Arc<dyn Store>)
        }
    };
    opened.map_err(|error| match error {
        StoreError::Locked(message) => OpenError::Locked(scrub(message, url)),
        other => OpenError::Failed {
            url: url.to_string(),
            reason: scrub(other.to_string(), url),
        },
    })
}

/// How many migrations this build has for `backend`: after a successful migration, how many
/// the database has applied.
pub fn migration_count(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => SqliteStore::migrations().len(),
        Backend::Postgres => PostgresStore::migrations().len(),
    }
}

/// `message` with the URL's password, should a driver have echoed it, replaced.
pub(crate) fn scrub(message: String, url: &DatabaseUrl) -> String {
    match url.password().map(Secret::expose) {
        Some(password) if !password.is_empty() => message.replace(password, REDACTED),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_scrubbed_of_the_password() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db/tidings").unwrap();
        assert_eq!(
            scrub("password hunter2 refused".to_owned(), &url),
            "password [redacted] refused"
        );
    }

    #[tokio::test]
    async fn a_second_server_on_a_sqlite_file_is_refused_but_tools_share_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/t.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let serving = open(&url, Access::Serve { connections: 4 }).await.unwrap();
        assert!(path.parent().unwrap().is_dir(), "the folder is created");

        let Err(refused) = open(&url, Access::Serve { connections: 4 }).await else {
            panic!("a second server opened the file");
        };
        assert!(matches!(refused, OpenError::Locked(_)), "{refused:?}");
        assert!(
            refused
                .to_string()
                .contains("SQLite allows one instance — run several instances on PostgreSQL"),
            "{refused}"
        );
        let tool = open(&url, Access::Tool).await.unwrap();
        drop((serving, tool));
    }

    #[tokio::test]
    async fn an_unreachable_postgres_names_the_redacted_url() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@127.0.0.1:1/tidings").unwrap();
        let Err(error) = open(&url, Access::Tool).await else {
            panic!("connected to port 1");
        };
        let message = error.to_string();
        assert!(
            message.starts_with(
                "cannot open the database postgres://app:[redacted]@127.0.0.1:1/tidings: "
            ),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }
}
