//! `tidings-sample`: writes the synthetic customer feedback in `samples/feedback.csv`, the CSV
//! source the default configuration imports so that a fresh `tidings serve` has a full cache.
//!
//! Everything is derived from one fixed seed through a splitmix64 generator and integer
//! arithmetic only (no floating point, no system time zone database), so the file is the same
//! byte for byte on every machine and every run. The people are invented; the email domains are
//! reserved example domains.
//!
//! Usage: `cargo run -p tidings-bench --bin tidings-sample [-- PATH]` (default
//! `samples/feedback.csv` at the workspace root; `-` writes to stdout).

mod sample_data;
mod sample_text;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use sample_data::{TOTAL, sample_csv};

fn main() -> Result<()> {
    let target = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/feedback.csv").to_owned()
    });
    let csv = sample_csv(TOTAL);
    if target == "-" {
        std::io::stdout().write_all(csv.as_bytes())?;
    } else {
        let path = PathBuf::from(target);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &csv).with_context(|| format!("writing {}", path.display()))?;
        let shown = std::fs::canonicalize(&path).unwrap_or(path);
        eprintln!(
            "wrote {TOTAL} records ({} bytes) to {}",
            csv.len(),
            shown.display()
        );
    }
    Ok(())
}
