//! `webhook`: delivers a finished run to its schedule's `callback_url`.
//!
//! Nobody schedules this kind: when a run of a schedule with a `callback_url` ends, the store
//! queues a delivery in the same transaction — a run of this kind whose `parent_run_id` is the
//! finished run (see [`tidings_store::WebhookDelivery`]) — and the engine retries it with the
//! delivery's backoff (8 attempts, from 10 s), each attempt recorded like any run's.
//!
//! The request is `POST <url>` with the body
//!
//! ```json
//! {"event": "run.finished", "delivery": 812, "attempt": 1,
//!  "run": {"id": 811, "schedule_id": 3, "schedule": "nightly-sync", "kind": "sync",
//!          "trigger": "schedule", "state": "succeeded",
//!          "scheduled_for": "2025-06-01T02:00:00Z", "created_at": "2025-06-01T02:00:00Z",
//!          "started_at": "2025-06-01T02:00:01Z", "finished_at": "2025-06-01T02:03:12Z",
//!          "attempt": 1, "error": null, "summary": {"fetched": 5123, "inserted": 12}}}
//! ```
//!
//! (`schedule` is `null` when the schedule was deleted since; times are RFC 3339) and the
//! headers `Content-Type: application/json`, `User-Agent: tidings/<version>`,
//! `X-Tidings-Event: run.finished`, `X-Tidings-Delivery: <delivery>` (the same on every attempt:
//! receivers deduplicate on it), `X-Tidings-Timestamp: <unix seconds>` and, when a secret is
//! configured, `X-Tidings-Signature: sha256=<lowercase hex of HMAC-SHA256(secret,
//! "<timestamp>.<body>")>`, which receivers check with [`verify_signature`] (and should refuse
//! timestamps more than a few minutes old, so that a captured request cannot be replayed).
//!
//! - A 2xx: delivered; the summary is `{"status": 204, "url": …}`.
//! - 410 Gone: the receiver asks for no more deliveries: [`JobError::Fatal`].
//! - Any other status, a refused or broken connection: [`JobError::Retryable`], e.g.
//!   "HTTP 503 from https://hooks.example.com/tidings".
//!
//! Messages and summaries show the URL without its query string, fragment or credentials,
//! which may carry tokens; the secret is never shown.

use std::error::Error as _;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{self, HeaderValue};
use reqwest::{Client, StatusCode, Url};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tidings_engine::{JobContext, JobError, ParamsError, TypedJob};
use tidings_store::{Run, RunId, ScheduleId, ScheduleKey, StoreError, WEBHOOK_KIND};

use crate::fields::field_error;
use crate::http::client;

/// The `event` of every delivery, and its `X-Tidings-Event` header.
pub const EVENT: &str = "run.finished";
pub const EVENT_HEADER: &str = "X-Tidings-Event";
pub const DELIVERY_HEADER: &str = "X-Tidings-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-Tidings-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Tidings-Signature";

/// How deliveries are signed.
#[derive(Clone, Default)]
pub struct WebhookSettings {
    /// The HMAC key of `X-Tidings-Signature`; `None` sends deliveries unsigned.
    pub secret: Option<String>,
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// `webhook`'s params, written by the store: `{"url": "https://…"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookParams {
    pub url: String,
}

/// The `webhook` job kind. One instance shares one connection pool across its deliveries.
#[derive(Clone)]
pub struct WebhookJob {
    client: Client,
    secret: Option<Arc<str>>,
}

impl WebhookJob {
    /// A job signing with `settings.secret`, if any.
    ///
    /// # Panics
    ///
    /// When no HTTP client can be built at all (see [`crate::HttpJob::new`]).
    pub fn new(settings: WebhookSettings) -> WebhookJob {
        WebhookJob::try_new(settings)
            .unwrap_or_else(|error| panic!("cannot build the HTTP client: {error}"))
    }

    /// A job signing with `settings.secret`, or why its client cannot be built.
    pub fn try_new(settings: WebhookSettings) -> Result<WebhookJob, reqwest::Error> {
        Ok(WebhookJob {
            client: client::build()?,
            secret: settings.secret.map(Arc::from),
        })
    }

    /// Reads the run `ctx.run` delivers and its schedule's name: the payload.
    async fn payload(&self, ctx: &JobContext) -> Result<Vec<u8>, JobError> {
        let parent_id = ctx.run.parent_run_id.ok_or_else(|| {
            JobError::fatal(format!(
                "delivery {} has no run to report (no parent_run_id)",
                ctx.run.id
            ))
        })?;
        let parent = ctx
            .store
            .run_get(parent_id)
            .await
            .map_err(|error| store_error(&error, "the run to report"))?;
        let schedule = match parent.schedule_id {
            None => None,
            Some(id) => match ctx.store.schedule_get(&ScheduleKey::Id(id)).await {
                Ok(schedule) => Some(schedule.name.as_str().to_owned()),
                Err(StoreError::NotFound { .. }) => None,
                Err(error) => return Err(store_error(&error, "the run's schedule")),
            },
        };
        let payload = Payload {
            event: EVENT,
            delivery: ctx.run.id,
            attempt: ctx.run.attempt,
            run: Report::of(&parent, schedule.as_deref()),
        };
        serde_json::to_vec(&payload)
            .map_err(|error| JobError::fatal(format!("cannot encode the payload: {error}")))
    }
}

impl fmt::Debug for WebhookJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookJob")
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TypedJob for WebhookJob {
    const KIND: &'static str = WEBHOOK_KIND;
    type Params = WebhookParams;

    /// Refuses every schedule and ad-hoc run of this kind: deliveries are queued by the store
    /// alone (which checks nothing), and a hand-made one would have no run to report.
    fn check(&self, _params: &WebhookParams) -> Result<(), ParamsError> {
        Err(ParamsError {
            kind: WEBHOOK_KIND.to_owned(),
            field: Some("kind".to_owned()),
            message: "webhook deliveries are queued by tidings when a run ends; to receive them, \
                      set the schedule's callback_url"
                .to_owned(),
        })
    }

    async fn run(
        &self,
        params: WebhookParams,
        ctx: JobContext,
    ) -> Result<serde_json::Value, JobError> {
        let url = parse_url(&params.url).map_err(JobError::fatal)?;
        let shown = shown(&url);
        let body = self.payload(&ctx).await?;
        let timestamp = ctx.now().as_second().to_string();
        let mut request = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, EVENT)
            .header(DELIVERY_HEADER, ctx.run.id.to_string())
            .header(TIMESTAMP_HEADER, &timestamp);
        if let Some(secret) = &self.secret {
            let mut signature = HeaderValue::from_str(&sign(secret, &timestamp, &body))
                .map_err(|_| JobError::fatal("the signature is not a header value"))?;
            signature.set_sensitive(true);
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let request = request.body(body);
        let status = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => {
                return Err(JobError::Cancel(format!("delivery to {shown} cancelled")));
            }
            sent = request.send() => match sent {
                Ok(response) => response.status(),
                Err(error) => return Err(transport_error(&shown, error)),
            },
        };
        judge(status, &shown)
    }
}

/// What is POSTed.
#[derive(Serialize)]
struct Payload<'a> {
    event: &'static str,
    delivery: RunId,
    attempt: u32,
    run: Report<'a>,
}

/// The finished run, as a receiver sees it.
#[derive(Serialize)]
struct Report<'a> {
    id: RunId,
    schedule_id: Option<ScheduleId>,
    schedule: Option<&'a str>,
    kind: &'a str,
    trigger: &'static str,
    state: &'static str,
    scheduled_for: Option<jiff::Timestamp>,
    created_at: jiff::Timestamp,
    started_at: Option<jiff::Timestamp>,
    finished_at: Option<jiff::Timestamp>,
    attempt: u32,
    error: Option<&'a str>,
    summary: Option<&'a serde_json::Value>,
}

impl<'a> Report<'a> {
    fn of(run: &'a Run, schedule: Option<&'a str>) -> Report<'a> {
        Report {
            id: run.id,
            schedule_id: run.schedule_id,
            schedule,
            kind: &run.kind,
            trigger: run.trigger.as_str(),
            state: run.state.as_str(),
            scheduled_for: run.scheduled_for,
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            attempt: run.attempt,
            error: run.error.as_deref(),
            summary: run.summary.as_ref(),
        }
    }
}

/// 2xx delivered, 410 stop, anything else try again.
fn judge(status: StatusCode, shown: &str) -> Result<serde_json::Value, JobError> {
    if status.is_success() {
        return Ok(serde_json::json!({ "status": status.as_u16(), "url": shown }));
    }
    let message = format!("HTTP {} from {shown}", status.as_u16());
    if status == StatusCode::GONE {
        Err(JobError::Fatal(format!(
            "{message}: the receiver asked for no more deliveries"
        )))
    } else {
        Err(JobError::Retryable(message))
    }
}

/// A failure to send or to read the answer: always worth another attempt.
fn transport_error(shown: &str, error: reqwest::Error) -> JobError {
    let what = if error.is_connect() {
        "could not connect to"
    } else if error.is_timeout() {
        "timed out calling"
    } else {
        "the request failed to"
    };
    // Without the URL reqwest attaches, which would show the query string.
    let error = error.without_url();
    let mut message = format!("{what} {shown}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    JobError::Retryable(message)
}

/// A store failure while preparing the payload: retried when the store is down, fatal when
/// the run is gone.
fn store_error(error: &StoreError, what: &str) -> JobError {
    let message = format!("cannot read {what}: {error}");
    if error.is_unavailable() {
        JobError::Retryable(message)
    } else {
        JobError::Fatal(message)
    }
}

fn parse_url(text: &str) -> Result<Url, ParamsError> {
    let problem = |problem: &dyn fmt::Display| field_error(WEBHOOK_KIND, "url", problem);
    let url =
        Url::parse(text.trim()).map_err(|e| problem(&format_args!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(problem(&format_args!(
            "scheme `{}` is not supported; use http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(problem(&"has no host"));
    }
    Ok(url)
}

/// The URL as messages and summaries show it: without query, fragment or credentials.
fn shown(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Cannot fail: the URL has a host (checked by `parse_url`).
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed by `secret` over `<timestamp>.<body>`.
fn mac(secret: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length");
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Tidings-Signature` value: `sha256=<lowercase hex>`.
fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let mut signature = String::with_capacity(7 + 2 * digest.len());
    signature.push_str("sha256=");
    for byte in digest {
        let _ = write!(signature, "{byte:02x}");
    }
    signature
}

/// Whether `header` (an `X-Tidings-Signature` value, `sha256=<hex>`) is the signature of a
/// delivery with this `timestamp` (its `X-Tidings-Timestamp` value, as sent) and raw `body`,
/// made with `secret`. The comparison takes the same time whatever the header holds.
///
/// A receiver recomputes `HMAC-SHA256(secret, "<timestamp>.<body>")` over the exact bytes it
/// received, before parsing them, and should also refuse timestamps far from its own clock
/// (five minutes, say), so that a captured delivery cannot be replayed later.
pub fn verify_signature(secret: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":"run.finished"}"#;

    #[test]
    fn signatures_are_lowercase_hex_hmac_sha256_of_timestamp_dot_body() {
        // Python: hmac.new(b"s3cret", b'1748779200.{"event":"run.finished"}', "sha256").hexdigest()
        assert_eq!(
            sign("s3cret", "1748779200", BODY),
            "sha256=4def664da60f16fd5c558529b9fa181a08351b4b837d496f9565c50d973d295a"
        );
    }

    #[test]
    fn verify_accepts_only_the_signature_of_these_bytes_with_this_secret() {
        let header = sign("s3cret", "1748779200", BODY);
        assert!(verify_signature("s3cret", "1748779200", BODY, &header));
        assert!(verify_signature(
            "s3cret",
            "1748779200",
            BODY,
            &format!(" {header} ")
        ));
        assert!(!verify_signature("other", "1748779200", BODY, &header));
        assert!(!verify_signature("s3cret", "1748779201", BODY, &header));
        assert!(!verify_signature("s3cret", "1748779200", b"{}", &header));
        assert!(!verify_signature(
            "s3cret",
            "1748779200",
            BODY,
            &header[7..]
        ));
        assert!(!verify_signature(
            "s3cret",
            "1748779200",
            BODY,
            &header.to_uppercase()[..]
        ));
        assert!(!verify_signature("s3cret", "1748779200", BODY, "sha256=zz"));
        assert!(!verify_signature("s3cret", "1748779200", BODY, "sha256=é"));
        assert!(!verify_signature("s3cret", "1748779200", BODY, ""));
    }

    #[test]
    fn urls_are_shown_without_query_fragment_or_credentials() {
        let url = parse_url("https://bot:pw@hooks.example.com:8443/t/1?token=abc#x").unwrap();
        assert_eq!(shown(&url), "https://hooks.example.com:8443/t/1");
        assert!(parse_url("ftp://example.com/").is_err());
        assert!(parse_url("/relative").is_err());
    }

    #[test]
    fn gone_stops_other_failures_retry_and_2xx_delivers() {
        let url = "https://hooks.example.com/t";
        assert_eq!(
            judge(StatusCode::NO_CONTENT, url),
            Ok(serde_json::json!({ "status": 204, "url": url }))
        );
        assert_eq!(
            judge(StatusCode::SERVICE_UNAVAILABLE, url),
            Err(JobError::Retryable(
                "HTTP 503 from https://hooks.example.com/t".to_owned()
            ))
        );
        assert!(matches!(
            judge(StatusCode::NOT_FOUND, url),
            Err(JobError::Retryable(_))
        ));
        assert!(matches!(
            judge(StatusCode::GONE, url),
            Err(JobError::Fatal(message)) if message.starts_with("HTTP 410 from https://hooks.example.com/t")
        ));
    }

    #[test]
    fn deliveries_cannot_be_scheduled_by_hand() {
        let job = WebhookJob::new(WebhookSettings::default());
        let refused = tidings_engine::Job::validate(
            &job,
            &serde_json::json!({ "url": "https://hooks.example.com/t" }),
        )
        .unwrap_err();
        assert_eq!(refused.field.as_deref(), Some("kind"));
        assert!(refused.message.contains("callback_url"), "{refused}");
    }

    #[test]
    fn settings_never_show_the_secret() {
        let settings = WebhookSettings {
            secret: Some("s3cret".to_owned()),
        };
        assert!(!format!("{settings:?}").contains("s3cret"));
        let job = WebhookJob::new(settings);
        assert!(!format!("{job:?}").contains("s3cret"));
    }
}
