//! Reading a generated 100,000-row CSV export (13 columns, the default mapping, every column
//! mapped), reported as rows per second. Run with `cargo bench -p tidings-sources`.
//!
//! `read_file` includes everything an import does before storing: reading the file, checking its
//! checksum and UTF-8, parsing, mapping every row and de-duplicating ids. `files` is the listing:
//! size, mtime and a streamed SHA-256.
//!
//! The allocator is mimalloc, as in the `tidings` binary: a read allocates a few dozen small
//! strings per row, and glibc's malloc makes the same read about a third slower.

#![allow(clippy::unwrap_used)] // a benchmark set-up that fails should stop loudly

use std::fmt::Write;
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use tempfile::TempDir;
use tidings_sources::{CsvFile, CsvSource};

const ROWS: usize = 100_000;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

struct Fixture {
    _dir: TempDir,
    source: CsvSource,
    file: CsvFile,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, generate()).unwrap();
    let source = CsvSource::new(&path);
    let file = source.files().unwrap().remove(0);
    Fixture {
        _dir: dir,
        source,
        file,
    }
});

/// An Airtable-like export: ids, two timestamp forms, quoted text with commas and quotes, tags.
fn generate() -> String {
    const TOOLS: [&str; 4] = ["Scheduler", "Reports", "Inbox", "Billing"];
    const CHANNELS: [&str; 3] = ["email", "chat", "survey"];
    let mut csv = String::from(
        "Record ID,Created,Last Modified,Name,Email,Channel,Tool,Rating,Sentiment,Title,Feedback,Tags,Status\n",
    );
    for i in 0..ROWS {
        let day = 1 + i % 28;
        let hour = i % 24;
        writeln!(
            csv,
            "rec{i:08},2025-03-{day:02}T{hour:02}:15:00.000Z,2025-04-{day:02} {hour:02}:30,\
             Customer {i},customer{i}@example.com,{},{},{},positive,Order #{i},\
             \"The export works, mostly; \"\"fast\"\" but the {} page is slow to load on Mondays.\",\
             \"ux, speed\",new",
            CHANNELS[i % CHANNELS.len()],
            TOOLS[i % TOOLS.len()],
            1 + i % 5,
            TOOLS[(i + 1) % TOOLS.len()],
        )
        .unwrap();
    }
    csv
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn read_file(bencher: Bencher) {
    let fixture = &*FIXTURE;
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let import = fixture.source.read_file(&fixture.file).unwrap();
        assert_eq!(import.records.len(), ROWS);
        import
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn files(bencher: Bencher) {
    let fixture = &*FIXTURE;
    bencher
        .counter(BytesCount::new(fixture.file.size))
        .bench(|| fixture.source.files().unwrap());
}
