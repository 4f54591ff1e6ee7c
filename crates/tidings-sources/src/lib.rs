//! Where feedback comes from: readers for each kind of source, and the field mapping they share.
//!
//! - [`mapping`]: which source field feeds each [`FeedbackRecord`](tidings_store::FeedbackRecord)
//!   column, and one row → one record (or the row's problems);
//! - [`csv`]: files, globs and folders of CSV files, each listed with its size, mtime and checksum
//!   so that it is imported once, and read whole or not at all;
//! - [`airtable`]: an Airtable table listed through the REST API within Airtable's rate limit.

pub mod airtable;
mod cell;
pub mod csv;
pub mod mapping;

pub use airtable::{
    AirtableClient, AirtableError, AirtableListing, AirtableSettings, AirtableSource,
    AirtableToken, BadRecord, ListProgress, ListQuery,
};
pub use cell::{parse_number, parse_timestamp};
pub use csv::{BadRow, CsvError, CsvFile, CsvImport, CsvSource, ImportWarning, RowProblem};
pub use mapping::{Column, FieldMapping, FieldProblem, ResolvedMapping, content_id};

/// Lower-case hexadecimal, as checksums and derived ids are written.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}
