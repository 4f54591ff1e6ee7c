//! Reading a job's params field by field, so that every error names its field.
//!
//! Params types keep their fields as raw JSON values and parse them here rather than through
//! serde's typed fields: serde's type errors ("invalid value: integer `-1`, expected u64") do
//! not say which field they are about, and the engine takes the first quoted word of a message
//! for the field.

use std::fmt::Display;

use serde::de::DeserializeOwned;
use tidings_engine::ParamsError;

/// An error about `field` of a `kind` job's params.
pub(crate) fn field_error(kind: &str, field: &str, problem: impl Display) -> ParamsError {
    ParamsError {
        kind: kind.to_owned(),
        field: Some(field.to_owned()),
        message: format!("`{field}`: {problem}"),
    }
}

/// Deserializes `value` (absent or `null` gives `None`) as a `T`, naming `field` in the error.
pub(crate) fn optional<T: DeserializeOwned>(
    kind: &str,
    field: &str,
    value: Option<&serde_json::Value>,
) -> Result<Option<T>, ParamsError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|error| field_error(kind, field, error)),
    }
}
