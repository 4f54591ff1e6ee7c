//! A fresh PostgreSQL schema per test on the server at `TIDINGS_TEST_DATABASE_URL`, starting
//! the local cluster once if it is down. A server that cannot be reached fails the test.

use std::hash::{BuildHasher, RandomState};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tidings_store::{Store, StoreError};
use tidings_store_postgres::{PostgresOptions, PostgresStore};

/// The variable naming the test server.
pub const DATABASE_URL_VAR: &str = "TIDINGS_TEST_DATABASE_URL";

/// The server tests use when the variable is not set (the local cluster CI starts).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Connections per test store: tests run in parallel against a server with a limited number of
/// connections; the cases that race several tasks still get real concurrency.
const MAX_CONNECTIONS: u32 = 4;

/// How long to wait for a cluster we started to accept connections.
const START_WAIT: Duration = Duration::from_secs(15);

/// A migrated store in a schema of its own.
pub(crate) struct TestSchema {
    /// Clones share one pool, so the test's clones and this one close together.
    store: PostgresStore,
    name: String,
    url: String,
}

impl TestSchema {
    pub(crate) async fn create() -> TestSchema {
        let url =
            std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
        let name = unique_schema_name();
        let store = connect(&url, &name).await;
        if let Err(e) = store.migrate().await {
            panic!("cannot migrate the test schema `{name}`: {e}");
        }
        TestSchema { store, name, url }
    }

    pub(crate) fn store(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    /// A store with a pool of its own on the same schema (already migrated).
    pub(crate) async fn reopen(&self) -> Arc<dyn Store> {
        Arc::new(connect(&self.url, &self.name).await)
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Drops the schema and everything in it, and closes the pool (for every clone).
    pub(crate) async fn drop_schema(self) {
        let TestSchema { store, name, .. } = self;
        if let Err(e) = store.drop_schema().await {
            panic!("cannot drop the test schema `{name}`: {e}");
        }
    }
}

/// `tidings_test_<16 hex digits>`: random per process and counted within it.
fn unique_schema_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one((std::process::id(), count));
    format!("tidings_test_{random:016x}")
}

async fn connect(url: &str, schema: &str) -> PostgresStore {
    let options = PostgresOptions {
        max_connections: MAX_CONNECTIONS,
        schema: Some(schema.to_owned()),
    };
    let first = match PostgresStore::connect(url, options.clone()).await {
        Ok(store) => return store,
        Err(e) if e.is_unavailable() => e,
        Err(e) => panic!("cannot open the PostgreSQL test store: {e}"),
    };
    // Another test of this process already waited in vain: fail at once.
    if let Some(reason) = GAVE_UP.get() {
        panic!("{reason}");
    }
    let started = tokio::task::spawn_blocking(start_local_cluster_once)
        .await
        .unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"));
    let deadline = tokio::time::Instant::now() + START_WAIT;
    let mut last: StoreError = first;
    while tokio::time::Instant::now() < deadline {
        // Waiting for a server process to come up, not for the code under test.
        tokio::time::sleep(Duration::from_millis(250)).await;
        match PostgresStore::connect(url, options.clone()).await {
            Ok(store) => return store,
            Err(e) if e.is_unavailable() => last = e,
            Err(e) => panic!("cannot open the PostgreSQL test store: {e}"),
        }
    }
    let reason = format!(
        "PostgreSQL tests need a server and never skip: {last}\n\
         {started}\n\
         Start one (e.g. `make test-pg`) or point {DATABASE_URL_VAR} at one \
         (default {DEFAULT_DATABASE_URL})."
    );
    panic!("{}", GAVE_UP.get_or_init(|| reason));
}

/// Why the server could not be reached, once a test has waited for it in vain.
static GAVE_UP: OnceLock<String> = OnceLock::new();

/// Runs `pg_ctlcluster --skip-systemctl-redirect <version> main start` once per test process,
/// `<version>` being the only folder in /etc/postgresql; returns what happened, for the failure
/// message.
fn start_local_cluster_once() -> String {
    static OUTCOME: OnceLock<String> = OnceLock::new();
    OUTCOME.get_or_init(start_local_cluster).clone()
}

fn start_local_cluster() -> String {
    let versions: Vec<String> = match std::fs::read_dir("/etc/postgresql") {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => return format!("Could not start a local cluster: /etc/postgresql: {e}."),
    };
    let [version] = versions.as_slice() else {
        return format!(
            "Could not start a local cluster: expected one version in /etc/postgresql, found {versions:?}."
        );
    };
    let command = format!("pg_ctlcluster --skip-systemctl-redirect {version} main start");
    match Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", version, "main", "start"])
        .output()
    {
        Ok(output) if output.status.success() => format!("Started it with `{command}`."),
        Ok(output) => format!(
            "`{command}` failed ({}): {} {}",
            output.status,
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(e) => format!("Could not run `{command}`: {e}."),
    }
}
