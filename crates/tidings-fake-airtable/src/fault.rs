//! Scripted faults: what the next matching list request gets instead of (or on top of) its page.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 500 with Airtable's JSON error body.
    Status500,
    /// 502 with an HTML body, as a proxy in front of Airtable sends.
    BadGateway,
    /// 429 `RATE_LIMIT_REACHED`, with `Retry-After` when given; no penalty follows.
    TooManyRequests { retry_after: Option<u64> },
    /// 200 and headers, then the connection breaks mid-body.
    ResetConnection,
    /// 200 with the page's JSON cut in half.
    TruncatedJson,
    /// The real answer, after this long.
    Slow(Duration),
    /// 422 `LIST_RECORDS_ITERATOR_NOT_AVAILABLE`; only matches requests that carry an offset.
    ExpiredOffset,
    /// 401 `AUTHENTICATION_REQUIRED`.
    Unauthorized,
    /// 422 `INVALID_FILTER_BY_FORMULA`.
    InvalidFormula,
}

/// A fault and which request it hits: the next list request, or the next one for page `n`
/// (page 1 is a request without an offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub page: Option<u64>,
}

impl Fault {
    /// The next list request gets `kind`.
    pub fn next(kind: FaultKind) -> Fault {
        Fault { kind, page: None }
    }

    /// The next request for page `page` gets `kind`.
    pub fn at_page(page: u64, kind: FaultKind) -> Fault {
        Fault {
            kind,
            page: Some(page),
        }
    }

    pub(crate) fn matches(&self, page: u64, has_offset: bool) -> bool {
        self.page.is_none_or(|p| p == page) && (self.kind != FaultKind::ExpiredOffset || has_offset)
    }
}

impl From<FaultKind> for Fault {
    fn from(kind: FaultKind) -> Fault {
        Fault::next(kind)
    }
}

/// A fault as JSON, for `POST /_fake/faults`:
/// `{"kind": "status500" | "bad_gateway" | "too_many_requests" | "reset_connection" |
/// "truncated_json" | "slow" | "expired_offset" | "unauthorized" | "invalid_formula",
/// "page": 3, "retry_after": 2, "millis": 1500, "times": 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: String,
    #[serde(default)]
    pub page: Option<u64>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub millis: Option<u64>,
    /// How many requests get it; 1 by default.
    #[serde(default)]
    pub times: Option<u32>,
}

impl FaultSpec {
    pub fn to_faults(&self) -> Result<Vec<Fault>, String> {
        let kind = match self.kind.as_str() {
            "status500" | "status_500" => FaultKind::Status500,
            "bad_gateway" => FaultKind::BadGateway,
            "too_many_requests" => FaultKind::TooManyRequests {
                retry_after: self.retry_after,
            },
            "reset_connection" => FaultKind::ResetConnection,
            "truncated_json" => FaultKind::TruncatedJson,
            "slow" => FaultKind::Slow(Duration::from_millis(self.millis.unwrap_or(1000))),
            "expired_offset" => FaultKind::ExpiredOffset,
            "unauthorized" => FaultKind::Unauthorized,
            "invalid_formula" => FaultKind::InvalidFormula,
            other => {
                return Err(format!(
                    "unknown fault kind `{other}`: expected status500, bad_gateway, \
                     too_many_requests, reset_connection, truncated_json, slow, expired_offset, \
                     unauthorized or invalid_formula"
                ));
            }
        };
        let fault = Fault {
            kind,
            page: self.page,
        };
        Ok(vec![fault; self.times.unwrap_or(1) as usize])
    }
}
