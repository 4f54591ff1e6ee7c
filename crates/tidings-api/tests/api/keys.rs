//! `/api/keys` (admin): a key is shown once, when created; lists never show secrets; revoked
//! keys stop working.

use serde_json::json;
use tidings_store::ApiKeyRole;

use crate::helpers::TestApp;

async fn a_created_key_is_shown_once_and_works(app: TestApp) {
    let admin = app.with_key(ApiKeyRole::Admin);
    let answer = admin
        .create_key(&json!({"name": "ci", "role": "write"}))
        .await
        .assert_status(201);
    assert_eq!(answer.content_type(), "application/json");
    let created = &answer.body;
    let token = created["key"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tdg_"), "{answer}");
    assert_eq!(created["name"], "ci");
    assert_eq!(created["role"], "write");
    let prefix = created["prefix"].as_str().unwrap();
    assert!(token.starts_with(&format!("tdg_{prefix}_")), "{answer}");
    assert_eq!(created["created_at"], "2025-03-07T12:00:00Z");
    assert_eq!(created["revoked_at"], serde_json::Value::Null);

    let list = admin.list_keys().await.assert_status(200);
    assert!(
        !list.text.contains(&token),
        "the list shows a secret: {list}"
    );
    let keys = list.body.as_array().unwrap();
    let names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["reader", "writer", "administrator", "ci"]);
    for key in keys {
        assert_eq!(key.get("key"), None, "{key}");
        assert_eq!(key.get("hash"), None, "{key}");
    }
    assert_eq!(keys[3]["prefix"], prefix);

    // The new key works at once, with its role.
    let ci = app.with_key(&token);
    ci.create_schedule(&json!({"name": "from-ci", "interval": "2h", "kind": "noop"}))
        .await
        .assert_status(201);
    ci.list_keys().await.assert_problem(403, "forbidden");
    app.with_bearer(&token)
        .get_schedule("from-ci")
        .await
        .assert_status(200);
}

async fn a_taken_name_or_a_bad_role_is_refused(app: TestApp) {
    let admin = app.with_key(ApiKeyRole::Admin);
    admin
        .create_key(&json!({"name": "writer", "role": "read"}))
        .await
        .assert_problem(409, "conflict");
    let answer = admin
        .create_key(&json!({"name": "deploy", "role": "owner"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["role"]);
    assert!(
        answer
            .error_message("role")
            .contains("read, write or admin"),
        "{answer}"
    );
    let answer = admin
        .create_key(&json!({"name": " ", "role": "owner"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["name", "role"]);
    let answer = admin
        .create_key(&json!({"name": "deploy"}))
        .await
        .assert_problem(422, "invalid-request");
    assert_eq!(answer.error_fields(), ["role"]);
    assert_eq!(
        admin.list_keys().await.json(200).as_array().unwrap().len(),
        3
    );
}

async fn a_revoked_key_is_listed_as_revoked_and_cannot_be_revoked_again(app: TestApp) {
    let admin = app.with_key(ApiKeyRole::Admin);
    let created = admin
        .create_key(&json!({"name": "temporary", "role": "read"}))
        .await
        .json(201);
    let revoked = admin.revoke_key("temporary").await.json(200);
    assert_eq!(revoked["name"], "temporary");
    assert_eq!(revoked["revoked_at"], "2025-03-07T12:00:00Z");
    assert_eq!(revoked.get("key"), None);
    admin
        .revoke_key("temporary")
        .await
        .assert_problem(404, "not-found");
    let keys = admin.list_keys().await.json(200);
    let listed = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "temporary")
        .unwrap();
    assert_eq!(listed["revoked_at"], "2025-03-07T12:00:00Z");
    // Never used: refused.
    app.with_key(created["key"].as_str().unwrap())
        .status()
        .await
        .assert_problem(401, "unauthorized");

    // By prefix too; the name is free again afterwards.
    let other = admin
        .create_key(&json!({"name": "temporary", "role": "read"}))
        .await
        .json(201);
    admin
        .revoke_key(other["prefix"].as_str().unwrap())
        .await
        .assert_status(200);
    admin
        .revoke_key("no-such-key")
        .await
        .assert_problem(404, "not-found");
}

both_backends!(
    a_created_key_is_shown_once_and_works,
    a_taken_name_or_a_bad_role_is_refused,
    a_revoked_key_is_listed_as_revoked_and_cannot_be_revoked_again,
);
