//! An Airtable source as configured (`[sources.NAME]` with `kind = "airtable"`), and the token it
//! reads from the environment.

use std::fmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tidings_core::Zone;

use super::AirtableError;
use crate::mapping::FieldMapping;

/// Where Airtable's API is, unless a test points elsewhere.
pub const AIRTABLE_API_URL: &str = "https://api.airtable.com";
/// The environment variable holding the token, unless configured otherwise.
pub const DEFAULT_TOKEN_ENV: &str = "AIRTABLE_TOKEN";

/// An Airtable table read through the REST API (`[sources.NAME]` with `kind = "airtable"`).
///
/// ```toml
/// [sources.feedback]
/// kind = "airtable"
/// base = "appXXXXXXXXXXXXXX"
/// table = "Feedback"
/// filter_formula = "YEAR({Created})=2025"
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AirtableSource {
    /// The base id, `app` and 14 characters.
    pub base: String,
    /// The table's name or id (`tbl…`).
    pub table: String,
    /// The environment variable holding the personal access token.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Only records for which this Airtable formula is true; every record when absent.
    #[serde(default)]
    pub filter_formula: Option<String>,
    /// Only the records of this view, in its order.
    #[serde(default)]
    pub view: Option<String>,
    /// Only these fields are fetched; every field when empty.
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default = "default_api_url")]
    pub api_url: String,
    #[serde(default)]
    pub mapping: FieldMapping,
    /// The zone of timestamps written without an offset; UTC by default.
    #[serde(default = "Zone::utc")]
    pub zone: Zone,
    /// How far before the last watermark an incremental sync starts, so that records modified
    /// while the previous sync ran are not missed; `5m` by default.
    #[serde(default = "default_overlap", with = "human_duration")]
    pub overlap: Duration,
}

fn default_token_env() -> String {
    DEFAULT_TOKEN_ENV.to_owned()
}

fn default_api_url() -> String {
    AIRTABLE_API_URL.to_owned()
}

fn default_overlap() -> Duration {
    Duration::from_secs(5 * 60)
}

impl AirtableSource {
    /// A source for `table` of `base` with every other setting at its default.
    pub fn new(base: impl Into<String>, table: impl Into<String>) -> AirtableSource {
        AirtableSource {
            base: base.into(),
            table: table.into(),
            token_env: default_token_env(),
            filter_formula: None,
            view: None,
            fields: Vec::new(),
            api_url: default_api_url(),
            mapping: FieldMapping::default(),
            zone: Zone::utc(),
            overlap: default_overlap(),
        }
    }

    /// Reads the token from the environment variable [`AirtableSource::token_env`].
    pub fn token(&self) -> Result<AirtableToken, AirtableError> {
        match std::env::var(&self.token_env) {
            Ok(token) if !token.trim().is_empty() => Ok(AirtableToken::new(token.trim())),
            _ => Err(AirtableError::MissingToken {
                env: self.token_env.clone(),
            }),
        }
    }

    /// Checks the settings that can be checked without asking Airtable.
    pub fn check(&self) -> Result<(), String> {
        if !self.base.starts_with("app") || self.base.len() < 4 {
            return Err(format!(
                "base `{}` is not an Airtable base id: it starts with `app` (the part of the \
                 table's URL after airtable.com/)",
                self.base
            ));
        }
        if !self.base.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "base `{}` is not an Airtable base id: letters and digits only",
                self.base
            ));
        }
        if self.table.trim().is_empty() {
            return Err("table is empty: name the table or give its id (`tbl…`)".to_owned());
        }
        if self.token_env.trim().is_empty() {
            return Err(
                "token_env is empty: name the environment variable holding the token".to_owned(),
            );
        }
        if let Some(formula) = &self.filter_formula
            && formula.trim().is_empty()
        {
            return Err("filter_formula is empty: remove it to read every record".to_owned());
        }
        if let Some(view) = &self.view
            && view.trim().is_empty()
        {
            return Err("view is empty: remove it to read the whole table".to_owned());
        }
        if self.fields.iter().any(|field| field.trim().is_empty()) {
            return Err("fields names an empty field".to_owned());
        }
        match reqwest::Url::parse(&self.api_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
            _ => Err(format!(
                "api_url `{}` is not an http(s) URL (the default is {AIRTABLE_API_URL})",
                self.api_url
            )),
        }
    }

    /// Where an incremental sync after `watermark` starts: the watermark minus the overlap.
    pub fn incremental_since(&self, watermark: Timestamp) -> Timestamp {
        let overlap = SignedDuration::try_from(self.overlap).unwrap_or(SignedDuration::MAX);
        watermark.checked_sub(overlap).unwrap_or(Timestamp::MIN)
    }
}

/// An Airtable personal access token. Shown as `[redacted]` everywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct AirtableToken(String);

impl AirtableToken {
    pub fn new(token: impl Into<String>) -> AirtableToken {
        AirtableToken(token.into())
    }

    /// The token itself, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AirtableToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for AirtableToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A `Duration` written as people write it (`5m`, `30s`), through `tidings_core::duration`.
mod human_duration {
    use std::fmt;
    use std::time::Duration;

    use serde::{Deserializer, Serializer, de};
    use tidings_core::duration;

    pub(super) fn serialize<S: Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&duration::format(*value))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        deserializer.deserialize_str(HumanDuration)
    }

    struct HumanDuration;

    impl de::Visitor<'_> for HumanDuration {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"30s\", \"5m\" or \"1h 30m\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            duration::parse(text).map_err(E::custom)
        }
    }
}
