//! The `tidings` binary run as a user runs it: its stdout, stderr and exit code. One test binary,
//! a module per command.
//!
//! Nothing here sleeps to wait for the scheduler: tests wait for a line on a server's stderr, or
//! poll what a user would look at (`tidings runs list --json`, every 100 ms), each wait bounded.

// Test code, helpers included: a panic with the unwrapped error is how a test reports failure
// (clippy.toml's `allow-unwrap-in-tests` covers only `#[test]` functions).
#![allow(clippy::unwrap_used)]

mod cluster;
mod config_check;
mod cron;
mod keys;
mod migrate;
mod restart;
mod runs;
mod schedules;
mod serve;
mod sync;

use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tidings_store_postgres::{PostgresOptions, PostgresStore};

/// The longest any step may take before the test fails rather than hangs.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// How long a test polls for what the scheduler should have done.
pub(crate) const POLL_PATIENCE: Duration = Duration::from_secs(20);

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

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Calls `probe` every 100 ms until it returns something, for at most [`POLL_PATIENCE`].
pub(crate) fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + POLL_PATIENCE;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen within {POLL_PATIENCE:?}"
        );
        // The polling interval of a test watching the store, not a wait for the scheduler.
        thread::sleep(Duration::from_millis(100));
    }
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A folder and a database of one test's own: a SQLite file in the folder, or a fresh schema on
/// the PostgreSQL at `TIDINGS_TEST_DATABASE_URL`, dropped when the test ends. A PostgreSQL that
/// cannot be reached fails the test; it never skips.
pub(crate) struct TestDb {
    pub(crate) dir: TempDir,
    pub(crate) url: String,
    postgres: Option<(String, String)>,
}

/// The server the PostgreSQL tests use when `TIDINGS_TEST_DATABASE_URL` is not set.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

impl TestDb {
    pub(crate) fn new(backend: Backend) -> TestDb {
        let dir = TempDir::new().unwrap();
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}/t.db", dir.path().display()),
                dir,
                postgres: None,
            },
            Backend::Postgres => {
                let server = std::env::var("TIDINGS_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
                let schema = format!(
                    "tidings_cli_{:016x}",
                    RandomState::new().hash_one((std::process::id(), dir.path()))
                );
                with_schema(&server, &schema, |_| async {});
                let separator = if server.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{server}{separator}options=-c%20search_path%3D{schema}"),
                    dir,
                    postgres: Some((server, schema)),
                }
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `tidings ARGS --database-url URL` in the test's folder.
    pub(crate) fn tidings(&self, args: &[&str]) -> Output {
        tidings_in(self.path())
            .args(args)
            .args(["--database-url", &self.url])
            .output()
            .unwrap()
    }

    /// Runs `args`, which must succeed, and returns its stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.tidings(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "tidings {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// Runs `args` with `--json`, which must succeed, and parses its stdout.
    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }

    /// Every run, newest first, as `tidings runs list --json` prints them.
    pub(crate) fn runs(&self) -> Vec<serde_json::Value> {
        let runs = self.json(&["runs", "list", "--limit", "10000"]);
        runs.as_array().unwrap().clone()
    }

    /// `tidings serve` on this database, listening on a free port, with `args` added.
    pub(crate) fn serve(&self, args: &[&str]) -> Server {
        let mut all = vec!["--log-format", "text", "serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database-url", &self.url]);
        Server::start_in(self.path(), &all)
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, schema)) = &self.postgres {
            with_schema(server, schema, |store| async move {
                if let Err(e) = store.drop_schema().await {
                    eprintln!("could not drop the test schema: {e}");
                }
            });
        }
    }
}

/// Opens `schema` on `server` (creating it) and hands the store to `work`.
fn with_schema<F: Future<Output = ()>>(
    server: &str,
    schema: &str,
    work: impl FnOnce(PostgresStore) -> F,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = PostgresOptions {
            max_connections: 1,
            schema: Some(schema.to_owned()),
        };
        let store = PostgresStore::connect(server, options)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL tests need a server and never skip: {e}; start one (`make test-pg`) \
                     or set TIDINGS_TEST_DATABASE_URL"
                )
            });
        work(store).await;
    });
}

/// A `tidings serve` process and the lines of its stderr.
pub(crate) struct Server {
    pub(crate) child: Child,
    stderr: Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Server {
    /// Starts `tidings ARGS` in `dir`, reading its stderr as it comes.
    pub(crate) fn start_in(dir: &Path, args: &[&str]) -> Server {
        let child = tidings_in(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Server::from_child(child)
    }

    /// Follows a process started with its stderr piped.
    pub(crate) fn from_child(mut child: Child) -> Server {
        let stderr = child.stderr.take().unwrap();
        let (lines, receiver) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stderr: receiver,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub(crate) fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no `{needle}` within {PATIENCE:?}; stderr: {:#?}",
                    self.seen
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("stderr closed before `{needle}`; stderr: {:#?}", self.seen)
                }
            }
        }
    }

    /// The address from the "listening on http://ADDR" line.
    pub(crate) fn wait_until_listening(&mut self) -> SocketAddr {
        let line = self.wait_for_line("listening on http://");
        let (_, rest) = line.split_once("listening on http://").unwrap();
        let addr = rest
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()
            .unwrap();
        addr.parse()
            .unwrap_or_else(|_| panic!("not an address in {line:?}"))
    }

    /// Sends a signal (`-TERM`, `-INT`, `-KILL`) to this server's process.
    pub(crate) fn send(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to close its stderr and exit; returns its status and all its stderr.
    pub(crate) fn wait_for_exit(&mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("still running after {PATIENCE:?}; stderr: {:#?}", self.seen)
                }
            }
        }
        (self.child.wait().unwrap(), self.seen.clone())
    }

    /// SIGTERM, then the exit, which must be clean (code 0).
    pub(crate) fn stop(mut self) -> Vec<String> {
        self.send("-TERM");
        let (status, stderr) = self.wait_for_exit();
        assert_eq!(status.code(), Some(0), "{stderr:#?}");
        stderr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only matters when a test failed half-way: never leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
