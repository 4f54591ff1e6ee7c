//! `tidings keys create|list|revoke`: a key is printed once, listed by its prefix and never its
//! secret, refused under a name already in use, and shown revoked once revoked.

use serde_json::Value;

use super::{Backend, TestDb, text};

/// The header's column names, as a user reads them.
fn columns(table: &str) -> Vec<&str> {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// The `tidings keys list` line of the key named `name` (names are the first column).
fn line_of<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no `{name}` in\n{table}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn lifecycle(backend: Backend) {
    let db = TestDb::new(backend);
    assert_eq!(db.ok(&["keys", "list"]), "no API keys\n");

    // Create: the key once, with what it is.
    let created = db.ok(&["keys", "create", "--name", "deploy", "--role", "write"]);
    let lines: Vec<&str> = created.lines().collect();
    assert_eq!(lines.len(), 3, "{created}");
    let token = lines[1];
    let (prefix, secret) = token
        .strip_prefix("tdg_")
        .and_then(|rest| rest.split_once('_'))
        .unwrap_or_else(|| panic!("not a key: {token}"));
    assert_eq!(prefix.len(), 8, "{token}");
    assert!(
        prefix
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{token}"
    );
    assert_eq!(secret.len(), 52, "{token}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
        "{token}"
    );
    assert_eq!(
        lines[0],
        format!("created API key `deploy` (id 1): role write, prefix {prefix}")
    );
    assert_eq!(
        lines[2],
        "this key is shown only now and cannot be shown again: store it somewhere safe"
    );

    let json = db.json(&["keys", "create", "--name", "grafana", "--role", "read"]);
    assert_eq!(json["name"], "grafana");
    assert_eq!(json["role"], "read");
    let grafana_token = json["token"].as_str().unwrap();
    let grafana_prefix = json["prefix"].as_str().unwrap();
    assert!(
        grafana_token.starts_with(&format!("tdg_{grafana_prefix}_")),
        "{json}"
    );
    assert_ne!(grafana_prefix, prefix);
    assert_eq!(json["revoked_at"], Value::Null);
    assert_eq!(json.get("hash"), None, "{json}");

    // List: names, roles and prefixes, never the secrets.
    let table = db.ok(&["keys", "list"]);
    assert_eq!(
        columns(&table),
        ["NAME", "ROLE", "PREFIX", "CREATED", "LAST USED", "REVOKED"]
    );
    let deploy = line_of(&table, "deploy");
    assert_eq!(deploy[..3], ["deploy", "write", prefix]);
    assert_eq!(deploy[4..], ["-", "-"], "never used, not revoked");
    assert_eq!(
        line_of(&table, "grafana")[..3],
        ["grafana", "read", grafana_prefix]
    );
    for shown in [&table, &db.json(&["keys", "list"]).to_string()] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains(token), "{shown}");
        assert!(!shown.contains(grafana_token), "{shown}");
    }
    let listed = db.json(&["keys", "list"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deploy", "grafana"], "oldest first");

    // A name in use is refused, and nothing is added.
    let duplicate = db.tidings(&["keys", "create", "--name", "deploy", "--role", "admin"]);
    assert_eq!(duplicate.status.code(), Some(2));
    assert_eq!(
        text(&duplicate.stderr),
        "error: an active API key named `deploy` already exists\n"
    );
    assert_eq!(text(&duplicate.stdout), "");
    assert_eq!(db.json(&["keys", "list"]).as_array().unwrap().len(), 2);

    // Revoke by name and by prefix: listed as revoked from then on.
    let revoked = db.ok(&["keys", "revoke", "deploy"]);
    assert_eq!(
        revoked,
        format!(
            "revoked API key `deploy` (id 1): role write, prefix {prefix}; it is refused from now on\n"
        )
    );
    let revoked = db.json(&["keys", "revoke", grafana_prefix]);
    assert_eq!(revoked["name"], "grafana");
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let table = db.ok(&["keys", "list"]);
    for name in ["deploy", "grafana"] {
        let revoked_at = line_of(&table, name)[5];
        assert_ne!(revoked_at, "-", "{table}");
        assert!(revoked_at.starts_with("20"), "an instant: {table}");
    }

    // Its name is free again; a revoked key cannot be revoked twice.
    let again = db.json(&["keys", "create", "--name", "deploy", "--role", "admin"]);
    assert_eq!(again["role"], "admin");
    let twice = db.tidings(&["keys", "revoke", "grafana"]);
    assert_eq!(twice.status.code(), Some(1));
    assert_eq!(text(&twice.stderr), "error: no API key `grafana`\n");
}

#[test]
fn keys_lifecycle_on_sqlite() {
    lifecycle(Backend::Sqlite);
}

#[test]
fn keys_lifecycle_on_postgres() {
    lifecycle(Backend::Postgres);
}

#[test]
fn keys_create_names_the_valid_roles() {
    let db = TestDb::new(Backend::Sqlite);
    let output = db.tidings(&["keys", "create", "--name", "deploy", "--role", "owner"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "invalid value 'owner' for '--role <ROLE>': unknown role `owner`: expected one of read, write, admin"
        ),
        "{stderr}"
    );
    assert_eq!(text(&output.stdout), "");
    assert_eq!(db.ok(&["keys", "list"]), "no API keys\n");
}

#[test]
fn keys_create_refuses_an_empty_name() {
    let db = TestDb::new(Backend::Sqlite);
    let output = db.tidings(&["keys", "create", "--name", " ", "--role", "read"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stderr), "error: --name: it is empty\n");
}
