//! The layers a configuration is merged from (the file, the environment, the flags) as figment
//! providers that remember where each key came from, so that every message can say so.
//!
//! The environment is read from an injected list of variables rather than through figment's
//! `Env` provider, which only reads the process environment: tests pass their own variables and
//! stay parallel-safe. The naming rule is the same as `Env::prefixed("TIDINGS_").split("__")`.

use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};

use super::error::ConfigError;

/// Prefix of the environment variables that configure tidings.
const ENV_PREFIX: &str = "TIDINGS_";
/// Separates nesting levels in a variable name: `TIDINGS_SERVER__LISTEN` is `server.listen`.
const ENV_SEPARATOR: &str = "__";
/// `TIDINGS_*` variables that are not configuration keys.
const ENV_NOT_KEYS: [&str; 2] = ["TIDINGS_CONFIG", "TIDINGS_API_KEY"];
/// Variables for the test suites (`TIDINGS_TEST_DATABASE_URL`).
const ENV_TEST_PREFIX: &str = "TIDINGS_TEST_";

/// Command-line flags and the keys they set.
const FLAGS: [(&str, &str); 4] = [
    ("server.listen", "--listen"),
    ("database.url", "--database-url"),
    ("log.format", "--log-format"),
    ("log.level", "--log-level"),
];

/// Where a layer's values were written.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// A TOML file, by the path the user gave.
    File(String),
    /// `TIDINGS_*` environment variables.
    Env,
    /// Command-line flags.
    Flags,
}

impl Origin {
    /// Where the value at `path` came from: `./tidings.toml`,
    /// `environment variable TIDINGS_SERVER__LISTEN`, `flag --listen`.
    pub(crate) fn describe<S: AsRef<str>>(&self, path: &[S]) -> String {
        match self {
            Origin::File(file) => file.clone(),
            Origin::Env => format!("environment variable {}", self.spell(path)),
            Origin::Flags => format!("flag {}", self.spell(path)),
        }
    }

    /// How the key at `path` is written in this layer: `` `server.listen` ``,
    /// `TIDINGS_SERVER__LISTEN`, `--listen`.
    pub(crate) fn spell<S: AsRef<str>>(&self, path: &[S]) -> String {
        let dotted = dotted(path);
        match self {
            Origin::File(_) => format!("`{dotted}`"),
            Origin::Env => {
                let upper: Vec<String> = path
                    .iter()
                    .map(|k| k.as_ref().to_ascii_uppercase())
                    .collect();
                format!("{ENV_PREFIX}{}", upper.join(ENV_SEPARATOR))
            }
            Origin::Flags => FLAGS
                .iter()
                .find(|(key, _)| *key == dotted)
                .map_or(format!("`{dotted}`"), |(_, flag)| (*flag).to_owned()),
        }
    }
}

/// Joins a key path with dots: `server.listen`.
pub(crate) fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    let parts: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
    parts.join(".")
}

/// One layer of configuration values.
pub(crate) struct Layer {
    origin: Origin,
    values: Dict,
}

impl Layer {
    /// Parses the text of a TOML file; `path` is how the file is named in messages.
    pub(crate) fn file(path: &str, text: &str) -> Result<Layer, ConfigError> {
        let values = toml::from_str::<Dict>(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            ConfigError::FileSyntax {
                path: path.to_owned(),
                line,
                column,
                message: err.message().to_owned(),
            }
        })?;
        Ok(Layer {
            origin: Origin::File(path.to_owned()),
            values,
        })
    }

    /// The `TIDINGS_*` variables among `vars`.
    pub(crate) fn env<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Layer {
        let mut vars: Vec<(&str, &str)> = vars
            .into_iter()
            .filter(|(name, _)| {
                name.starts_with(ENV_PREFIX)
                    && !name.starts_with(ENV_TEST_PREFIX)
                    && !ENV_NOT_KEYS.contains(name)
            })
            .collect();
        vars.sort_unstable();
        let mut values = Dict::new();
        for (name, value) in vars {
            let path: Vec<String> = name[ENV_PREFIX.len()..]
                .split(ENV_SEPARATOR)
                .map(str::to_ascii_lowercase)
                .collect();
            // Figment's own reading of a variable's value: `10` is a number, `true` a boolean.
            let Ok(value) = value.parse::<Value>();
            insert(&mut values, &path, value);
        }
        Layer {
            origin: Origin::Env,
            values,
        }
    }

    /// Values given as flags, as `(key path, value)` pairs.
    pub(crate) fn flags(flags: Vec<(&str, Value)>) -> Layer {
        let mut values = Dict::new();
        for (key, value) in flags {
            let path: Vec<String> = key.split('.').map(str::to_owned).collect();
            insert(&mut values, &path, value);
        }
        Layer {
            origin: Origin::Flags,
            values,
        }
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    pub(crate) fn values(&self) -> &Dict {
        &self.values
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let origin = self.origin.clone();
        let name = match &self.origin {
            Origin::File(path) => path.clone(),
            Origin::Env => "environment".to_owned(),
            Origin::Flags => "flags".to_owned(),
        };
        Metadata::named(name).interpolater(move |_: &Profile, path: &[&str]| origin.describe(path))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        Ok(Profile::Default.collect(self.values.clone()))
    }
}

/// Sets `path` in `dict` to `value`, creating tables on the way; a later value wins.
fn insert(dict: &mut Dict, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut table = dict;
    for key in parents {
        let entry = table
            .entry(key.clone())
            .or_insert_with(|| Value::from(Dict::new()));
        if entry.as_dict().is_none() {
            *entry = Value::from(Dict::new());
        }
        let Value::Dict(_, inner) = entry else {
            return;
        };
        table = inner;
    }
    table.insert(last.clone(), value);
}

/// 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
