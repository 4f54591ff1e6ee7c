//! `tidings serve`: binds, says where, answers `/healthz`, and stops cleanly on SIGTERM/SIGINT.
//!
//! Nothing here sleeps: the tests read the server's stderr until the line they need arrives,
//! each wait bounded by `PATIENCE`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::tidings_in;

/// The longest any step may take before the test fails rather than hangs.
const PATIENCE: Duration = Duration::from_secs(30);

/// A `tidings serve` process and the lines of its stderr.
struct Server {
    child: Child,
    stderr: Receiver<String>,
    seen: Vec<String>,
    _dir: TempDir,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let dir = TempDir::new().unwrap();
        let mut child = tidings_in(dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
            _dir: dir,
        }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    fn wait_for_line(&mut self, needle: &str) -> String {
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
    fn wait_until_listening(&mut self) -> SocketAddr {
        let line = self.wait_for_line("listening on http://");
        let (_, rest) = line.split_once("listening on http://").unwrap();
        let addr = rest
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()
            .unwrap();
        addr.parse()
            .unwrap_or_else(|_| panic!("not an address in {line:?}"))
    }

    fn send(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to close its stderr and exit; returns its status and all its stderr.
    fn wait_for_exit(&mut self) -> (ExitStatus, Vec<String>) {
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
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only matters when a test failed half-way: never leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 GET: status code, headers (lower-cased), body.
fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn serve_answers_healthz_and_stops_cleanly_on_sigterm() {
    let mut server = Server::start(&["--log-format", "text", "serve", "--listen", "127.0.0.1:0"]);
    let addr = server.wait_until_listening();
    assert_ne!(addr.port(), 0);

    let (status, head, body) = get(addr, "/healthz");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body, r#"{"status":"ok"}"#);

    let (status, head, body) = get(addr, "/nope");
    assert_eq!(status, 404);
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        problem,
        serde_json::json!({
            "type": "https://tidings.dev/problems/not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "no route for GET /nope",
        })
    );

    server.send("-TERM");
    let (status, stderr) = server.wait_for_exit();
    assert_eq!(status.code(), Some(0), "{stderr:#?}");
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("received SIGTERM, shutting down")),
        "{stderr:#?}"
    );
    assert!(
        stderr.last().is_some_and(|l| l.contains("stopped")),
        "{stderr:#?}"
    );
}

#[test]
fn serve_stops_cleanly_on_sigint_and_logs_json_lines() {
    let mut server = Server::start(&["serve", "--listen", "127.0.0.1:0", "--log-format", "json"]);
    let addr = server.wait_until_listening();
    assert_eq!(get(addr, "/healthz").0, 200);

    server.send("-INT");
    let (status, stderr) = server.wait_for_exit();
    assert_eq!(status.code(), Some(0), "{stderr:#?}");
    let messages: Vec<String> = stderr
        .iter()
        .map(|line| {
            let event: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            event["message"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        messages,
        [
            format!("listening on http://{addr}"),
            "received SIGINT, shutting down".to_owned(),
            "stopped".to_owned(),
        ]
    );
}

#[test]
fn a_port_in_use_is_a_clear_error_with_exit_code_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = TempDir::new().unwrap();

    let output = tidings_in(dir.path())
        .args(["serve", "--listen", &addr.to_string()])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.ends_with(&format!(
            "error: cannot listen on {addr}: address already in use; set server.listen or --listen\n"
        )),
        "{stderr}"
    );
}

#[test]
fn serve_with_an_invalid_configuration_exits_2_without_binding() {
    let dir = TempDir::new().unwrap();
    let output = tidings_in(dir.path())
        .args(["serve"])
        .env("TIDINGS_SERVER__LISTEN", "localhost")
        .env("TIDINGS_SCHEDULER__CONCURRENCY", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "error: server.listen: invalid address `localhost`: expected IP:PORT such as 127.0.0.1:8080, 0.0.0.0:8080 \
         or [::1]:8080 (from environment variable TIDINGS_SERVER__LISTEN)\n\
         error: scheduler.concurrency: must be at least 1 (from environment variable TIDINGS_SCHEDULER__CONCURRENCY)\n"
    );
}
