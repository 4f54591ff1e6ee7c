//! `tidings migrate`: applies the migrations and says what it did, on both backends.

use super::{Backend, TestDb, text, tidings_in};

/// The migrations a backend embeds, as `tidings migrate` names them (`0001 init`), from the
/// files in its `migrations/` folder (`0001_init.sql`), in order.
pub(crate) fn migrations(backend: Backend) -> Vec<String> {
    let crate_name = match backend {
        Backend::Sqlite => "tidings-store-sqlite",
        Backend::Postgres => "tidings-store-postgres",
    };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_name)
        .join("migrations");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".sql").map(str::to_owned))
        .map(|stem| stem.replacen('_', " ", 1).replace('_', " "))
        .collect();
    names.sort();
    assert!(names.len() >= 5 && names[0] == "0001 init", "{names:?}");
    names
}

/// What `tidings migrate` prints on a new database.
fn all_applied(backend: Backend) -> String {
    migrations(backend)
        .iter()
        .map(|name| format!("applied {name}\n"))
        .collect()
}

fn migrate_then_up_to_date(backend: Backend) {
    let db = TestDb::new(backend);
    assert_eq!(db.ok(&["migrate"]), all_applied(backend));
    assert_eq!(
        db.ok(&["migrate"]),
        format!(
            "database is up to date ({} migrations)\n",
            migrations(backend).len()
        )
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
    assert_eq!(text(&output.stdout), all_applied(Backend::Sqlite));
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
