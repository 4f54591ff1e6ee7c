//! One call: build the request (resolving `${NAME}` in headers), send it under the timeout and
//! the cancellation token, read the answer, and judge it: a summary, or the `JobError` that
//! tells the engine whether to retry, snooze or give up.

use std::error::Error as _;
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, Response, StatusCode, Url};
use tidings_engine::JobError;
use tokio_util::sync::CancellationToken;

use super::params::{HttpCall, RequestBody};
use crate::Environment;

/// Response bytes kept for the summary (and the most a JSON body may have to be kept as JSON).
pub(crate) const BODY_KEPT: usize = 1024;
/// Response text quoted in an error message.
const BODY_QUOTED: usize = 200;
/// The longest snooze a `Retry-After` can ask for.
const MAX_SNOOZE: Duration = Duration::from_secs(3600);

/// What came back, read to the end.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    /// Where the response came from (after redirects within the origin).
    url: Url,
    /// The first `BODY_KEPT` bytes.
    head: Vec<u8>,
    bytes: u64,
}

pub(crate) async fn exchange(
    client: &Client,
    environment: &dyn Environment,
    call: &HttpCall,
    cancel: &CancellationToken,
) -> Result<serde_json::Value, JobError> {
    let target = call.target();
    let request = request(client, environment, call, &target)?;
    let started = Instant::now();
    let answer = async {
        let response = client.execute(request).await?;
        read(response).await
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(JobError::Cancel(format!("{target}: cancelled"))),
        answer = tokio::time::timeout(call.timeout, answer) => match answer {
            Err(_elapsed) => Err(JobError::Retryable(format!(
                "{target}: no complete answer within the timeout of {} s",
                call.timeout.as_secs()
            ))),
            Ok(Err(error)) => Err(transport_error(&target, error)),
            Ok(Ok(answer)) => judge(&target, call, &answer, started.elapsed()),
        },
    }
}

fn request(
    client: &Client,
    environment: &dyn Environment,
    call: &HttpCall,
    target: &str,
) -> Result<reqwest::Request, JobError> {
    let mut headers = HeaderMap::new();
    for (name, template) in &call.headers {
        let value = template.resolve(|variable| environment.var(variable)).map_err(|missing| {
            JobError::Fatal(format!(
                "{target}: header `{name}` needs the environment variable{} {}, which {} not set",
                if missing.len() == 1 { "" } else { "s" },
                missing.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "),
                if missing.len() == 1 { "is" } else { "are" },
            ))
        })?;
        // The value is never shown: only that it is unusable.
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            JobError::Fatal(format!(
                "{target}: header `{name}` has a value that a header cannot carry once its \
                 environment variables are substituted (control characters or line breaks)"
            ))
        })?;
        value.set_sensitive(true);
        headers.insert(name.clone(), value);
    }
    let mut builder = client.request(call.method.clone(), call.url.clone());
    if let Some(body) = &call.body {
        let (content_type, bytes) = match body {
            RequestBody::Json(bytes) => ("application/json", bytes.clone()),
            RequestBody::Text(text) => ("text/plain; charset=utf-8", text.clone().into_bytes()),
        };
        if !call.has_header(&header::CONTENT_TYPE) {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        builder = builder.body(bytes);
    }
    builder
        .headers(headers)
        .build()
        .map_err(|error| JobError::Fatal(format!("{target}: {}", chain(error))))
}

async fn read(mut response: Response) -> Result<Answer, reqwest::Error> {
    let mut head = Vec::new();
    let mut bytes = 0u64;
    while let Some(chunk) = response.chunk().await? {
        let room = BODY_KEPT.saturating_sub(head.len());
        head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        bytes += chunk.len() as u64;
    }
    Ok(Answer {
        status: response.status(),
        headers: response.headers().clone(),
        url: response.url().clone(),
        head,
        bytes,
    })
}

fn judge(
    target: &str,
    call: &HttpCall,
    answer: &Answer,
    elapsed: Duration,
) -> Result<serde_json::Value, JobError> {
    let status = answer.status;
    if call.expected.contains(status) {
        return Ok(serde_json::json!({
            "status": status.as_u16(),
            "elapsed_ms": u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "bytes": answer.bytes,
            "body": summary_body(answer),
        }));
    }
    let mut message = format!("{target} answered {status}; expected {}", call.expected);
    if status.is_redirection()
        && let Some(location) = location(answer)
    {
        message.push_str(&format!(
            " (the redirect to {location} was not followed: only redirects within the same \
             origin are)"
        ));
    }
    let quoted = quote(&answer.head);
    if !quoted.is_empty() {
        message.push_str(&format!(": {quoted}"));
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        && let Some(delay) = retry_after(&answer.headers)
    {
        return Err(JobError::Snooze(delay));
    }
    let retryable = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
    Err(if retryable {
        JobError::Retryable(message)
    } else {
        JobError::Fatal(message)
    })
}

/// A `Retry-After` in seconds, at least 1 s and at most an hour. (The HTTP-date form is not
/// read: the answer is then an ordinary retryable error with the engine's backoff.)
fn retry_after(headers: &HeaderMap) -> Option<jiff::SignedDuration> {
    let seconds: u64 = headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let delay = Duration::from_secs(seconds.max(1)).min(MAX_SNOOZE);
    jiff::SignedDuration::try_from(delay).ok()
}

/// The origin a redirect pointed to (never its path or query, which may carry a token).
fn location(answer: &Answer) -> Option<String> {
    let location = answer.headers.get(header::LOCATION)?.to_str().ok()?;
    let next = answer.url.join(location).ok()?;
    Some(next.origin().ascii_serialization())
}

/// The body for the summary: JSON when the response says it is JSON and it fits in
/// `BODY_KEPT` bytes, otherwise the text of its first `BODY_KEPT` bytes.
fn summary_body(answer: &Answer) -> serde_json::Value {
    let is_json = answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if is_json
        && answer.bytes <= BODY_KEPT as u64
        && let Ok(json) = serde_json::from_slice(&answer.head)
    {
        return json;
    }
    serde_json::Value::String(text_of(&answer.head))
}

/// The bytes as text: invalid UTF-8 replaced, and a character cut at the end dropped.
fn text_of(bytes: &[u8]) -> String {
    let complete = match std::str::from_utf8(bytes) {
        Err(error) if error.error_len().is_none() => &bytes[..error.valid_up_to()],
        _ => bytes,
    };
    String::from_utf8_lossy(complete).into_owned()
}

/// Up to `BODY_QUOTED` characters of a body, on one line, for an error message.
fn quote(bytes: &[u8]) -> String {
    let text = text_of(bytes);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(BODY_QUOTED) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// A failure to send or read: worth retrying unless the request itself was wrong.
fn transport_error(target: &str, error: reqwest::Error) -> JobError {
    let fatal = error.is_builder() || error.is_redirect();
    let what = if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let message = format!("{target}: {what}: {}", chain(error));
    if fatal {
        JobError::Fatal(message)
    } else {
        JobError::Retryable(message)
    }
}

/// The error and its causes, `: `-separated, without the URL reqwest attaches (the message
/// names the target already, with any password masked).
fn chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_drops_a_character_cut_in_half() {
        let mut bytes = "é".repeat(3).into_bytes();
        bytes.pop();
        assert_eq!(text_of(&bytes), "éé");
    }

    #[test]
    fn quotes_one_short_line() {
        assert_eq!(quote(b"  not\n found \n"), "not found");
        let long = "a".repeat(BODY_QUOTED + 10);
        assert_eq!(
            quote(long.as_bytes()),
            format!("{}…", "a".repeat(BODY_QUOTED))
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let mut headers = HeaderMap::new();
        let seconds = |value: &'static str, headers: &mut HeaderMap| {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(value));
            retry_after(headers).map(|d| d.as_secs())
        };
        assert_eq!(seconds("7", &mut headers), Some(7));
        assert_eq!(seconds("0", &mut headers), Some(1));
        assert_eq!(seconds("86400", &mut headers), Some(3600));
        assert_eq!(seconds("Wed, 21 Oct 2015 07:28:00 GMT", &mut headers), None);
    }
}
