//! Airtable sources: the configuration ([`AirtableSource`]), the token it reads from the
//! environment, and the client that lists a table within Airtable's limits ([`AirtableClient`]).
//!
//! The contract (DESIGN.md, "Data sources"): `GET /v0/{base}/{table}` page by page; never more
//! than 5 requests in any second per base, shared by every listing of the base; a 429 is waited
//! out, never a failure; 5xx, timeouts, broken connections and broken bodies are retried with
//! backoff; 401/403/404/422 fail at once with what to fix; an expired offset restarts the
//! listing. The token is never shown.

mod client;
mod config;
mod error;
mod http;
mod limiter;
mod page;

pub use client::{
    AirtableClient, AirtableListing, AirtableSettings, BadRecord, ListProgress, ListQuery,
};
pub use config::{AIRTABLE_API_URL, AirtableSource, AirtableToken, DEFAULT_TOKEN_ENV};
pub use error::AirtableError;
