//! `Secret`: a string that must never reach a log line, an error message or printed configuration.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// What a secret looks like wherever it is shown.
pub const REDACTED: &str = "[redacted]";

/// A password, token or key. `Debug`, `Display` and `Serialize` all print `[redacted]`; the value is
/// reachable only through [`Secret::expose`], so every place that uses it is easy to find.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (a connection, a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug_display_and_serialized_output() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""[redacted]""#);
        #[derive(Serialize)]
        struct Holder {
            token: Secret,
        }
        let toml = toml::to_string(&Holder {
            token: secret.clone(),
        })
        .unwrap();
        assert_eq!(toml.trim(), r#"token = "[redacted]""#);
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn secret_deserializes_from_a_plain_string() {
        let secret: Secret = serde_json::from_str(r#""s3cret""#).unwrap();
        assert_eq!(secret.expose(), "s3cret");
    }
}
