//! Listing a table: pages of up to 100 records, every request through the base's limiter, 429s
//! waited out, transient failures retried with backoff, an expired offset restarting the listing,
//! and everything a user must fix failing at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Client, StatusCode, Url};
use tidings_store::FeedbackRecord;
use tokio_util::sync::CancellationToken;

use super::limiter::BaseLimiter;
use super::page::{self, ErrorBody, Page, RecordMapper};
use super::{AirtableError, AirtableSource, AirtableToken};
use crate::mapping::FieldProblem;

/// How the client treats Airtable; the defaults are Airtable's published limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirtableSettings {
    /// Requests per second per base (Airtable: 5).
    pub requests_per_second: u32,
    /// The wait after a 429 that has no `Retry-After` (Airtable: 30 s).
    pub penalty: Duration,
    /// The first retry's delay; each next one doubles it (1 s, 2 s, 4 s), ±20 %.
    pub backoff: Duration,
    /// Retries of one request after 5xx, timeouts, connection errors and broken bodies.
    pub max_retries: u32,
    /// Restarts of a listing whose offset expired.
    pub max_restarts: u32,
    pub request_timeout: Duration,
    /// Records per page, at most 100.
    pub page_size: u32,
}

impl Default for AirtableSettings {
    fn default() -> AirtableSettings {
        AirtableSettings {
            requests_per_second: 5,
            penalty: Duration::from_secs(30),
            backoff: Duration::from_secs(1),
            max_retries: 3,
            max_restarts: 3,
            request_timeout: Duration::from_secs(30),
            page_size: 100,
        }
    }
}

/// What an incremental listing asks for on top of the source's own filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only records modified after this instant (already moved back by the source's overlap,
    /// see [`AirtableSource::incremental_since`]).
    pub modified_after: Option<Timestamp>,
}

/// How far a listing is, reported after every page and whenever a wait starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListProgress {
    pub pages: u64,
    pub records: u64,
    pub requests: u64,
    pub rate_limited: u64,
    pub retries: u64,
    /// Set while waiting out a 429 penalty or a retry's backoff.
    pub waiting: Option<Duration>,
}

/// A record that could not be mapped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// Airtable's record id.
    pub id: String,
    pub problems: Vec<FieldProblem>,
}

/// A table read to the end.
#[derive(Debug, Clone, PartialEq)]
pub struct AirtableListing {
    pub records: Vec<FeedbackRecord>,
    pub bad_records: Vec<BadRecord>,
    pub pages: u64,
    pub requests: u64,
    pub rate_limited: u64,
    pub retries: u64,
    pub restarts: u64,
}

/// A base as the rate limit counts it: the API's URL and the base id.
type BaseKey = (String, String);

/// The Airtable client of a process: one HTTP client, and one limiter per base shared by every
/// listing of that base.
#[derive(Clone)]
pub struct AirtableClient {
    http: Client,
    settings: Arc<AirtableSettings>,
    limiters: Arc<Mutex<HashMap<BaseKey, Arc<BaseLimiter>>>>,
    jitter: Arc<AtomicU64>,
}

impl std::fmt::Debug for AirtableClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AirtableClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Why a page could not be read, once retries are done.
enum Stop {
    /// The offset expired: start over.
    Expired,
    Fatal(AirtableError),
}

/// How one request ended, when it did not give a page.
enum Failure {
    /// Try the same request again after a backoff.
    Transient(String),
    /// Wait this long (or the configured penalty), then try again.
    RateLimited(Option<Duration>),
    /// The offset expired: start over.
    Expired,
    Fatal(AirtableError),
}

impl AirtableClient {
    pub fn new(settings: AirtableSettings) -> Result<AirtableClient, AirtableError> {
        let http = super::http::build(settings.request_timeout)
            .map_err(|e| AirtableError::Client(e.to_string()))?;
        Ok(AirtableClient {
            http,
            settings: Arc::new(settings),
            limiters: Arc::default(),
            jitter: Arc::new(AtomicU64::new(0x9e37_79b9_7f4a_7c15)),
        })
    }

    pub fn settings(&self) -> &AirtableSettings {
        &self.settings
    }

    /// Reads every record of `source` that `query` selects, page by page.
    pub async fn list(
        &self,
        source: &AirtableSource,
        token: &AirtableToken,
        query: &ListQuery,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(&ListProgress) + Send),
    ) -> Result<AirtableListing, AirtableError> {
        source.check().map_err(AirtableError::Config)?;
        let url = list_url(source)?;
        let formula = formula(source.filter_formula.as_deref(), query.modified_after);
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| {
                AirtableError::Config(format!(
                    "the token in ${} contains characters that cannot be sent in a header",
                    source.token_env
                ))
            })?;
        authorization.set_sensitive(true);
        let limiter = self.limiter(source);
        let mapper = RecordMapper::new(source);

        let mut state = ListProgress::default();
        let mut restarts = 0;
        'listing: loop {
            let mut records = Vec::new();
            let mut bad_records = Vec::new();
            let mut offset: Option<String> = None;
            let mut page_number = 0;
            state.pages = 0;
            state.records = 0;
            loop {
                page_number += 1;
                let mut request_url = url.clone();
                {
                    let mut pairs = request_url.query_pairs_mut();
                    pairs.append_pair(
                        "pageSize",
                        &self.settings.page_size.clamp(1, 100).to_string(),
                    );
                    if let Some(formula) = &formula {
                        pairs.append_pair("filterByFormula", formula);
                    }
                    if let Some(view) = &source.view {
                        pairs.append_pair("view", view);
                    }
                    for field in &source.fields {
                        pairs.append_pair("fields[]", field);
                    }
                    if let Some(offset) = &offset {
                        pairs.append_pair("offset", offset);
                    }
                }
                let page = self
                    .fetch_page(
                        source,
                        &limiter,
                        request_url,
                        &authorization,
                        page_number,
                        cancel,
                        &mut state,
                        progress,
                    )
                    .await;
                let page = match page {
                    Ok(page) => page,
                    Err(Stop::Expired) => {
                        if restarts >= u64::from(self.settings.max_restarts) {
                            return Err(AirtableError::TooManyRestarts { restarts });
                        }
                        restarts += 1;
                        tracing::warn!(
                            base = %source.base,
                            table = %source.table,
                            page = page_number,
                            restarts,
                            "Airtable's offset expired; listing again from the first page"
                        );
                        continue 'listing;
                    }
                    Err(Stop::Fatal(error)) => return Err(error),
                };
                state.pages += 1;
                for record in page.records {
                    match mapper.map(record) {
                        Ok(record) => records.push(record),
                        Err(bad) => bad_records.push(bad),
                    }
                }
                state.records = (records.len() + bad_records.len()) as u64;
                state.waiting = None;
                progress(&state);
                match page.offset {
                    Some(next) => offset = Some(next),
                    None => {
                        return Ok(AirtableListing {
                            records,
                            bad_records,
                            pages: state.pages,
                            requests: state.requests,
                            rate_limited: state.rate_limited,
                            retries: state.retries,
                            restarts,
                        });
                    }
                }
            }
        }
    }

    /// One page: the request, repeated through 429s and transient failures.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_page(
        &self,
        source: &AirtableSource,
        limiter: &BaseLimiter,
        url: Url,
        authorization: &HeaderValue,
        page: u64,
        cancel: &CancellationToken,
        state: &mut ListProgress,
        progress: &mut (dyn FnMut(&ListProgress) + Send),
    ) -> Result<Page, Stop> {
        let mut failures = 0;
        loop {
            if cancel.is_cancelled() {
                return Err(Stop::Fatal(AirtableError::Cancelled));
            }
            let ticket = limiter
                .acquire(cancel)
                .await
                .map_err(|_| Stop::Fatal(AirtableError::Cancelled))?;
            state.requests += 1;
            let request = self
                .http
                .get(url.clone())
                .header(AUTHORIZATION, authorization.clone())
                .send();
            let response = tokio::select! {
                response = request => response,
                () = cancel.cancelled() => return Err(Stop::Fatal(AirtableError::Cancelled)),
            };
            limiter.answered(ticket);
            let outcome = tokio::select! {
                outcome = self.read(source, page, response) => outcome,
                () = cancel.cancelled() => return Err(Stop::Fatal(AirtableError::Cancelled)),
            };
            let wait = match outcome {
                Ok(page) => return Ok(page),
                Err(Failure::RateLimited(retry_after)) => {
                    let wait = retry_after.unwrap_or(self.settings.penalty);
                    state.rate_limited += 1;
                    limiter.hold_off(wait);
                    tracing::warn!(
                        base = %source.base,
                        table = %source.table,
                        page,
                        wait_ms = wait.as_millis() as u64,
                        "Airtable's rate limit was hit (429); waiting before going on"
                    );
                    wait
                }
                Err(Failure::Transient(cause)) => {
                    failures += 1;
                    if failures > self.settings.max_retries {
                        return Err(Stop::Fatal(AirtableError::RetriesExhausted {
                            page,
                            attempts: failures,
                            cause,
                        }));
                    }
                    state.retries += 1;
                    let wait = self.backoff(failures);
                    tracing::warn!(
                        base = %source.base,
                        table = %source.table,
                        page,
                        attempt = failures,
                        wait_ms = wait.as_millis() as u64,
                        cause = %cause,
                        "reading a page from Airtable failed; retrying"
                    );
                    wait
                }
                Err(Failure::Expired) => return Err(Stop::Expired),
                Err(Failure::Fatal(error)) => return Err(Stop::Fatal(error)),
            };
            state.waiting = Some(wait);
            progress(state);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => return Err(Stop::Fatal(AirtableError::Cancelled)),
            }
            state.waiting = None;
        }
    }

    /// What one response means.
    async fn read(
        &self,
        source: &AirtableSource,
        page: u64,
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Page, Failure> {
        let response = response.map_err(|e| Failure::Transient(transport(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::Transient(transport(&e)))?;
        if status.is_success() {
            return serde_json::from_slice::<Page>(&body).map_err(|e| {
                Failure::Transient(format!("Airtable's answer is not a page of records: {e}"))
            });
        }
        let error = ErrorBody::parse(&body);
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => Failure::RateLimited(retry_after),
            StatusCode::UNAUTHORIZED => Failure::Fatal(AirtableError::Unauthorized {
                env: source.token_env.clone(),
            }),
            StatusCode::FORBIDDEN => Failure::Fatal(AirtableError::Forbidden {
                base: source.base.clone(),
                table: source.table.clone(),
                env: source.token_env.clone(),
            }),
            StatusCode::NOT_FOUND => Failure::Fatal(AirtableError::NotFound {
                base: source.base.clone(),
                table: source.table.clone(),
            }),
            StatusCode::UNPROCESSABLE_ENTITY
                if error.kind == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" =>
            {
                Failure::Expired
            }
            StatusCode::UNPROCESSABLE_ENTITY => Failure::Fatal(AirtableError::Rejected {
                fix: page::fix_for(&error.kind).to_owned(),
                kind: error.kind,
                message: error.message,
            }),
            status if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT => {
                Failure::Transient(format!("Airtable answered {status}{}", error.summary()))
            }
            status => Failure::Fatal(AirtableError::Unexpected {
                status: status.as_u16(),
                page,
                message: error.summary_or(&body),
            }),
        })
    }

    fn limiter(&self, source: &AirtableSource) -> Arc<BaseLimiter> {
        let key = (
            source.api_url.trim_end_matches('/').to_owned(),
            source.base.clone(),
        );
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            limiters
                .entry(key)
                .or_insert_with(|| Arc::new(BaseLimiter::new(self.settings.requests_per_second))),
        )
    }

    /// The delay before retry `attempt` (1-based): backoff × 2^(attempt-1), ±20 %.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .settings
            .backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        // A cheap, well-mixed sequence (splitmix64) is jitter enough.
        let mut z = self
            .jitter
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        base.mul_f64(0.8 + 0.4 * unit)
    }
}

/// `{api_url}/v0/{base}/{table}`, each path segment percent-encoded.
fn list_url(source: &AirtableSource) -> Result<Url, AirtableError> {
    let mut url = Url::parse(&source.api_url)
        .map_err(|e| AirtableError::Config(format!("api_url `{}`: {e}", source.api_url)))?;
    url.path_segments_mut()
        .map_err(|()| {
            AirtableError::Config(format!("api_url `{}` cannot have a path", source.api_url))
        })?
        .pop_if_empty()
        .extend(["v0", source.base.as_str(), source.table.as_str()]);
    Ok(url)
}

/// The `filterByFormula` of a listing: the source's formula, narrowed to records modified after
/// the query's instant for an incremental sync.
pub(crate) fn formula(filter: Option<&str>, modified_after: Option<Timestamp>) -> Option<String> {
    let after = modified_after.map(|at| {
        let at = at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
        format!("IS_AFTER(LAST_MODIFIED_TIME(), '{at}')")
    });
    match (filter.map(str::trim).filter(|f| !f.is_empty()), after) {
        (Some(filter), Some(after)) => Some(format!("AND({filter}, {after})")),
        (Some(filter), None) => Some(filter.to_owned()),
        (None, after) => after,
    }
}

/// A transport failure in words, without the URL (which is not secret, but long) repeated.
fn transport(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the connection broke while reading the answer"
    } else {
        "the request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what} ({cause})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_formulas_narrow_the_source_filter() {
        let at: Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
        assert_eq!(formula(None, None), None);
        assert_eq!(
            formula(Some("YEAR({Created})=2025"), None).as_deref(),
            Some("YEAR({Created})=2025")
        );
        assert_eq!(
            formula(None, Some(at)).as_deref(),
            Some("IS_AFTER(LAST_MODIFIED_TIME(), '2025-06-01T12:00:00.000Z')")
        );
        assert_eq!(
            formula(Some("YEAR({Created})=2025"), Some(at)).as_deref(),
            Some(
                "AND(YEAR({Created})=2025, IS_AFTER(LAST_MODIFIED_TIME(), \
                 '2025-06-01T12:00:00.000Z'))"
            )
        );
    }

    #[test]
    fn table_names_are_percent_encoded() {
        let mut source = AirtableSource::new("appABC", "Feedback / 2025?");
        source.api_url = "http://127.0.0.1:9/".to_owned();
        assert_eq!(
            list_url(&source).unwrap().as_str(),
            "http://127.0.0.1:9/v0/appABC/Feedback%20%2F%202025%3F"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter() {
        let client = AirtableClient::new(AirtableSettings::default()).unwrap();
        for (attempt, base) in [(1, 1000), (2, 2000), (3, 4000)] {
            let wait = client.backoff(attempt).as_millis() as u64;
            assert!((base * 8 / 10..=base * 12 / 10).contains(&wait), "{wait}");
        }
    }
}
