//! Opening the pool: parsing the URL, the optional schema every connection works in, and
//! connection errors that say where and why without ever showing the password.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool};
use tidings_store::StoreError;

use crate::error::classify;

/// How [`crate::PostgresStore::connect`] opens the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Pool size.
    pub max_connections: u32,
    /// Work in this schema instead of the default search path: it is created if missing, every
    /// pooled connection uses it as its only `search_path`, and migrations (with their
    /// `_sqlx_migrations` table) run into it. Tests use one fresh schema each.
    pub schema: Option<String>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 10,
            schema: None,
        }
    }
}

/// A schema name checked to be a plain identifier (ASCII letters, digits and `_`, not starting
/// with a digit, at most 63 bytes), so it can be quoted into DDL and a startup option safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaName(String);

impl SchemaName {
    pub(crate) fn parse(name: &str) -> Result<SchemaName, StoreError> {
        let invalid = |reason: &str| {
            StoreError::Internal(format!("invalid PostgreSQL schema name `{name}`: {reason}"))
        };
        if name.is_empty() || name.len() > 63 {
            return Err(invalid("it must be 1 to 63 characters long"));
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(invalid("it must not start with a digit"));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid("use only ASCII letters, digits and `_`"));
        }
        Ok(SchemaName(name.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a quoted SQL identifier.
    pub(crate) fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// Where a URL points, for messages: `host:port`, database and user, never the password.
/// A statement that takes longer is logged as a warning. sqlx's default, a second, warned of
/// every statistics refresh over a million records and of every large full sync: a streamed
/// statement counts until its last row has been consumed.
const SLOW_STATEMENT: Duration = Duration::from_secs(5);

fn describe_target(options: &PgConnectOptions) -> String {
    let place = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None if options.get_host().starts_with('/') => options.get_host().to_owned(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let database = options
        .get_database()
        .unwrap_or_else(|| options.get_username());
    format!(
        "PostgreSQL at {place} (database `{database}`, user `{}`)",
        options.get_username()
    )
}

/// The password written in `url`, if any, so that messages can be scrubbed of it.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then_some(password)
}

/// `message` with every occurrence of the URL's password replaced.
fn scrub(message: String, url: &str) -> String {
    match url_password(url) {
        Some(password) => message.replace(password, "[redacted]"),
        None => message,
    }
}

/// Opens the pool described by `url` and `options`, creating the schema if one is named.
pub(crate) async fn open_pool(
    url: &str,
    options: &PostgresOptions,
) -> Result<(PgPool, Option<SchemaName>), StoreError> {
    let schema = options
        .schema
        .as_deref()
        .map(SchemaName::parse)
        .transpose()?;
    let mut connect_options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Internal(scrub(format!("invalid PostgreSQL URL: {e}"), url)))?;
    connect_options = connect_options
        .application_name("tidings")
        .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
    if let Some(schema) = &schema {
        // A startup parameter rather than a `SET` after connecting: every connection the pool
        // ever opens works in the schema from its first statement, at no extra round trip.
        connect_options = connect_options.options([("search_path", schema.quoted())]);
    }
    let target = describe_target(&connect_options);
    let unreachable = |e: &sqlx::Error| {
        let why = match e {
            sqlx::Error::Database(db) => db.message().to_owned(),
            other => other.to_string(),
        };
        StoreError::Unavailable(scrub(format!("cannot connect to {target}: {why}"), url))
    };

    // One direct connection first: it fails at once with the real cause (the pool would retry
    // a refused connection until its acquire timeout and then only say "timed out"), and it
    // creates the schema before the pool hands out connections that expect it.
    let mut first = connect_options
        .connect()
        .await
        .map_err(|e| unreachable(&e))?;
    if let Some(schema) = &schema {
        create_schema(&mut first, schema).await?;
    }
    first.close().await.ok();

    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .connect_with(connect_options)
        .await
        .map_err(|e| unreachable(&e))?;
    Ok((pool, schema))
}

async fn create_schema(conn: &mut PgConnection, schema: &SchemaName) -> Result<(), StoreError> {
    let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted());
    match sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await {
        Ok(_) => Ok(()),
        // Two stores creating the same schema at once: IF NOT EXISTS is not atomic, and the
        // loser gets a unique violation on the catalog. The schema exists, which is the point.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => Ok(()),
        Err(e) => Err(classify(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_found_and_scrubbed() {
        let url = "postgres://tidings:s3cr%40t@db.internal:5433/prod?sslmode=require";
        assert_eq!(url_password(url), Some("s3cr%40t"));
        assert_eq!(
            scrub("failed for s3cr%40t".to_owned(), url),
            "failed for [redacted]"
        );
        assert_eq!(url_password("postgres://postgres@127.0.0.1/test"), None);
        assert_eq!(url_password("postgres://127.0.0.1/test"), None);
    }

    #[test]
    fn targets_name_host_database_and_user_only() {
        let options =
            PgConnectOptions::from_str("postgres://tidings:hunter2@db.internal:5433/prod").unwrap();
        let text = describe_target(&options);
        assert_eq!(
            text,
            "PostgreSQL at db.internal:5433 (database `prod`, user `tidings`)"
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert_eq!(
            SchemaName::parse("tidings_test_1f").unwrap().quoted(),
            "\"tidings_test_1f\""
        );
        for bad in [
            "",
            "1abc",
            "a-b",
            "a\"b",
            "x; DROP TABLE y",
            &"a".repeat(64),
        ] {
            assert!(SchemaName::parse(bad).is_err(), "{bad}");
        }
    }
}
