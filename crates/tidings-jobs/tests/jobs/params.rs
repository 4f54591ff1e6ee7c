//! Params are checked when a schedule is created (`JobRegistry::validate`), and every error
//! names the field at fault.

use serde_json::{Value, json};
use tidings_engine::ParamsError;

use crate::builtin;

fn refused(kind: &str, params: Value) -> ParamsError {
    match builtin().validate(kind, &params) {
        Ok(()) => panic!("{kind} params {params} were accepted"),
        Err(error) => error,
    }
}

fn assert_refused(kind: &str, params: Value, field: &str, says: &str) {
    let error = refused(kind, params.clone());
    assert_eq!(error.kind, kind);
    assert_eq!(error.field.as_deref(), Some(field), "{params}: {error}");
    assert!(error.message.contains(says), "{params}: {error}");
}

#[test]
fn http_accepts_a_full_set() {
    let params = json!({
        "method": "post",
        "url": "https://example.com/hook?x=1",
        "headers": { "Authorization": "Bearer ${HOOK_TOKEN}", "X-Price": "$5" },
        "body": { "text": "hi" },
        "expected_status": [200, "3xx", "410-412"],
        "timeout_seconds": 3600,
    });
    assert_eq!(builtin().validate("http", &params), Ok(()));
    assert_eq!(
        builtin().validate("http", &json!({ "url": "http://127.0.0.1:9/" })),
        Ok(())
    );
}

#[test]
fn http_names_the_url() {
    assert_refused("http", json!({}), "url", "is required");
    assert_refused(
        "http",
        json!({ "url": "ftp://example.com/x" }),
        "url",
        "scheme `ftp`",
    );
    assert_refused(
        "http",
        json!({ "url": "/relative/path" }),
        "url",
        "not an absolute URL",
    );
    assert_refused("http", json!({ "url": 42 }), "url", "expected a string");
}

#[test]
fn http_names_the_method() {
    let url = "http://example.com/";
    assert_refused(
        "http",
        json!({ "url": url, "method": "FETCH" }),
        "method",
        "\"FETCH\"",
    );
    assert_refused(
        "http",
        json!({ "url": url, "method": "CONNECT" }),
        "method",
        "GET, POST",
    );
    assert_refused(
        "http",
        json!({ "url": url, "method": 5 }),
        "method",
        "expected a string",
    );
}

#[test]
fn http_names_expected_status() {
    let url = "http://example.com/";
    for bad in [
        json!("6xx"),
        json!([]),
        json!([200, "abc"]),
        json!(99),
        json!("300-200"),
    ] {
        assert_refused(
            "http",
            json!({ "url": url, "expected_status": bad }),
            "expected_status",
            "",
        );
    }
}

#[test]
fn http_names_an_unknown_field() {
    assert_refused(
        "http",
        json!({ "url": "http://example.com/", "uri": "http://example.com/" }),
        "uri",
        "unknown field",
    );
}

#[test]
fn http_names_the_timeout() {
    let url = "http://example.com/";
    for bad in [json!(0), json!(3601), json!(-1), json!("30")] {
        assert_refused(
            "http",
            json!({ "url": url, "timeout_seconds": bad }),
            "timeout_seconds",
            "",
        );
    }
}

#[test]
fn http_header_errors_name_the_header_but_never_quote_its_value() {
    let url = "http://example.com/";
    assert_refused(
        "http",
        json!({ "url": url, "headers": { "Bad Name": "v" } }),
        "headers",
        "\"Bad Name\" is not a valid header name",
    );
    assert_refused(
        "http",
        json!({ "url": url, "headers": { "X-A": "1", "x-a": "2" } }),
        "headers",
        "`x-a` is given twice",
    );
    assert_refused(
        "http",
        json!({ "url": url, "headers": ["X-A"] }),
        "headers",
        "must be an object of header name → value",
    );
    for (value, says) in [
        (json!("hunter2 ${TOKEN"), "without a closing `}`"),
        (json!("hunter2 ${1TOKEN}"), "may not start with a digit"),
        (json!("hunter2\nX-Injected: yes"), "line breaks"),
        (json!(12345), "must be a string"),
    ] {
        let error = refused("http", json!({ "url": url, "headers": { "X-Key": value } }));
        assert_eq!(error.field.as_deref(), Some("headers"), "{error}");
        assert!(error.message.contains("`x-key`"), "{error}");
        assert!(error.message.contains(says), "{error}");
        assert!(!error.message.contains("hunter2"), "{error}");
        assert!(!error.message.contains("12345"), "{error}");
    }
}

#[test]
fn noop_checks_sleep_ms() {
    assert_eq!(builtin().validate("noop", &json!({})), Ok(()));
    assert_eq!(
        builtin().validate("noop", &json!({ "sleep_ms": 3_600_000 })),
        Ok(())
    );
    assert_refused(
        "noop",
        json!({ "sleep_ms": 3_600_001 }),
        "sleep_ms",
        "maximum",
    );
    assert_refused(
        "noop",
        json!({ "sleep_ms": -1 }),
        "sleep_ms",
        "expected u64",
    );
    assert_refused(
        "noop",
        json!({ "sleep_ms": "5" }),
        "sleep_ms",
        "expected u64",
    );
    assert_refused("noop", json!({ "sleep": 5 }), "sleep", "unknown field");
}
