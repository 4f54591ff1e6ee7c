//! `DatabaseUrl`: where the store lives, with its password kept in a [`Secret`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::secret::{REDACTED, Secret};

/// A `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB` URL.
///
/// `Display`, `Debug` and `Serialize` show the password as `[redacted]`
/// (`postgres://app:[redacted]@db/tidings`); [`DatabaseUrl::expose`] gives the real URL to the
/// one place that connects.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// Everything up to the password, e.g. `postgres://app:` (or the whole URL if it has none).
    before_password: String,
    password: Option<Secret>,
    /// Everything after the password, e.g. `@db/tidings`.
    after_password: String,
}

/// The kind of database a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a database URL was refused. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "expected a URL such as `sqlite://./data/tidings.db` or `postgres://user:password@host/db`"
    )]
    NotAUrl,
    #[error("unsupported database scheme `{scheme}`: expected `sqlite://` or `postgres://`")]
    UnsupportedScheme { scheme: String },
}

impl DatabaseUrl {
    /// Parses a URL, recognising the backend by its scheme.
    pub fn parse(url: &str) -> Result<DatabaseUrl, DatabaseUrlError> {
        let url = url.trim();
        let (scheme, after_scheme) = url.split_once(':').ok_or(DatabaseUrlError::NotAUrl)?;
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            "" => return Err(DatabaseUrlError::NotAUrl),
            _ => {
                return Err(DatabaseUrlError::UnsupportedScheme {
                    scheme: scheme.to_owned(),
                });
            }
        };
        let whole = DatabaseUrl {
            backend,
            before_password: url.to_owned(),
            password: None,
            after_password: String::new(),
        };
        // A password sits in the authority (`//user:password@host`), which ends where the path does.
        let Some(rest) = after_scheme.strip_prefix("//") else {
            return Ok(whole);
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let Some(at) = rest[..authority_end].rfind('@') else {
            return Ok(whole);
        };
        let Some(colon) = rest[..at].find(':') else {
            return Ok(whole);
        };
        let offset = url.len() - rest.len();
        let (password_start, password_end) = (offset + colon + 1, offset + at);
        Ok(DatabaseUrl {
            backend,
            before_password: url[..password_start].to_owned(),
            password: Some(Secret::new(&url[password_start..password_end])),
            after_password: url[password_end..].to_owned(),
        })
    }

    /// A SQLite database at `path`.
    pub fn sqlite(path: &str) -> DatabaseUrl {
        DatabaseUrl {
            backend: Backend::Sqlite,
            before_password: format!("sqlite://{path}"),
            password: None,
            after_password: String::new(),
        }
    }

    /// Which store this URL selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The password, if the URL has one.
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    /// The full URL, password included, for connecting. Never log it.
    pub fn expose(&self) -> String {
        let password = self.password.as_ref().map_or("", Secret::expose);
        format!("{}{password}{}", self.before_password, self.after_password)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.before_password)?;
        if self.password.is_some() {
            f.write_str(REDACTED)?;
        }
        f.write_str(&self.after_password)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(url: &str) -> Result<DatabaseUrl, DatabaseUrlError> {
        DatabaseUrl::parse(url)
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DatabaseUrl, D::Error> {
        let url = String::deserialize(deserializer)?;
        DatabaseUrl::parse(&url).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_password_is_redacted_everywhere_but_expose() {
        let url = DatabaseUrl::parse(
            "postgres://app:p%40ss:word@db.internal:5432/tidings?sslmode=require",
        )
        .unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        assert_eq!(
            url.to_string(),
            "postgres://app:[redacted]@db.internal:5432/tidings?sslmode=require"
        );
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(postgres://app:[redacted]@db.internal:5432/tidings?sslmode=require)"
        );
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            r#""postgres://app:[redacted]@db.internal:5432/tidings?sslmode=require""#
        );
        assert_eq!(url.password().unwrap().expose(), "p%40ss:word");
        assert_eq!(
            url.expose(),
            "postgres://app:p%40ss:word@db.internal:5432/tidings?sslmode=require"
        );
    }

    #[test]
    fn urls_without_a_password_are_shown_as_written() {
        let sqlite = DatabaseUrl::parse("sqlite://./data/tidings.db").unwrap();
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(sqlite.to_string(), "sqlite://./data/tidings.db");
        assert_eq!(sqlite.expose(), "sqlite://./data/tidings.db");

        let no_password = DatabaseUrl::parse("postgresql://app@db/tidings").unwrap();
        assert!(no_password.password().is_none());
        assert_eq!(no_password.to_string(), "postgresql://app@db/tidings");

        // An `@` in the path is not a credential separator.
        let at_in_path = DatabaseUrl::parse("sqlite://./data/a:b@c.db").unwrap();
        assert_eq!(at_in_path.to_string(), "sqlite://./data/a:b@c.db");
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().backend(),
            Backend::Sqlite
        );
    }

    #[test]
    fn other_databases_and_non_urls_are_refused_without_echoing_the_url() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/tidings").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported database scheme `mysql`: expected `sqlite://` or `postgres://`"
        );
        let err = DatabaseUrl::parse("hunter2").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
