//! `tidings sync`, `tidings sources list`, and the default schedules of an Airtable source,
//! against the fake Airtable (a real local HTTP server) started by the test.

use std::collections::BTreeSet;
use std::process::Output;

use serde_json::Value;
use tidings_fake_airtable::{FakeAirtable, FakeConfig, FaultKind};

use super::{Backend, TestDb, text, tidings_in, wait_until};

const TOKEN_ENV: &str = "TIDINGS_TEST_AIRTABLE_TOKEN";
const YEAR_2025: &str = "YEAR({Created})=2025";

/// A fake Airtable serving `records` generated records from its own thread and runtime, for
/// as long as it is kept.
struct Fake {
    fake: FakeAirtable,
    _runtime: tokio::runtime::Runtime,
}

impl Fake {
    fn start(records: usize) -> Fake {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let fake = runtime.block_on(FakeAirtable::start(FakeConfig {
            // Faster than Airtable, so that 5,000 records take a second, not ten.
            rate_limit: 100,
            ..FakeConfig::generated(records, 7)
        }));
        Fake {
            fake,
            _runtime: runtime,
        }
    }

    fn expected_ids(&self) -> BTreeSet<String> {
        self.fake
            .ids_matching(YEAR_2025)
            .unwrap()
            .into_iter()
            .collect()
    }
}

/// A `tidings.toml` in the test's folder naming the fake as the source `fb`.
fn configure(db: &TestDb, fake: &FakeAirtable) {
    let config = format!(
        "[sources.fb]\nkind = \"airtable\"\nbase = \"{}\"\ntable = \"{}\"\ntoken_env = \"{TOKEN_ENV}\"\n\
         filter_formula = \"{YEAR_2025}\"\napi_url = \"{}\"\n",
        fake.base(),
        fake.table(),
        fake.url()
    );
    std::fs::write(db.file("tidings.toml"), config).unwrap();
}

/// `tidings ARGS` with the token in the environment.
fn run(db: &TestDb, fake: &FakeAirtable, args: &[&str]) -> Output {
    tidings_in(db.path())
        .args(args)
        .args(["--database-url", &db.url])
        .env(TOKEN_ENV, fake.token())
        .output()
        .unwrap()
}

fn sync_and_list(backend: Backend) {
    let db = TestDb::new(backend);
    let fake = Fake::start(5_200);
    configure(&db, &fake.fake);
    let expected = fake.expected_ids();

    let output = run(&db, &fake.fake, &["sync", "fb", "--full", "--json"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["state"], "succeeded");
    let summary = &result["summary"];
    assert_eq!(summary["fetched"], expected.len());
    assert_eq!(summary["inserted"], expected.len());
    assert_eq!(summary["rate_limited"], 0);
    // Not a terminal: progress comes as plain lines on stderr, and never shows the token.
    assert!(stderr.contains("sync fb (full) queued as run"), "{stderr}");
    assert!(!stderr.contains(fake.fake.token()), "{stderr}");

    // The text summary of an incremental sync that finds nothing new.
    let output = run(&db, &fake.fake, &["sync", "fb"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.contains("succeeded"), "{stdout}");
    assert!(stdout.contains("inserted 0"), "{stdout}");

    let sources = db.json(&["sources", "list"]);
    assert_eq!(sources[0]["name"], "fb");
    assert_eq!(sources[0]["kind"], "airtable");
    assert_eq!(sources[0]["records"], expected.len());
    assert!(sources[0]["last_full_at"].is_string());
    assert!(sources[0]["last_incremental_at"].is_string());
    let table = db.ok(&["sources", "list"]);
    assert!(
        table.contains(&format!("airtable base {}", fake.fake.base())),
        "{table}"
    );

    // A refused token: exit 1, what to fix on stderr, the run recorded as failed.
    fake.fake.push_fault(FaultKind::Unauthorized);
    let output = run(&db, &fake.fake, &["sync", "fb", "--full"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("401") && stderr.contains(TOKEN_ENV),
        "{stderr}"
    );
    assert!(!stderr.contains(fake.fake.token()), "{stderr}");
    assert_eq!(db.runs()[0]["state"], "failed");
    let sources = db.json(&["sources", "list"]);
    assert_eq!(sources[0]["records"], expected.len(), "the cache is kept");

    // An unknown source is a usage error naming the configured ones.
    let output = run(&db, &fake.fake, &["sync", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("configured sources: fb"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn sync_runs_in_the_foreground_and_sources_list_shows_the_cache_on_sqlite() {
    sync_and_list(Backend::Sqlite);
}

#[test]
fn sync_runs_in_the_foreground_and_sources_list_shows_the_cache_on_postgres() {
    sync_and_list(Backend::Postgres);
}

/// `serve` gives an Airtable source its default schedules (New York time) and, since it never
/// synced, a first full sync; a restart creates nothing twice and queues no second first sync.
#[test]
fn serve_creates_the_default_schedules_and_the_first_full_sync() {
    let db = TestDb::new(Backend::Sqlite);
    let fake = Fake::start(300);
    configure(&db, &fake.fake);
    let expected = fake.expected_ids();

    let serve = |db: &TestDb| {
        let mut args = vec!["--log-format", "text", "serve", "--listen", "127.0.0.1:0"];
        args.extend(["--database-url", &db.url]);
        let child = tidings_in(db.path())
            .args(&args)
            .env(TOKEN_ENV, fake.fake.token())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        super::Server::from_child(child)
    };
    let mut server = serve(&db);
    server.wait_until_listening();
    let first = wait_until("the first full sync", || {
        db.runs()
            .into_iter()
            .find(|run| run["kind"] == "sync" && run["state"] == "succeeded")
    });
    assert_eq!(first["params"]["mode"], "full");
    assert_eq!(first["trigger"], "startup");
    assert_eq!(first["summary"]["fetched"], expected.len());
    server.stop();

    let schedules = db.json(&["schedules", "list"]);
    let mut defaults: Vec<(String, String, String, String)> = schedules
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "sync")
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["origin"].as_str().unwrap().to_owned(),
                s["trigger"]["expr"].as_str().unwrap_or_default().to_owned(),
                s["params"]["mode"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    defaults.sort();
    assert_eq!(
        defaults,
        [
            (
                "sync:fb".to_owned(),
                "default".to_owned(),
                "0 9-18 * * 1-5".to_owned(),
                "incremental".to_owned()
            ),
            (
                "sync:fb:full".to_owned(),
                "default".to_owned(),
                "59 23 * * 0".to_owned(),
                "full".to_owned()
            ),
        ]
    );
    for schedule in schedules
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "sync")
    {
        assert_eq!(
            schedule["trigger"]["zone"], "America/New_York",
            "{schedule}"
        );
    }

    // The statistics were computed at start and after the sync: `tidings stats` shows them.
    let stats = db.json(&["stats", "--period", "30d"]);
    assert!(stats["snapshot"]["computed_at"].is_string(), "{stats}");
    let rows = stats["rows"].as_array().unwrap();
    assert_eq!(
        rows.last().unwrap()["group"],
        Value::Null,
        "the all row is last"
    );
    let table = db.ok(&["stats", "--period", "30d"]);
    assert!(
        table.starts_with("statistics per group over 30d, as of "),
        "{table}"
    );
    assert!(table.contains("(all)"), "{table}");

    // Edited by the user, then a restart: kept as edited, and no second first sync.
    db.ok(&["schedules", "update", "sync:fb", "--cron", "30 8 * * 1-5"]);
    let mut server = serve(&db);
    server.wait_until_listening();
    server.stop();
    let edited = db.json(&["schedules", "show", "sync:fb"]);
    assert_eq!(edited["trigger"]["expr"], "30 8 * * 1-5");
    let syncs = db
        .runs()
        .into_iter()
        .filter(|run| run["kind"] == "sync")
        .count();
    assert_eq!(syncs, 1);
}
