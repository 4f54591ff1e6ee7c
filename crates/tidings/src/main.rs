//! The `tidings` binary: parse the command line and hand over to the library.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use tidings::cli::Cli;

/// mimalloc rather than the system allocator: serving a list allocates many small values on
/// several threads at once, which glibc's allocator serialises (`tidings-bench api`: +40 %
/// requests per second on `GET /api/schedules`, see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    Cli::parse().run(&mut io::stdout(), &mut io::stderr()).await
}
