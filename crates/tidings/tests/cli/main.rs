//! The `tidings` binary run as a user runs it: its stdout, stderr and exit code. One test binary,
//! a module per command.

// Test code, helpers included: a panic with the unwrapped error is how a test reports failure
// (clippy.toml's `allow-unwrap-in-tests` covers only `#[test]` functions).
#![allow(clippy::unwrap_used)]

mod config_check;
mod cron;
mod serve;

use std::path::Path;
use std::process::Command;

/// The built binary, run in `dir` (so nothing lands in the repository), with no `TIDINGS_*`
/// settings or `RUST_LOG` inherited from the environment running the tests.
pub(crate) fn tidings_in(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command.current_dir(dir).env("NO_COLOR", "1");
    for (name, _) in std::env::vars_os() {
        let inherited = name
            .to_str()
            .is_some_and(|n| n.starts_with("TIDINGS_") || n == "RUST_LOG");
        if inherited {
            command.env_remove(name);
        }
    }
    command
}
