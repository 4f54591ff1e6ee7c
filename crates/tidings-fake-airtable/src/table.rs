//! The fake's state: the table's records, listing iterations (offsets), the base's rate window
//! and penalty, scripted faults, and the log of requests. Synchronous; the server locks it for
//! the duration of one request's bookkeeping, never across a wait.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::data::{FakeRecord, airtable_time};
use crate::fault::Fault;
use crate::formula::{Formula, RecordView};

#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) id: String,
    pub(crate) created_time: Timestamp,
    pub(crate) last_modified: Timestamp,
    pub(crate) fields: Map<String, Value>,
}

impl Stored {
    fn view(&self) -> RecordView<'_> {
        RecordView {
            fields: &self.fields,
            created_time: self.created_time,
            last_modified: self.last_modified,
        }
    }

    pub(crate) fn to_record(&self) -> FakeRecord {
        FakeRecord {
            id: self.id.clone(),
            created_time: Some(self.created_time),
            fields: self.fields.clone(),
        }
    }
}

/// One listing: the ids that matched its formula when it started, and the offsets handed out.
#[derive(Debug)]
struct Iteration {
    ids: Arc<[String]>,
    started: Instant,
    /// Offset token → (position of the next record, page number of the next request).
    offsets: HashMap<String, (usize, u64)>,
}

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeRequest {
    /// When it arrived.
    #[serde(skip)]
    pub at: Instant,
    /// Milliseconds since the fake started, for `GET /_fake/requests`.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// The page it asked for (1 without an offset), for list requests.
    pub page: Option<u64>,
    /// The scripted fault it got, if any.
    pub fault: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) records: BTreeMap<u64, Stored>,
    pub(crate) by_id: HashMap<String, u64>,
    next_seq: u64,
    pub(crate) schema: BTreeSet<String>,
    iterations: HashMap<u64, Iteration>,
    next_iteration: u64,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) requests: Vec<FakeRequest>,
    arrivals: VecDeque<Instant>,
    penalty_until: Option<Instant>,
    pub(crate) rate_limited: u64,
    pub(crate) started: Instant,
}

/// The answer to a list request before any fault is applied.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

pub(crate) fn error(status: u16, kind: &str, message: &str) -> Answer {
    Answer {
        status,
        body: json!({"error": {"type": kind, "message": message}}),
    }
}

impl Table {
    pub(crate) fn new(schema: impl IntoIterator<Item = String>) -> Table {
        Table {
            records: BTreeMap::new(),
            by_id: HashMap::new(),
            next_seq: 0,
            schema: schema.into_iter().collect(),
            iterations: HashMap::new(),
            next_iteration: 1,
            faults: VecDeque::new(),
            requests: Vec::new(),
            arrivals: VecDeque::new(),
            penalty_until: None,
            rate_limited: 0,
            started: Instant::now(),
        }
    }

    pub(crate) fn insert(&mut self, record: FakeRecord, now: Timestamp) -> FakeRecord {
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = if record.id.is_empty() {
            format!("recFake{seq:010}")
        } else {
            record.id
        };
        let mut fields = record.fields;
        fields.retain(|_, v| !is_empty(v));
        let created_time = record.created_time.unwrap_or(now);
        let last_modified = fields
            .get("Last Modified")
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok())
            .unwrap_or(created_time);
        self.schema.extend(fields.keys().cloned());
        if let Some(old) = self.by_id.insert(id.clone(), seq) {
            self.records.remove(&old);
        }
        let stored = Stored {
            id,
            created_time,
            last_modified,
            fields,
        };
        let record = stored.to_record();
        self.records.insert(seq, stored);
        record
    }

    /// Sets (or, with `null`, clears) `fields`, and bumps the record's last-modified time.
    pub(crate) fn update(
        &mut self,
        id: &str,
        fields: Map<String, Value>,
        now: Timestamp,
    ) -> Option<FakeRecord> {
        let seq = *self.by_id.get(id)?;
        let stored = self.records.get_mut(&seq)?;
        for (name, value) in fields {
            if is_empty(&value) {
                stored.fields.remove(&name);
            } else {
                self.schema.insert(name.clone());
                stored.fields.insert(name, value);
            }
        }
        stored.last_modified = now;
        if self.schema.contains("Last Modified") {
            stored
                .fields
                .insert("Last Modified".to_owned(), json!(airtable_time(now)));
        }
        Some(stored.to_record())
    }

    pub(crate) fn delete(&mut self, id: &str) -> bool {
        match self.by_id.remove(id) {
            Some(seq) => self.records.remove(&seq).is_some(),
            None => false,
        }
    }

    pub(crate) fn matching(&self, formula: Option<&str>) -> Result<Vec<String>, String> {
        let formula = formula
            .filter(|f| !f.trim().is_empty())
            .map(|f| Formula::parse(f, &self.schema))
            .transpose()?;
        Ok(self
            .records
            .values()
            .filter(|r| formula.as_ref().is_none_or(|f| f.matches(&r.view())))
            .map(|r| r.id.clone())
            .collect())
    }

    /// The page number a request asks for: 1 without an offset, the offset's page otherwise,
    /// 0 for an offset the fake never gave.
    pub(crate) fn page_of(&self, offset: Option<&str>) -> u64 {
        let Some(offset) = offset else { return 1 };
        iteration_of(offset)
            .and_then(|n| self.iterations.get(&n))
            .and_then(|it| it.offsets.get(offset))
            .map_or(0, |(_, page)| *page)
    }

    /// Counts an arrival against the base's window; true when it is over the limit (or the base
    /// is in its penalty), which starts or continues the penalty.
    pub(crate) fn over_limit(&mut self, now: Instant, limit: u32, penalty: Duration) -> bool {
        self.arrivals.push_back(now);
        while self
            .arrivals
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.arrivals.pop_front();
        }
        if self.penalty_until.is_some_and(|until| now < until) {
            self.rate_limited += 1;
            return true;
        }
        if self.arrivals.len() > limit as usize {
            self.penalty_until = Some(now + penalty);
            self.rate_limited += 1;
            return true;
        }
        false
    }

    pub(crate) fn take_fault(&mut self, page: u64, has_offset: bool) -> Option<Fault> {
        let at = self
            .faults
            .iter()
            .position(|f| f.matches(page, has_offset))?;
        self.faults.remove(at)
    }

    /// A page of the listing the query asks for.
    pub(crate) fn list(&mut self, query: &ListParams, now: Instant, lifetime: Duration) -> Answer {
        let page_size = match query.page_size {
            None => 100,
            Some(n @ 1..=100) => n,
            Some(n) => {
                return error(
                    422,
                    "INVALID_REQUEST_UNKNOWN",
                    &format!("pageSize must be between 1 and 100, not {n}"),
                );
            }
        };
        if let Some(unknown) = query.fields.iter().find(|f| !self.schema.contains(*f)) {
            return error(
                422,
                "UNKNOWN_FIELD_NAME",
                &format!("Unknown field name: \"{unknown}\""),
            );
        }
        let (iteration, position, page) = match &query.offset {
            None => {
                let ids = match self.matching(query.formula.as_deref()) {
                    Ok(ids) => ids,
                    Err(message) => return error(422, "INVALID_FILTER_BY_FORMULA", &message),
                };
                let n = self.next_iteration;
                self.next_iteration += 1;
                self.iterations.insert(
                    n,
                    Iteration {
                        ids: ids.into(),
                        started: now,
                        offsets: HashMap::new(),
                    },
                );
                (n, 0, 1)
            }
            Some(offset) => {
                let found = iteration_of(offset).and_then(|n| {
                    let it = self.iterations.get(&n)?;
                    let (position, page) = it.offsets.get(offset)?;
                    (now.duration_since(it.started) < lifetime).then_some((n, *position, *page))
                });
                match found {
                    Some(found) => found,
                    None => return expired(),
                }
            }
        };
        let Some(it) = self.iterations.get(&iteration) else {
            return expired();
        };
        let ids = Arc::clone(&it.ids);
        let end = (position + page_size as usize).min(ids.len());
        let records: Vec<Value> = ids[position..end]
            .iter()
            .filter_map(|id| self.by_id.get(id).and_then(|seq| self.records.get(seq)))
            .map(|r| {
                let fields: Map<String, Value> = r
                    .fields
                    .iter()
                    .filter(|(name, _)| query.fields.is_empty() || query.fields.contains(*name))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                json!({"id": r.id, "createdTime": airtable_time(r.created_time), "fields": fields})
            })
            .collect();
        let mut body = json!({ "records": records });
        if end < ids.len() {
            let next = ids[end].clone();
            let offset = format!("itr{iteration:014}/{next}");
            if let Some(it) = self.iterations.get_mut(&iteration) {
                it.offsets.insert(offset.clone(), (end, page + 1));
            }
            body["offset"] = json!(offset);
        } else {
            self.iterations.remove(&iteration);
        }
        Answer { status: 200, body }
    }
}

/// The parameters of `GET /v0/{base}/{table}` the fake reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ListParams {
    pub(crate) page_size: Option<u64>,
    pub(crate) offset: Option<String>,
    pub(crate) formula: Option<String>,
    pub(crate) fields: Vec<String>,
}

impl ListParams {
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Result<ListParams, String> {
        let mut params = ListParams::default();
        for (name, value) in pairs {
            match name.as_str() {
                "pageSize" => {
                    params.page_size = Some(
                        value
                            .parse()
                            .map_err(|_| format!("pageSize `{value}` is not a number"))?,
                    );
                }
                "offset" => params.offset = Some(value.clone()),
                "filterByFormula" => params.formula = Some(value.clone()),
                "fields[]" | "fields" => params.fields.push(value.clone()),
                "view" | "maxRecords" | "cellFormat" | "timeZone" | "userLocale" => {}
                other => return Err(format!("unknown parameter `{other}`")),
            }
        }
        Ok(params)
    }
}

fn expired() -> Answer {
    Answer {
        status: 422,
        body: json!({"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}),
    }
}

fn iteration_of(offset: &str) -> Option<u64> {
    offset.strip_prefix("itr")?.split('/').next()?.parse().ok()
}

/// Airtable leaves empty cells out.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}
