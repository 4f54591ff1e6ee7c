//! The CSV reader against real files in temporary folders.

#![allow(clippy::unwrap_used)] // test helpers: a failed call is a failed test

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use jiff::Timestamp;
use tempfile::TempDir;
use tidings_sources::{
    Column, CsvError, CsvImport, CsvSource, FieldMapping, ImportWarning, RowProblem,
};

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, content).unwrap();
    path
}

/// Lists `source`'s only file and reads it.
fn import(source: &CsvSource) -> Result<CsvImport, CsvError> {
    let files = source.files().unwrap();
    assert_eq!(files.len(), 1);
    source.read_file(&files[0])
}

fn ts(s: &str) -> Option<Timestamp> {
    Some(s.parse().unwrap())
}

fn names(paths: &[tidings_sources::CsvFile], root: &Path) -> Vec<String> {
    paths
        .iter()
        .map(|f| f.path.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

#[test]
fn default_mapping_reads_an_airtable_export() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "export.csv",
        "Record ID,Created,Name,Email,Tool,Rating,Feedback,Tags,Status\n\
         rec1,2025-03-09T07:00:00.000Z,Ada,ada@example.com,Scheduler,5,Love it,\"ux, speed\",new\n\
         rec2,2025-03-10,Bob,,Reports,2,Too slow,,\n",
    );
    let import = import(&CsvSource::new(&path)).unwrap();
    assert_eq!(import.rows, 2);
    assert!(import.bad_rows.is_empty());
    let [ada, bob] = import.records.as_slice() else {
        panic!("{import:?}")
    };
    assert_eq!(ada.external_id, "rec1");
    assert_eq!(ada.created_at, ts("2025-03-09T07:00:00Z"));
    assert_eq!(ada.customer_email.as_deref(), Some("ada@example.com"));
    assert_eq!(ada.group.as_deref(), Some("Scheduler"));
    assert_eq!(ada.rating, Some(5.0));
    assert_eq!(ada.body.as_deref(), Some("Love it"));
    assert_eq!(ada.tags, ["ux", "speed"]);
    assert_eq!(ada.raw.to_value()["Tags"], "ux, speed");
    // Empty cells are absent, and kept as given in `raw`.
    assert_eq!(bob.created_at, ts("2025-03-10T00:00:00Z"));
    assert_eq!(bob.customer_email, None);
    assert_eq!(bob.status, None);
    assert!(bob.tags.is_empty());
    assert_eq!(bob.raw.to_value()["Email"], "");
    assert_eq!(bob.raw.to_value().as_object().unwrap().len(), 9);
}

#[test]
fn explicit_mapping_delimiter_and_zone_from_config() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "survey.csv",
        "Ticket;Submitted;What could we do better?;Score\n\
         T-1;2025-07-01 09:30;Faster exports;9\n",
    );
    let config = format!(
        r#"
        path = "{}"
        delimiter = ";"
        zone = "Europe/Berlin"
        max_bad_fraction = 0.5

        [mapping]
        external_id = "Ticket"
        created_at = "submitted"
        body = "What could we do better?"
        rating = ""
        "#,
        dir.path().join("survey.csv").display()
    );
    let source: CsvSource = toml::from_str(&config).unwrap();
    assert_eq!(source.delimiter, b';');
    let import = import(&source).unwrap();
    let record = &import.records[0];
    assert_eq!(record.external_id, "T-1");
    assert_eq!(record.created_at, ts("2025-07-01T07:30:00Z"));
    assert_eq!(record.body.as_deref(), Some("Faster exports"));
    assert_eq!(record.rating, None);
    assert_eq!(record.raw.to_value()["Score"], "9");
}

#[test]
fn config_refuses_bad_settings() {
    let err = toml::from_str::<CsvSource>("path = \"x\"\ndelimiter = \";;\"").unwrap_err();
    assert!(
        err.to_string().contains("expected one ASCII character"),
        "{err}"
    );
    let err = toml::from_str::<CsvSource>("path = \"x\"\nzone = \"Mars/Olympus\"").unwrap_err();
    assert!(err.to_string().contains("unknown time zone"), "{err}");
    let err = toml::from_str::<CsvSource>("path = \"x\"\ndelimeter = \";\"").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `delimeter`"),
        "{err}"
    );
    let tab: CsvSource = toml::from_str("path = \"x\"\ndelimiter = \"tab\"").unwrap();
    assert_eq!(tab.delimiter, b'\t');

    let mut source = CsvSource::new("x");
    source.max_bad_fraction = 1.5;
    assert!(matches!(source.files(), Err(CsvError::Setting(_))));
}

#[test]
fn a_byte_order_mark_is_stripped() {
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "bom.csv", "\u{feff}ID,Feedback\n1,Hello\n");
    let import = import(&CsvSource::new(&path)).unwrap();
    assert_eq!(import.records[0].external_id, "1");
    assert!(import.records[0].raw.to_value().get("ID").is_some());
}

#[test]
fn quoted_fields_hold_delimiters_quotes_and_newlines() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "quoted.csv",
        "ID;Feedback;Rating\r\n\
         1;\"Good; fast, \"\"really\"\" fast\";4,5\r\n\
         2;\"line one\r\nline two\nline three\";3\r\n\
         3;after the newlines;oops\r\n",
    );
    let mut source = CsvSource::new(&path);
    source.delimiter = b';';
    source.max_bad_fraction = 0.5;
    let import = import(&source).unwrap();
    assert_eq!(
        import.records[0].body.as_deref(),
        Some("Good; fast, \"really\" fast")
    );
    assert_eq!(import.records[0].rating, Some(4.5));
    assert_eq!(
        import.records[1].body.as_deref(),
        Some("line one\r\nline two\nline three")
    );
    // Row 3 starts on line 6: the quoted newlines count.
    assert_eq!(import.bad_rows.len(), 1);
    assert_eq!(import.bad_rows[0].line, 6);
}

#[test]
fn unicode_survives() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "unicode.csv",
        "ID,Name,Feedback,Tags\nü-1,Zoë Ångström,とても良い 👍,\"café;naïve\"\n",
    );
    let import = import(&CsvSource::new(&path)).unwrap();
    let record = &import.records[0];
    assert_eq!(record.external_id, "ü-1");
    assert_eq!(record.customer_name.as_deref(), Some("Zoë Ångström"));
    assert_eq!(record.body.as_deref(), Some("とても良い 👍"));
    assert_eq!(record.tags, ["café", "naïve"]);
}

#[test]
fn bad_rows_are_skipped_and_reported_with_their_line() {
    let dir = TempDir::new().unwrap();
    let mut content = String::from("ID,Created,Rating,Feedback\n");
    for i in 0..198 {
        content.push_str(&format!("{i},2025-01-01,4,fine\n"));
    }
    content.push_str("bad1,2025-13-01,4,wrong month\n"); // line 200
    content.push_str("bad2,2025-01-01,4\n"); // line 201
    let path = write(dir.path(), "some-bad.csv", content);
    let import = import(&CsvSource::new(&path)).unwrap();
    assert_eq!(import.rows, 200);
    assert_eq!(import.records.len(), 198);
    let shown: Vec<String> = import.bad_rows.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "line 200: Created (created_at): \"2025-13-01\" is not a date or time (expected RFC \
             3339 (2025-03-09T07:00:00Z, 2025-03-09T07:00:00.000+01:00), 2025-03-09, or \
             2025-03-09 07:00[:00] in the source's zone)",
            "line 201: 3 fields where the header has 4",
        ]
    );
    assert_eq!(
        import.bad_rows[1].problems,
        [RowProblem::FieldCount {
            expected: 4,
            found: 3
        }]
    );
}

#[test]
fn too_many_bad_rows_fail_the_file() {
    let dir = TempDir::new().unwrap();
    let mut content = String::from("ID,Rating\n");
    for i in 0..90 {
        content.push_str(&format!("{i},4\n"));
    }
    for i in 0..8 {
        content.push_str(&format!("x{i},four\n"));
    }
    let path = write(dir.path(), "mostly-bad.csv", content);
    let err = import(&CsvSource::new(&path)).unwrap_err();
    let CsvError::TooManyBadRows { rows, bad_rows, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*rows, bad_rows.len()), (98, 8));
    let message = err.to_string();
    assert!(
        message.ends_with(
            "mostly-bad.csv: 8 of 98 rows are bad, more than the 1% allowed; nothing was \
             imported. First bad rows:\n  \
             line 92: Rating (rating): \"four\" is not a number\n  \
             line 93: Rating (rating): \"four\" is not a number\n  \
             line 94: Rating (rating): \"four\" is not a number\n  \
             line 95: Rating (rating): \"four\" is not a number\n  \
             line 96: Rating (rating): \"four\" is not a number\n  \
             … and 3 more"
        ),
        "{message}"
    );

    // With no bad rows allowed, one is enough.
    let path = write(dir.path(), "one-bad.csv", "ID,Rating\n1,4\n2,x\n");
    let mut source = CsvSource::new(&path);
    source.max_bad_fraction = 0.0;
    assert!(matches!(
        import(&source),
        Err(CsvError::TooManyBadRows { .. })
    ));
}

#[test]
fn latin1_bytes_are_refused_with_where_and_what_to_do() {
    let dir = TempDir::new().unwrap();
    // "café" in Latin-1 on line 3.
    let path = write(dir.path(), "latin1.csv", b"ID,Feedback\n1,ok\n2,caf\xe9\n");
    let err = import(&CsvSource::new(&path)).unwrap_err();
    let CsvError::NotUtf8 {
        line, byte_offset, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *byte_offset), (3, 22));
    let message = err.to_string();
    assert!(
        message.ends_with(
            "latin1.csv: not UTF-8 at line 3 (byte 22); re-save the file as UTF-8 (in Excel: \
             Save As → \"CSV UTF-8\")"
        ),
        "{message}"
    );
}

#[test]
fn folders_and_globs_list_csv_files_sorted() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    for name in [
        "b.csv",
        "a.csv",
        "c.CSV",
        "notes.txt",
        ".hidden.csv",
        "sub/d.csv",
    ] {
        write(root, name, "ID\n1\n");
    }
    fs::create_dir(root.join("folder.csv")).unwrap();

    let folder = CsvSource::new(root).files().unwrap();
    assert_eq!(names(&folder, root), ["a.csv", "b.csv", "c.CSV"]);

    let glob = CsvSource::new(format!("{}/*.csv", root.display()))
        .files()
        .unwrap();
    assert_eq!(names(&glob, root), ["a.csv", "b.csv"]);

    let deep = CsvSource::new(format!("{}/**/*.csv", root.display()))
        .files()
        .unwrap();
    assert_eq!(names(&deep, root), ["a.csv", "b.csv", "sub/d.csv"]);

    let nothing = CsvSource::new(format!("{}/*.tsv", root.display()))
        .files()
        .unwrap();
    assert!(nothing.is_empty());

    let missing = CsvSource::new(root.join("missing.csv"))
        .files()
        .unwrap_err();
    assert!(matches!(missing, CsvError::Io { .. }), "{missing:?}");
    assert!(matches!(
        CsvSource::new(format!("{}/[.csv", root.display())).files(),
        Err(CsvError::Pattern { .. })
    ));
}

#[test]
fn files_carry_size_mtime_and_sha256() {
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "abc.csv", "abc");
    let mtime = UNIX_EPOCH + Duration::from_secs(1_741_503_600);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();

    let files = CsvSource::new(&path).files().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, path);
    assert_eq!(files[0].size, 3);
    assert_eq!(
        files[0].mtime,
        Timestamp::from_second(1_741_503_600).unwrap()
    );
    assert_eq!(
        files[0].sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );

    // Larger than one hashing chunk.
    let big = write(dir.path(), "big.csv", vec![b'a'; 200_000]);
    let listed = CsvSource::new(&big).files().unwrap();
    assert_eq!(listed[0].size, 200_000);
    assert_eq!(
        listed[0].sha256,
        "2287d207f24a941ff3b56c04c8a25ad56b63e3023207b3bb5b4ac0c9869d74be"
    );
}

#[test]
fn a_file_changed_after_listing_is_not_read() {
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "moving.csv", "ID\n1\n");
    let source = CsvSource::new(&path);
    let files = source.files().unwrap();
    fs::write(&path, "ID\n1\n2\n").unwrap();
    assert!(matches!(
        source.read_file(&files[0]),
        Err(CsvError::ChangedSinceListing { .. })
    ));
}

#[test]
fn tags_as_json_arrays_or_separated_text() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "tags.csv",
        "ID,Tags\n1,\"[\"\"billing\"\", \"\"ux\"\"]\"\n2,billing; ux ;\n3,\" \"\n",
    );
    let import = import(&CsvSource::new(&path)).unwrap();
    let tags: Vec<Vec<String>> = import.records.into_iter().map(|r| r.tags).collect();
    assert_eq!(tags, [vec!["billing", "ux"], vec!["billing", "ux"], vec![]]);
}

#[test]
fn timestamps_in_each_accepted_form_in_the_source_zone() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "times.csv",
        "ID,Created\n\
         rfc,2025-01-15T12:00:00+02:00\n\
         airtable,2025-01-15T10:00:00.000Z\n\
         date,2025-01-15\n\
         minutes,2025-01-15 11:00\n\
         seconds,2025-01-15 11:00:00\n",
    );
    let mut source = CsvSource::new(&path);
    source.zone = "Europe/Paris".parse().unwrap();
    let import = import(&source).unwrap();
    let created: Vec<(&str, Option<Timestamp>)> = import
        .records
        .iter()
        .map(|r| (r.external_id.as_str(), r.created_at))
        .collect();
    assert_eq!(
        created,
        [
            ("rfc", ts("2025-01-15T10:00:00Z")),
            ("airtable", ts("2025-01-15T10:00:00Z")),
            ("date", ts("2025-01-14T23:00:00Z")),
            ("minutes", ts("2025-01-15T10:00:00Z")),
            ("seconds", ts("2025-01-15T10:00:00Z")),
        ]
    );
}

#[test]
fn duplicate_ids_keep_the_last_row_and_warn() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "dupes.csv",
        "ID,Feedback\n1,first\n2,other\n1,second\n",
    );
    let import = import(&CsvSource::new(&path)).unwrap();
    let bodies: Vec<_> = import.records.iter().map(|r| r.body.as_deref()).collect();
    assert_eq!(bodies, [Some("second"), Some("other")]);
    assert_eq!(
        import.warnings,
        [ImportWarning::DuplicateId {
            external_id: "1".to_owned(),
            earlier_line: 2,
            line: 4
        }]
    );
    assert_eq!(
        import.warnings[0].to_string(),
        "line 4 has the same id `1` as line 2; line 4 was kept"
    );
}

#[test]
fn rows_without_an_id_column_keep_their_ids_when_lines_move() {
    let dir = TempDir::new().unwrap();
    let path = write(dir.path(), "noid.csv", "Feedback,Rating\nSlow,2\nGreat,5\n");
    let source = CsvSource::new(&path);
    let before: Vec<String> = import(&source)
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.external_id)
        .collect();
    fs::write(&path, "Feedback,Rating\nNew one,3\nSlow,2\nGreat,5\n").unwrap();
    let after: Vec<String> = import(&source)
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.external_id)
        .collect();
    assert_eq!(after.len(), 3);
    assert_eq!(after[1..], before[..]);
    assert!(!before.contains(&after[0]));
}

#[test]
fn header_problems_fail_the_file() {
    let dir = TempDir::new().unwrap();
    let empty = write(dir.path(), "empty.csv", "");
    assert!(matches!(
        import(&CsvSource::new(&empty)),
        Err(CsvError::NoHeader { .. })
    ));

    let twice = write(dir.path(), "twice.csv", "ID,Name, Name\n1,a,b\n");
    let err = import(&CsvSource::new(&twice)).unwrap_err();
    assert!(
        matches!(&err, CsvError::DuplicateHeader { name, .. } if name == "Name"),
        "{err:?}"
    );

    let unmapped = write(dir.path(), "unmapped.csv", "ID,Text\n1,hi\n");
    let mut source = CsvSource::new(&unmapped);
    source.mapping = FieldMapping::default().with(Column::Body, "Comment text");
    let err = import(&source).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "unmapped.csv: the mapping names fields that the header does not have: \
             body → `Comment text`; the header has: ID, Text"
        ),
        "{err}"
    );
}

#[test]
fn blank_rows_and_unnamed_columns() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "blank.csv",
        "ID,Feedback,\r\n1,a,\r\n\r\n,,\r\n2,b,x\r\n\r\n\r\n3\r\n",
    );
    let mut source = CsvSource::new(&path);
    source.max_bad_fraction = 0.5;
    let import = import(&source).unwrap();
    assert_eq!(import.rows, 3);
    assert_eq!(import.records.len(), 2);
    assert_eq!(import.bad_rows[0].line, 8);
    assert_eq!(import.records[1].raw.to_value()["column_3"], "x");
}

/// With `shift_dates_to_mtime`, every record moves by the same amount so that the newest
/// record's creation falls on the file's modification time, and no date is left after it;
/// `raw` keeps the dates as written.
#[test]
fn dates_can_be_shifted_to_the_files_modification_time() {
    let dir = TempDir::new().unwrap();
    let path = write(
        dir.path(),
        "sample.csv",
        "ID,Created,Last Modified,Feedback\n\
         a,2025-01-01T10:00:00Z,2025-01-03T10:00:00Z,Fine\n\
         b,2025-01-02T10:00:00Z,,Great\n\
         c,2024-12-30T10:00:00Z,2025-01-01T22:00:00Z,Good\n",
    );
    let mtime = UNIX_EPOCH + Duration::from_secs(1_800_000_000); // 2027-01-15T08:00:00Z
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let source = CsvSource {
        shift_dates_to_mtime: true,
        ..CsvSource::new(&path)
    };
    let records = import(&source).unwrap().records;
    // b, the newest, was given at the file's time; a and c moved by as much.
    assert_eq!(records[1].created_at, ts("2027-01-15T08:00:00Z"));
    assert_eq!(records[1].updated_at, None);
    assert_eq!(records[0].created_at, ts("2027-01-14T08:00:00Z"));
    assert_eq!(records[2].created_at, ts("2027-01-12T08:00:00Z"));
    assert_eq!(records[2].updated_at, ts("2027-01-14T20:00:00Z"));
    // a's edit, a day after b was given, would be in the future: it is at the file's time.
    assert_eq!(records[0].updated_at, ts("2027-01-15T08:00:00Z"));
    assert_eq!(records[0].raw.to_value()["Created"], "2025-01-01T10:00:00Z");

    // Off by default: the dates as written.
    let records = import(&CsvSource::new(&path)).unwrap().records;
    assert_eq!(records[0].created_at, ts("2025-01-01T10:00:00Z"));
}
