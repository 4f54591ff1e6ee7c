//! `tidings-fake-airtable`: a local Airtable to point tidings at by hand.
//!
//! ```text
//! cargo run -p tidings-fake-airtable -- --listen 127.0.0.1:8787 --records 5200 --seed 7 --token dev-token
//! ```

use std::fs::File;
use std::io::BufReader;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tidings_core::SystemClock;
use tidings_fake_airtable::{FakeAirtable, FakeConfig, generate, read_jsonl};

/// Serves a fake Airtable base with one table of feedback records.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// How many records to generate (ignored with --jsonl).
    #[arg(long, default_value_t = 5200)]
    records: usize,
    /// The generator's seed: the same seed always gives the same records.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Serve these Airtable-style JSON lines ({"id","createdTime","fields"}, as
    /// bench/fastapi_feedback/gen_data.py --jsonl writes) instead of generated records.
    #[arg(long)]
    jsonl: Option<PathBuf>,
    /// The bearer token requests must carry.
    #[arg(long, default_value = "dev-token")]
    token: String,
    #[arg(long, default_value = "appTidingsFake001")]
    base: String,
    #[arg(long, default_value = "Feedback")]
    table: String,
    /// Requests per second per base before a 429.
    #[arg(long, default_value_t = 5)]
    rate_limit: u32,
    /// Seconds every request is refused after going over the limit.
    #[arg(long, default_value_t = 30)]
    penalty: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let records = match &args.jsonl {
        Some(path) => match File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|file| read_jsonl(BufReader::new(file)))
        {
            Ok(records) => records,
            Err(error) => {
                eprintln!("error: {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => generate(args.records, args.seed),
    };
    let config = FakeConfig {
        base: args.base,
        table: args.table,
        token: args.token,
        records,
        rate_limit: args.rate_limit,
        penalty: Duration::from_secs(args.penalty),
        clock: Arc::new(SystemClock),
        ..FakeConfig::default()
    };
    let fake = match FakeAirtable::bind(args.listen, config).await {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("error: cannot listen on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let total = fake.records().len();
    let in_2025 = fake.count_matching("YEAR({Created})=2025").unwrap_or(0);
    println!("fake Airtable at {}", fake.url());
    println!("  base {}, table {}", fake.base(), fake.table());
    println!("  {total} records, {in_2025} created in 2025");
    println!(
        "  rate limit {}/s per base, penalty {}s",
        args.rate_limit, args.penalty
    );
    println!();
    println!("export AIRTABLE_TOKEN={}", fake.token());
    println!();
    println!("# tidings.toml");
    println!("[sources.fake]");
    println!("kind = \"airtable\"");
    println!("base = \"{}\"", fake.base());
    println!("table = \"{}\"", fake.table());
    println!("token_env = \"AIRTABLE_TOKEN\"");
    println!("filter_formula = \"YEAR({{Created}})=2025\"");
    println!("api_url = \"{}\"", fake.url());
    println!();
    println!(
        "Admin: POST /_fake/records, PATCH|DELETE /_fake/records/{{id}}, POST /_fake/faults, GET /_fake/requests"
    );
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: waiting for Ctrl-C: {error}");
    }
    drop(fake);
    ExitCode::SUCCESS
}
