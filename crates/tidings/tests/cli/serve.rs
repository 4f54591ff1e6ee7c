//! `tidings serve`: binds, says where, answers `/healthz`, and stops cleanly on SIGTERM/SIGINT.
//!
//! Nothing here sleeps: the tests read the server's stderr until the line they need arrives,
//! each wait bounded by `PATIENCE`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use tempfile::TempDir;

use super::{Backend, PATIENCE, Server, TestDb, text, tidings_in};

/// `tidings ARGS` in a fresh folder (its default database lands there).
fn start(args: &[&str]) -> (TempDir, Server) {
    let dir = TempDir::new().unwrap();
    let server = Server::start_in(dir.path(), args);
    (dir, server)
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
    let (_dir, mut server) = start(&["--log-format", "text", "serve", "--listen", "127.0.0.1:0"]);
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
    let (_dir, mut server) = start(&["serve", "--listen", "127.0.0.1:0", "--log-format", "json"]);
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
    let listening = messages
        .iter()
        .position(|m| m.starts_with(&format!("listening on http://{addr} ")))
        .unwrap_or_else(|| panic!("no listening line: {messages:#?}"));
    let applied: Vec<String> = super::migrate::migrations(Backend::Sqlite)
        .iter()
        .map(|name| format!("applied migration {name}"))
        .collect();
    let count = applied.len();
    assert_eq!(messages[..count], applied, "{messages:#?}");
    // The first start makes an admin key; the log names it but never shows it.
    assert_eq!(listening, count + 1, "{messages:#?}");
    assert!(
        messages[count].starts_with("created the first API key `admin` (role admin, prefix "),
        "{messages:#?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("tdg_")),
        "{messages:#?}"
    );
    assert!(
        messages[listening].starts_with(&format!(
            "listening on http://{addr} (database sqlite://./data/tidings.db, instance "
        )),
        "{messages:#?}"
    );
    assert!(
        messages[listening].ends_with(&format!(
            ", 0 schedules, 0 enabled); API docs at http://{addr}/api/docs"
        )),
        "{messages:#?}"
    );
    assert_eq!(
        messages[listening + 1],
        "received SIGINT, shutting down",
        "{messages:#?}"
    );
    assert_eq!(messages.last().map(String::as_str), Some("stopped"));
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

#[test]
fn a_second_server_on_the_same_sqlite_file_exits_1_and_says_why() {
    let db = TestDb::new(Backend::Sqlite);
    let mut first = db.serve(&[]);
    first.wait_until_listening();

    let second = db.tidings(&["serve", "--listen", "127.0.0.1:0"]);

    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    let stderr = text(&second.stderr);
    let pid = first.child.id();
    assert!(
        stderr.ends_with(&format!(
            "error: another tidings serve is already using {}/t.db (pid {pid}); SQLite allows one \
             instance — run several instances on PostgreSQL\n",
            db.path().display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("listening"), "{stderr}");
    first.stop();
}
