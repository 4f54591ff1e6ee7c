//! CSV sources: which files a source names (a file, a glob or a folder), what each file is (size,
//! mtime, SHA-256, so that it is imported once), and reading one file into records, whole or not
//! at all.
//!
//! A file is read into memory in one go: its records are stored in one transaction anyway, and
//! having the bytes lets the reader check UTF-8 once, say exactly where it breaks, and prove the
//! file is the one that was listed (its checksum), so that what is recorded as imported is what
//! was imported.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ::csv::{ByteRecord, ReaderBuilder};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tidings_core::Zone;
use tidings_store::FeedbackRecord;

use crate::mapping::{FieldMapping, FieldProblem};

/// How many bad rows a failed file's error shows.
const SHOWN_BAD_ROWS: usize = 5;

/// A CSV source (`[sources.NAME]` with `kind = "csv"`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSource {
    /// A file, a glob pattern (`exports/*.csv`), or a folder (every `*.csv` directly in it).
    pub path: PathBuf,
    /// The field separator, one ASCII character: `,` (default), `;`, `\t` or `tab`, `|`…
    #[serde(
        default = "comma",
        deserialize_with = "ascii_char",
        serialize_with = "ascii_char_out"
    )]
    pub delimiter: u8,
    /// The quote character, one ASCII character; `"` by default. A quote inside a quoted field is
    /// written twice.
    #[serde(
        default = "double_quote",
        deserialize_with = "ascii_char",
        serialize_with = "ascii_char_out"
    )]
    pub quote: u8,
    #[serde(default)]
    pub mapping: FieldMapping,
    /// The zone of timestamps written without an offset (`2025-03-09 14:00`); UTC by default.
    #[serde(default = "Zone::utc")]
    pub zone: Zone,
    /// The share of a file's rows that may be bad (skipped and reported) before the whole file is
    /// refused; 0.01 by default, 0 refuses any bad row.
    #[serde(default = "default_max_bad_fraction")]
    pub max_bad_fraction: f64,
    /// Moves every record's `created_at` and `updated_at` by the same amount, so that the
    /// newest record's `created_at` falls on the file's modification time (an `updated_at` that
    /// would then be later is set to that time): for sample data that should look recent,
    /// with feedback from the last hour and day, wherever and whenever it is checked out. Off by
    /// default; `raw` keeps the dates as written.
    #[serde(default)]
    pub shift_dates_to_mtime: bool,
}

/// One file of a source as listed: what identifies this version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    pub path: PathBuf,
    /// In bytes.
    pub size: u64,
    /// The file's modification time.
    pub mtime: Timestamp,
    /// The SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvImport {
    /// The good rows' records, one per external id, in the order the ids first appear.
    pub records: Vec<FeedbackRecord>,
    /// Rows skipped, in file order.
    pub bad_rows: Vec<BadRow>,
    /// Data rows read, good and bad (blank rows are not counted).
    pub rows: usize,
    pub warnings: Vec<ImportWarning>,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// The line the row starts on; the header is line 1.
    pub line: u64,
    pub problems: Vec<RowProblem>,
}

/// Why a row was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// The row does not have one field per header column.
    FieldCount {
        expected: usize,
        found: usize,
    },
    Field(FieldProblem),
}

/// Something worth telling about an import that did not stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportWarning {
    /// Two rows have the same external id; the later one was kept.
    DuplicateId {
        external_id: String,
        earlier_line: u64,
        line: u64,
    },
}

/// Why a source's files could not be listed, or a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("invalid CSV source setting: {0}")]
    Setting(String),
    #[error("invalid glob pattern `{pattern}`: {source}")]
    Pattern {
        pattern: String,
        source: glob::PatternError,
    },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{}: not UTF-8 at line {line} (byte {byte_offset}); re-save the file as UTF-8 \
         (in Excel: Save As → \"CSV UTF-8\")",
        path.display()
    )]
    NotUtf8 {
        path: PathBuf,
        line: u64,
        byte_offset: u64,
    },
    #[error("{}: the file is empty; the first line must name the columns", path.display())]
    NoHeader { path: PathBuf },
    #[error("{}: the header names `{name}` twice", path.display())]
    DuplicateHeader { path: PathBuf, name: String },
    #[error(
        "{}: the mapping names fields that the header does not have: {}; the header has: {}",
        path.display(), list(missing), list(header)
    )]
    MissingFields {
        path: PathBuf,
        /// `column → field` for each configured field not found.
        missing: Vec<String>,
        header: Vec<String>,
    },
    #[error("{}: {source}", path.display())]
    Parse { path: PathBuf, source: ::csv::Error },
    #[error(
        "{}: {} of {rows} rows are bad, more than the {}% allowed; nothing was imported. {}",
        path.display(), bad_rows.len(), max_bad_fraction * 100.0, first_bad_rows(bad_rows)
    )]
    TooManyBadRows {
        path: PathBuf,
        rows: usize,
        max_bad_fraction: f64,
        bad_rows: Vec<BadRow>,
    },
    #[error("{}: the file changed after it was listed; list the files again", path.display())]
    ChangedSinceListing { path: PathBuf },
}

impl CsvSource {
    /// A source reading `path` with the defaults: comma-separated, `"`-quoted, default mapping,
    /// UTC, 1% bad rows allowed.
    pub fn new(path: impl Into<PathBuf>) -> CsvSource {
        CsvSource {
            path: path.into(),
            delimiter: comma(),
            quote: double_quote(),
            mapping: FieldMapping::default(),
            zone: Zone::utc(),
            max_bad_fraction: default_max_bad_fraction(),
            shift_dates_to_mtime: false,
        }
    }

    /// The source's files, sorted by path, each with its size, mtime and checksum.
    ///
    /// A glob or a folder that matches nothing gives no files; a plain path that does not exist
    /// is an error. Hidden files (`.name.csv`) are left out of globs and folders.
    pub fn files(&self) -> Result<Vec<CsvFile>, CsvError> {
        self.check()?;
        self.paths()?
            .into_iter()
            .map(|path| CsvFile::inspect(&path))
            .collect()
    }

    /// Reads one listed file. Rows with problems are skipped and reported with their line; if
    /// more than `max_bad_fraction` of the rows are bad, the file fails as a whole.
    pub fn read_file(&self, file: &CsvFile) -> Result<CsvImport, CsvError> {
        self.check()?;
        let path = &file.path;
        let bytes = fs::read(path).map_err(io_error(path))?;
        if crate::hex(&Sha256::digest(&bytes)) != file.sha256 {
            return Err(CsvError::ChangedSinceListing { path: path.clone() });
        }
        let text = utf8_text(&bytes, path)?;
        let mut reader = ReaderBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .flexible(true)
            .has_headers(true)
            .from_reader(text);
        let parse_error = |source| CsvError::Parse {
            path: path.clone(),
            source,
        };
        let header = header(reader.byte_headers().map_err(parse_error)?, path)?;
        let mapping = self.mapping.resolve(header.iter().map(String::as_str));
        if !mapping.unmatched().is_empty() {
            return Err(CsvError::MissingFields {
                path: path.clone(),
                missing: (mapping.unmatched().iter())
                    .map(|(column, field)| format!("{column} → `{field}`"))
                    .collect(),
                header,
            });
        }

        let zone = self.zone.tz();
        // One row per line at most: reserving up front spares large reallocations, which cost
        // more than the count (a fifth of the read time with the system allocator).
        let lines_left = text.iter().filter(|&&b| b == b'\n').count();
        let mut import = CsvImport {
            records: Vec::with_capacity(lines_left),
            bad_rows: Vec::new(),
            rows: 0,
            warnings: Vec::new(),
        };
        // external id → (index in `records`, line it was read from)
        let mut seen: HashMap<String, (usize, u64)> = HashMap::with_capacity(lines_left);
        let mut lines = LineCounter::default();
        let mut record = ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(parse_error)? {
            let start = record.position().map_or(0, ::csv::Position::byte);
            let line = lines.line_at(text, start);
            if record.iter().all(|field| field.trim_ascii().is_empty()) {
                continue;
            }
            import.rows += 1;
            if record.len() != header.len() {
                import.bad_rows.push(BadRow {
                    line,
                    problems: vec![RowProblem::FieldCount {
                        expected: header.len(),
                        found: record.len(),
                    }],
                });
                continue;
            }
            let mut row = Map::new();
            for (name, field) in header.iter().zip(record.iter()) {
                // The whole file is valid UTF-8 and fields are cut at ASCII bytes, so no field
                // is lossy here.
                let field = String::from_utf8_lossy(field).into_owned();
                row.insert(name.clone(), Value::String(field));
            }
            let mapped = match mapping.map_row(row, zone) {
                Ok(mapped) => mapped,
                Err(problems) => {
                    import.bad_rows.push(BadRow {
                        line,
                        problems: problems.into_iter().map(RowProblem::Field).collect(),
                    });
                    continue;
                }
            };
            import.keep(mapped, line, &mut seen);
        }

        if import.bad_rows.len() as f64 > self.max_bad_fraction * import.rows as f64 {
            return Err(CsvError::TooManyBadRows {
                path: path.clone(),
                rows: import.rows,
                max_bad_fraction: self.max_bad_fraction,
                bad_rows: import.bad_rows,
            });
        }
        if self.shift_dates_to_mtime {
            shift_dates(&mut import.records, file.mtime);
        }
        Ok(import)
    }

    fn check(&self) -> Result<(), CsvError> {
        if !self.delimiter.is_ascii() || !self.quote.is_ascii() {
            return Err(CsvError::Setting(
                "the delimiter and the quote must be ASCII characters".to_owned(),
            ));
        }
        if self.delimiter == self.quote {
            return Err(CsvError::Setting(
                "the delimiter and the quote must differ".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&self.max_bad_fraction) {
            return Err(CsvError::Setting(format!(
                "max_bad_fraction must be between 0 and 1, not {}",
                self.max_bad_fraction
            )));
        }
        Ok(())
    }

    fn paths(&self) -> Result<Vec<PathBuf>, CsvError> {
        let mut paths = Vec::new();
        if let Some(pattern) = self.path.to_str()
            && pattern.contains(['*', '?', '['])
        {
            let options = glob::MatchOptions {
                require_literal_leading_dot: true,
                ..glob::MatchOptions::new()
            };
            let matches =
                glob::glob_with(pattern, options).map_err(|source| CsvError::Pattern {
                    pattern: pattern.to_owned(),
                    source,
                })?;
            for entry in matches {
                let path = entry.map_err(|e| CsvError::Io {
                    path: e.path().to_owned(),
                    source: e.into(),
                })?;
                if path.is_file() {
                    paths.push(path);
                }
            }
        } else if self.path.is_dir() {
            let entries = fs::read_dir(&self.path).map_err(io_error(&self.path))?;
            for entry in entries {
                let path = entry.map_err(io_error(&self.path))?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                let is_csv = Path::new(name)
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
                if is_csv && !name.starts_with('.') && path.is_file() {
                    paths.push(path);
                }
            }
        } else {
            paths.push(self.path.clone());
        }
        paths.sort();
        Ok(paths)
    }
}

impl CsvImport {
    /// Adds a good row's record; a repeated id replaces the earlier record in its place.
    fn keep(
        &mut self,
        record: FeedbackRecord,
        line: u64,
        seen: &mut HashMap<String, (usize, u64)>,
    ) {
        match seen.entry(record.external_id.clone()) {
            Entry::Occupied(mut entry) => {
                let (index, earlier_line) = *entry.get();
                self.warnings.push(ImportWarning::DuplicateId {
                    external_id: record.external_id.clone(),
                    earlier_line,
                    line,
                });
                self.records[index] = record;
                entry.insert((index, line));
            }
            Entry::Vacant(entry) => {
                entry.insert((self.records.len(), line));
                self.records.push(record);
            }
        }
    }
}

/// The file's text without its byte order mark, or where it stops being UTF-8.
fn utf8_text<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a [u8], CsvError> {
    let (bom, text) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    match std::str::from_utf8(text) {
        Ok(_) => Ok(text),
        Err(e) => {
            let offset = (bom + e.valid_up_to()) as u64;
            Err(CsvError::NotUtf8 {
                path: path.to_owned(),
                line: LineCounter::default().line_at(bytes, offset),
                byte_offset: offset,
            })
        }
    }
}

impl CsvFile {
    /// Reads a file's size, mtime and checksum, hashing it in chunks.
    pub fn inspect(path: &Path) -> Result<CsvFile, CsvError> {
        let mut file = File::open(path).map_err(io_error(path))?;
        let metadata = file.metadata().map_err(io_error(path))?;
        let modified = metadata.modified().map_err(io_error(path))?;
        let mtime = Timestamp::try_from(modified)
            .map_err(|e| io_error(path)(io::Error::other(e.to_string())))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; 64 * 1024];
        let mut size = 0;
        loop {
            let n = match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(path)(e)),
            };
            hasher.update(&buffer[..n]);
            size += n as u64;
        }
        Ok(CsvFile {
            path: path.to_owned(),
            size,
            mtime,
            sha256: crate::hex(&hasher.finalize()),
        })
    }
}

/// Line numbers as an editor shows them (a newline inside a quoted field starts a new line), for
/// offsets given in increasing order, counting each byte once.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    /// The 1-based line that byte `offset` of `text` is on; at a line break, the line after it
    /// (the csv crate places a record after `\r\n` at the `\n`, and after blank lines at the
    /// first of them).
    fn line_at(&mut self, text: &[u8], offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).map_or(text.len(), |o| o.min(text.len()));
        while matches!(text.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if offset > self.offset {
            let newlines = text[self.offset..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line += newlines as u64;
            self.offset = offset;
        }
        self.line + 1
    }
}

/// The header's names, trimmed; an empty name becomes `column_N` (N from 1).
fn header(record: &ByteRecord, path: &Path) -> Result<Vec<String>, CsvError> {
    if record.iter().all(|name| name.trim_ascii().is_empty()) {
        return Err(CsvError::NoHeader {
            path: path.to_owned(),
        });
    }
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (i, name) in record.iter().enumerate() {
        let name = String::from_utf8_lossy(name).trim().to_owned();
        let name = if name.is_empty() {
            format!("column_{}", i + 1)
        } else {
            name
        };
        if names.contains(&name) {
            return Err(CsvError::DuplicateHeader {
                path: path.to_owned(),
                name,
            });
        }
        names.push(name);
    }
    Ok(names)
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> CsvError + '_ {
    move |source| CsvError::Io {
        path: path.to_owned(),
        source,
    }
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

fn first_bad_rows(bad_rows: &[BadRow]) -> String {
    let mut text = String::from("First bad rows:");
    for row in bad_rows.iter().take(SHOWN_BAD_ROWS) {
        text.push_str(&format!("\n  {row}"));
    }
    if bad_rows.len() > SHOWN_BAD_ROWS {
        text.push_str(&format!(
            "\n  … and {} more",
            bad_rows.len() - SHOWN_BAD_ROWS
        ));
    }
    text
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowProblem::FieldCount { expected, found } => {
                write!(f, "{found} fields where the header has {expected}")
            }
            RowProblem::Field(problem) => problem.fmt(f),
        }
    }
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportWarning::DuplicateId {
                external_id,
                earlier_line,
                line,
            } => write!(
                f,
                "line {line} has the same id `{external_id}` as line {earlier_line}; line {line} was kept"
            ),
        }
    }
}

fn comma() -> u8 {
    b','
}

fn double_quote() -> u8 {
    b'"'
}

fn default_max_bad_fraction() -> f64 {
    0.01
}

/// One ASCII character as [`ascii_char`] reads it back.
fn ascii_char_out<S: Serializer>(byte: &u8, serializer: S) -> Result<S::Ok, S::Error> {
    match byte {
        b'\t' => serializer.serialize_str("tab"),
        byte => serializer.serialize_str(&char::from(*byte).to_string()),
    }
}

/// One ASCII character given as a string (`";"`), or `tab`.
fn ascii_char<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.as_bytes() {
        [byte] if byte.is_ascii() => Ok(*byte),
        _ if text.eq_ignore_ascii_case("tab") || text == "\\t" => Ok(b'\t'),
        _ => Err(serde::de::Error::custom(format!(
            "expected one ASCII character such as \",\" or \";\" (or \"tab\"), not {text:?}"
        ))),
    }
}

/// Moves the records' timestamps so that the newest `created_at` falls on `to`; none is left
/// after `to` (an edit made after the newest record was given ends at `to`).
fn shift_dates(records: &mut [FeedbackRecord], to: Timestamp) {
    let latest = records.iter().filter_map(|record| record.created_at).max();
    let Some(latest) = latest else {
        return;
    };
    let by = to.duration_since(latest);
    let shift = |at: &mut Option<Timestamp>| {
        if let Some(moved) = at.and_then(|at| at.checked_add(by).ok()) {
            *at = Some(moved.min(to));
        }
    };
    for record in records {
        shift(&mut record.created_at);
        shift(&mut record.updated_at);
    }
}
