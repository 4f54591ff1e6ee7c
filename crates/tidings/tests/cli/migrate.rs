//! `tidings migrate`: applies the migrations and says what it did, on both backends.

use super::{Backend, TestDb, text, tidings_in};

/// What `tidings migrate` prints on a new database.
const ALL_APPLIED: &str =
    "applied 0001 init\napplied 0002 api keys\napplied 0003 webhooks\napplied 0004 feedback\n";

fn migrate_then_up_to_date(backend: Backend) {
    let db = TestDb::new(backend);
    assert_eq!(db.ok(&["migrate"]), ALL_APPLIED);
    assert_eq!(
        db.ok(&["migrate"]),
        "database is up to date (4 migrations)\n"
    );
}

#[test]
fn migrate_applies_once_then_reports_up_to_date_on_sqlite() {
    migrate_then_up_to_date(Backend::Sqlite);
}

#[test]
fn migrate_applies_once_then_reports_up_to_date_on_postgres() {
    migrate_then_up_to_date(Backend::Postgres);
}

#[test]
fn migrate_creates_the_sqlite_folder() {
    let dir = tempfile::TempDir::new().unwrap();
    let output = tidings_in(dir.path())
        .args(["migrate", "--database-url", "sqlite://./nested/deeper/t.db"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), ALL_APPLIED);
    assert!(dir.path().join("nested/deeper/t.db").is_file());
}

#[test]
fn an_unreachable_database_exits_1_without_showing_the_password() {
    let dir = tempfile::TempDir::new().unwrap();
    let output = tidings_in(dir.path())
        .args([
            "migrate",
            "--database-url",
            "postgres://tidings:hunter2@127.0.0.1:1/tidings",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: cannot open the database postgres://tidings:[redacted]@127.0.0.1:1/tidings: "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert_eq!(text(&output.stdout), "");
}
