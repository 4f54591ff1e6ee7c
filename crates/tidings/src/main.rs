//! The `tidings` binary: parse the command line and hand over to the library.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use tidings::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    Cli::parse().run(&mut io::stdout(), &mut io::stderr()).await
}
