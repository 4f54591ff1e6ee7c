//! `http`'s params: the wire shape ([`HttpParams`], as stored on schedules and runs) and the
//! checked request it parses into ([`HttpCall`]), with errors that name the field.

use std::fmt;
use std::time::Duration;

use reqwest::header::{self, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use tidings_engine::{ParamsError, TypedJob};

use super::HttpJob;
use super::status::ExpectedStatus;
use super::template::ValueTemplate;
use crate::fields::{self, field_error};

/// The default `timeout_seconds`.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
/// The largest `timeout_seconds`: one hour.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
];

/// `http`'s params as written; [`TypedJob::check`] parses every field:
///
/// - `method`: `GET` (default), `POST`, `PUT`, `PATCH`, `DELETE` or `HEAD`;
/// - `url` (required): an absolute `http` or `https` URL;
/// - `headers`: an object of header name → value; `${NAME}` in a value is replaced by the
///   environment variable `NAME` when the run starts (`$$` writes a `$`);
/// - `body`: a string is sent as `text/plain`, any other JSON value as `application/json`
///   (unless `headers` sets `Content-Type`);
/// - `expected_status`: statuses that count as success, as codes (`204`), classes (`"2xx"`)
///   or ranges (`"200-204"`), one or a list (default `"2xx"`);
/// - `timeout_seconds`: 1 to 3600 (default 30), for the whole exchange.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpParams {
    #[serde(default)]
    pub method: Option<serde_json::Value>,
    #[serde(default)]
    pub url: Option<serde_json::Value>,
    #[serde(default)]
    pub headers: Option<serde_json::Value>,
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    #[serde(default)]
    pub expected_status: Option<serde_json::Value>,
    #[serde(default)]
    pub timeout_seconds: Option<serde_json::Value>,
}

/// Header values and the body may hold secrets: `Debug` shows header names only.
impl fmt::Debug for HttpParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Option<Vec<&String>> = match &self.headers {
            Some(serde_json::Value::Object(headers)) => Some(headers.keys().collect()),
            _ => None,
        };
        f.debug_struct("HttpParams")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &header_names)
            .field("body", &self.body.as_ref().map(|_| "[redacted]"))
            .field("expected_status", &self.expected_status)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// A request that passed every check. Header values are still templates: variables are
/// resolved at run time.
#[derive(Debug, Clone)]
pub(crate) struct HttpCall {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(HeaderName, ValueTemplate)>,
    pub(crate) body: Option<RequestBody>,
    pub(crate) expected: ExpectedStatus,
    pub(crate) timeout: Duration,
}

#[derive(Clone)]
pub(crate) enum RequestBody {
    Json(Vec<u8>),
    Text(String),
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Json(bytes) => write!(f, "Json({} bytes)", bytes.len()),
            RequestBody::Text(text) => write!(f, "Text({} bytes)", text.len()),
        }
    }
}

impl HttpCall {
    pub(crate) fn parse(params: &HttpParams) -> Result<HttpCall, ParamsError> {
        Ok(HttpCall {
            method: parse_method(params.method.as_ref())?,
            url: parse_url(params.url.as_ref())?,
            headers: parse_headers(params.headers.as_ref())?,
            body: parse_body(params.body.as_ref())?,
            expected: match &params.expected_status {
                None | Some(serde_json::Value::Null) => ExpectedStatus::success(),
                Some(value) => ExpectedStatus::parse(value)
                    .map_err(|problem| error("expected_status", problem))?,
            },
            timeout: parse_timeout(params.timeout_seconds.as_ref())?,
        })
    }

    /// `POST https://example.com/hook`, for messages; a password in the URL is masked.
    pub(crate) fn target(&self) -> String {
        let mut url = self.url.clone();
        if url.password().is_some() {
            // Cannot fail: the URL has a host, since it has a password.
            let _ = url.set_password(Some("***"));
        }
        format!("{} {url}", self.method)
    }

    pub(crate) fn has_header(&self, name: &HeaderName) -> bool {
        self.headers.iter().any(|(header, _)| header == name)
    }
}

fn error(field: &str, problem: impl fmt::Display) -> ParamsError {
    field_error(HttpJob::KIND, field, problem)
}

fn parse_method(value: Option<&serde_json::Value>) -> Result<Method, ParamsError> {
    let Some(text) = fields::optional::<String>(HttpJob::KIND, "method", value)? else {
        return Ok(Method::GET);
    };
    METHODS
        .into_iter()
        .find(|method| method.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            error(
                "method",
                format_args!(
                    "unsupported method {text:?}; use one of GET, POST, PUT, PATCH, DELETE, HEAD"
                ),
            )
        })
}

fn parse_url(value: Option<&serde_json::Value>) -> Result<Url, ParamsError> {
    let text = fields::optional::<String>(HttpJob::KIND, "url", value)?
        .ok_or_else(|| error("url", "is required"))?;
    let url = Url::parse(text.trim())
        .map_err(|e| error("url", format_args!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(error(
            "url",
            format_args!(
                "scheme `{}` is not supported; use http or https",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(error("url", "has no host"));
    }
    Ok(url)
}

fn parse_headers(
    value: Option<&serde_json::Value>,
) -> Result<Vec<(HeaderName, ValueTemplate)>, ParamsError> {
    let headers = match value {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Object(headers)) => headers,
        Some(_) => return Err(error("headers", "must be an object of header name → value")),
    };
    let mut parsed: Vec<(HeaderName, ValueTemplate)> = Vec::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            error(
                "headers",
                format_args!("{name:?} is not a valid header name"),
            )
        })?;
        if parsed.iter().any(|(seen, _)| *seen == header) {
            return Err(error("headers", format_args!("`{header}` is given twice")));
        }
        if header == header::CONTENT_LENGTH || header == header::TRANSFER_ENCODING {
            return Err(error(
                "headers",
                format_args!("`{header}` is computed from the body; leave it out"),
            ));
        }
        // The value is never quoted: it may be a secret.
        let serde_json::Value::String(text) = value else {
            return Err(error(
                "headers",
                format_args!("the value of `{header}` must be a string"),
            ));
        };
        let template = ValueTemplate::parse(text).map_err(|problem| {
            error(
                "headers",
                format_args!("the value of `{header}`: {problem}"),
            )
        })?;
        // Variables are checked when the run starts; the text around them can be checked now.
        let sample = template
            .resolve(|_| Some("x".to_owned()))
            .unwrap_or_default();
        if HeaderValue::from_str(&sample).is_err() {
            return Err(error(
                "headers",
                format_args!(
                    "the value of `{header}` holds characters a header cannot carry (control \
                     characters or line breaks)"
                ),
            ));
        }
        parsed.push((header, template));
    }
    Ok(parsed)
}

fn parse_body(value: Option<&serde_json::Value>) -> Result<Option<RequestBody>, ParamsError> {
    Ok(match value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(RequestBody::Text(text.clone())),
        Some(json) => Some(RequestBody::Json(
            serde_json::to_vec(json).map_err(|e| error("body", e))?,
        )),
    })
}

fn parse_timeout(value: Option<&serde_json::Value>) -> Result<Duration, ParamsError> {
    let seconds = fields::optional::<u64>(HttpJob::KIND, "timeout_seconds", value)?
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(error(
            "timeout_seconds",
            format_args!("{seconds} is out of range; use 1 to {MAX_TIMEOUT_SECONDS} (one hour)"),
        ));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_header_names_but_no_values_and_no_body() {
        let params: HttpParams = serde_json::from_value(serde_json::json!({
            "url": "https://example.com/hook",
            "headers": { "X-Api-Key": "hunter2" },
            "body": { "password": "swordfish" },
        }))
        .unwrap();
        let debug = format!("{params:?}");
        assert!(debug.contains("X-Api-Key"), "{debug}");
        for secret in ["hunter2", "swordfish"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let call = format!("{:?}", HttpCall::parse(&params).unwrap());
        assert!(call.contains("x-api-key"), "{call}");
        for secret in ["hunter2", "swordfish"] {
            assert!(!call.contains(secret), "{call}");
        }
    }
}
