//! A local Airtable: the list-records API (`GET /v0/{base}/{table}`) over real HTTP, with
//! Airtable's rate limit and penalty, expiring offsets, a formula evaluator, field selection,
//! and faults scripted by the test. Tests start one on a free port with [`FakeAirtable::start`];
//! `tidings-fake-airtable` serves one by hand.
//!
//! Admin routes for by-hand use: `POST /_fake/records` (a record as JSON), `PATCH
//! /_fake/records/{id}` (`{"fields": {...}}`), `DELETE /_fake/records/{id}`, `POST /_fake/faults`
//! ([`FaultSpec`]), `GET /_fake/requests`.

mod data;
mod fault;
mod formula;
mod server;
mod table;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Map, Value};
use tidings_core::{Clock, ManualClock};
use tokio_util::sync::CancellationToken;

pub use data::{FakeRecord, GENERATED_FIELDS, airtable_time, generate, read_jsonl};
pub use fault::{Fault, FaultKind, FaultSpec};
pub use formula::{Formula, RecordView};
pub use table::FakeRequest;

/// The instant the default clock is stopped at: after all generated data.
pub const DEFAULT_NOW: Timestamp = Timestamp::constant(1_780_272_000, 0); // 2026-06-01T00:00:00Z

/// How the fake behaves, and what it holds at the start.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub base: String,
    pub table: String,
    pub token: String,
    pub records: Vec<FakeRecord>,
    /// Requests per base in any one second before a 429 (Airtable: 5).
    pub rate_limit: u32,
    /// How long every request to the base is refused after going over (Airtable: 30 s).
    pub penalty: Duration,
    /// How long a listing's offsets stay valid (Airtable: about 5 minutes).
    pub offset_lifetime: Duration,
    /// The time inserts and updates are stamped with; a stopped clock by default.
    pub clock: Arc<dyn Clock>,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            base: "appTidingsFake001".to_owned(),
            table: "Feedback".to_owned(),
            token: "fake-airtable-token".to_owned(),
            records: Vec::new(),
            rate_limit: 5,
            penalty: Duration::from_secs(30),
            offset_lifetime: Duration::from_secs(5 * 60),
            clock: Arc::new(ManualClock::new(DEFAULT_NOW)),
        }
    }
}

impl FakeConfig {
    /// The default configuration holding `count` generated records ([`generate`]).
    pub fn generated(count: usize, seed: u64) -> FakeConfig {
        FakeConfig {
            records: generate(count, seed),
            ..FakeConfig::default()
        }
    }
}

pub(crate) struct Shared {
    pub(crate) base: String,
    pub(crate) table_name: String,
    pub(crate) token: String,
    pub(crate) rate_limit: u32,
    pub(crate) penalty: Duration,
    pub(crate) offset_lifetime: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) table: Mutex<table::Table>,
}

impl Shared {
    pub(crate) fn table(&self) -> MutexGuard<'_, table::Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake Airtable. Stops when dropped.
pub struct FakeAirtable {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl FakeAirtable {
    /// Starts a fake on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// If no port can be bound, which only a broken test machine does.
    pub async fn start(config: FakeConfig) -> FakeAirtable {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        FakeAirtable::bind(addr, config)
            .await
            .expect("the fake Airtable could not bind 127.0.0.1:0")
    }

    /// Starts a fake listening on `addr`.
    pub async fn bind(addr: SocketAddr, config: FakeConfig) -> io::Result<FakeAirtable> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let now = config.clock.now();
        let mut table = table::Table::new(GENERATED_FIELDS.iter().map(|f| (*f).to_owned()));
        for record in config.records {
            table.insert(record, now);
        }
        let shared = Arc::new(Shared {
            base: config.base,
            table_name: config.table,
            token: config.token,
            rate_limit: config.rate_limit,
            penalty: config.penalty,
            offset_lifetime: config.offset_lifetime,
            clock: config.clock,
            table: Mutex::new(table),
        });
        let stop = CancellationToken::new();
        let app = server::router(Arc::clone(&shared));
        let shutdown = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
            if let Err(error) = served {
                eprintln!("fake Airtable stopped: {error}");
            }
        });
        Ok(FakeAirtable { shared, addr, stop })
    }

    /// The API's base URL, e.g. `http://127.0.0.1:38411` (an `api_url` for a source).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base(&self) -> &str {
        &self.shared.base
    }

    pub fn table(&self) -> &str {
        &self.shared.table_name
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Adds a record (an empty id is made up), stamped modified now; returns it as stored.
    pub fn insert(&self, record: FakeRecord) -> FakeRecord {
        let now = self.shared.clock.now();
        let mut record = record;
        if self.shared.table().schema.contains("Last Modified") {
            record.fields.insert(
                "Last Modified".to_owned(),
                Value::String(airtable_time(now)),
            );
        }
        self.shared.table().insert(record, now)
    }

    /// Sets `fields` of record `id` (`null` clears one) and bumps its last-modified time and its
    /// "Last Modified" field; `None` when there is no such record.
    pub fn update(&self, id: &str, fields: Map<String, Value>) -> Option<FakeRecord> {
        let now = self.shared.clock.now();
        self.shared.table().update(id, fields, now)
    }

    /// Removes record `id`; false when there was none.
    pub fn delete(&self, id: &str) -> bool {
        self.shared.table().delete(id)
    }

    /// Every record, in listing order.
    pub fn records(&self) -> Vec<FakeRecord> {
        self.shared
            .table()
            .records
            .values()
            .map(table::Stored::to_record)
            .collect()
    }

    /// The ids of the records a formula selects, in listing order.
    pub fn ids_matching(&self, formula: &str) -> Result<Vec<String>, String> {
        self.shared.table().matching(Some(formula))
    }

    /// How many records a formula selects (`count_matching("YEAR({Created})=2025")`).
    pub fn count_matching(&self, formula: &str) -> Result<usize, String> {
        self.ids_matching(formula).map(|ids| ids.len())
    }

    /// Queues a fault for the next matching list request.
    pub fn push_fault(&self, fault: impl Into<Fault>) {
        self.shared.table().faults.push_back(fault.into());
    }

    /// Faults queued and not yet used.
    pub fn pending_faults(&self) -> usize {
        self.shared.table().faults.len()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.shared.table().requests.clone()
    }

    /// List requests so far.
    pub fn list_requests(&self) -> usize {
        self.shared
            .table()
            .requests
            .iter()
            .filter(|r| r.page.is_some())
            .count()
    }

    /// The most list requests that arrived within any one second.
    pub fn max_requests_in_any_second(&self) -> usize {
        let arrivals: Vec<Instant> = self
            .shared
            .table()
            .requests
            .iter()
            .filter(|r| r.page.is_some())
            .map(|r| r.at)
            .collect();
        max_in_window(&arrivals, Duration::from_secs(1))
    }

    /// 429s answered: over the limit, in the penalty, or scripted.
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.table().rate_limited
    }
}

impl Drop for FakeAirtable {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The most instants of `sorted` within any window of length `window` (half-open).
pub fn max_in_window(sorted: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, at) in sorted.iter().enumerate() {
        while at.duration_since(sorted[start]) >= window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}
