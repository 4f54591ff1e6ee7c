//! API keys: stored by name, role, prefix and hash; found by prefix while active; revoked by
//! name or prefix; a revoked key's name may be given to a new key. And the readiness ping.

use jiff::Timestamp;
use tidings_store::{ApiKey, ApiKeyCreateParams, ApiKeyId, ApiKeyRole, Store, StoreError};

use crate::fixtures::*;

/// A key `name` with `prefix`, made at `now`; its hash is derived from the prefix so that every
/// key's differs.
fn key(name: &str, role: ApiKeyRole, prefix: &str, now: Timestamp) -> ApiKeyCreateParams {
    ApiKeyCreateParams {
        name: name.to_owned(),
        role,
        prefix: prefix.to_owned(),
        hash: hash_of(prefix),
        now,
    }
}

fn hash_of(prefix: &str) -> Vec<u8> {
    prefix.bytes().cycle().take(32).collect()
}

async fn create_key(store: &dyn Store, params: ApiKeyCreateParams) -> ApiKey {
    store
        .api_key_create(params)
        .await
        .unwrap_or_else(|e| panic!("api_key_create: {e}"))
}

async fn revoke(store: &dyn Store, name_or_prefix: &str, now: Timestamp) -> ApiKey {
    store
        .api_key_revoke(name_or_prefix, now)
        .await
        .unwrap_or_else(|e| panic!("api_key_revoke {name_or_prefix}: {e}"))
}

async fn names_and_revoked(store: &dyn Store) -> Vec<(String, bool)> {
    store
        .api_key_list()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.name, k.revoked_at.is_some()))
        .collect()
}

pub async fn api_key_create_then_list_and_lookup_with_its_hash(store: &dyn Store) {
    assert_eq!(store.api_key_list().await.unwrap(), []);
    let deploy = create_key(store, key("deploy", ApiKeyRole::Write, "a1b2c3d4", t0())).await;
    assert_eq!(deploy.name, "deploy");
    assert_eq!(deploy.role, ApiKeyRole::Write);
    assert_eq!(deploy.prefix, "a1b2c3d4");
    assert_eq!(deploy.created_at, t0());
    assert_eq!(deploy.last_used_at, None);
    assert_eq!(deploy.revoked_at, None);
    let admin = create_key(store, key("ops", ApiKeyRole::Admin, "ffff0000", at(5))).await;
    assert_ne!(admin.id, deploy.id);

    assert_eq!(
        store.api_key_list().await.unwrap(),
        [deploy.clone(), admin.clone()],
        "oldest first"
    );
    let (found, hash) = store
        .api_key_lookup("a1b2c3d4")
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("key a1b2c3d4 not found"));
    assert_eq!(found, deploy);
    assert_eq!(hash, hash_of("a1b2c3d4"));
    let (found, hash) = store.api_key_lookup("ffff0000").await.unwrap().unwrap();
    assert_eq!(found.role, ApiKeyRole::Admin);
    assert_eq!(hash, hash_of("ffff0000"));
    assert_eq!(store.api_key_lookup("00000000").await.unwrap(), None);
    assert_eq!(
        store.api_key_lookup("deploy").await.unwrap(),
        None,
        "found by prefix, not by name"
    );
}

pub async fn api_key_create_with_active_name_is_conflict_until_revoked(store: &dyn Store) {
    let first = create_key(store, key("deploy", ApiKeyRole::Write, "a1b2c3d4", t0())).await;
    let err = assert_store_error(
        store
            .api_key_create(key("deploy", ApiKeyRole::Read, "0a0b0c0d", at(1)))
            .await,
        |e| matches!(e, StoreError::Conflict(_)),
        "a second active key named deploy",
    );
    assert_eq!(
        err.to_string(),
        "an active API key named `deploy` already exists"
    );
    let err = assert_store_error(
        store
            .api_key_create(key("other", ApiKeyRole::Read, "a1b2c3d4", at(1)))
            .await,
        |e| matches!(e, StoreError::Conflict(_)),
        "a taken prefix",
    );
    assert_eq!(
        err.to_string(),
        "an API key with prefix `a1b2c3d4` already exists"
    );
    assert_eq!(store.api_key_list().await.unwrap(), [first]);

    revoke(store, "deploy", at(2)).await;
    let second = create_key(store, key("deploy", ApiKeyRole::Read, "0a0b0c0d", at(3))).await;
    assert_eq!(second.role, ApiKeyRole::Read);
    assert_eq!(
        names_and_revoked(store).await,
        [("deploy".to_owned(), true), ("deploy".to_owned(), false)]
    );
    // A revoked key's prefix stays taken.
    assert_store_error(
        store
            .api_key_create(key("third", ApiKeyRole::Read, "a1b2c3d4", at(4)))
            .await,
        |e| matches!(e, StoreError::Conflict(_)),
        "a revoked key's prefix",
    );
}

pub async fn api_key_revoke_by_name_or_prefix_stops_lookup(store: &dyn Store) {
    create_key(store, key("deploy", ApiKeyRole::Write, "a1b2c3d4", t0())).await;
    create_key(store, key("grafana", ApiKeyRole::Read, "0a0b0c0d", t0())).await;
    create_key(store, key("ops", ApiKeyRole::Admin, "ffff0000", t0())).await;

    let by_name = revoke(store, "deploy", at(10)).await;
    assert_eq!(by_name.prefix, "a1b2c3d4");
    assert_eq!(by_name.revoked_at, Some(at(10)));
    let by_prefix = revoke(store, "0a0b0c0d", at(11)).await;
    assert_eq!(by_prefix.name, "grafana");
    assert_eq!(by_prefix.revoked_at, Some(at(11)));

    assert_eq!(store.api_key_lookup("a1b2c3d4").await.unwrap(), None);
    assert_eq!(store.api_key_lookup("0a0b0c0d").await.unwrap(), None);
    assert!(store.api_key_lookup("ffff0000").await.unwrap().is_some());
    let listed = store.api_key_list().await.unwrap();
    assert_eq!(listed.len(), 3, "revoked keys are still listed");
    assert_eq!(listed[0].revoked_at, Some(at(10)));
    assert_eq!(listed[1].revoked_at, Some(at(11)));
    assert_eq!(listed[2].revoked_at, None);

    for gone in ["deploy", "a1b2c3d4", "nobody"] {
        let err = assert_store_error(
            store.api_key_revoke(gone, at(12)).await,
            |e| matches!(e, StoreError::NotFound { .. }),
            "revoke a revoked or unknown key",
        );
        assert_eq!(err.to_string(), format!("API key `{gone}` not found"));
    }
    assert_eq!(
        store.api_key_list().await.unwrap()[0].revoked_at,
        Some(at(10)),
        "revoking again changes nothing"
    );

    // Text that is one key's name and another's prefix revokes the key of that name.
    create_key(store, key("ffff0000", ApiKeyRole::Read, "12345678", t0())).await;
    let named = revoke(store, "ffff0000", at(13)).await;
    assert_eq!(named.prefix, "12345678");
    assert!(store.api_key_lookup("ffff0000").await.unwrap().is_some());
    assert_eq!(store.api_key_lookup("12345678").await.unwrap(), None);
}

pub async fn api_key_touch_sets_last_used_at(store: &dyn Store) {
    let made = create_key(store, key("deploy", ApiKeyRole::Write, "a1b2c3d4", t0())).await;
    store.api_key_touch(made.id, at(60)).await.unwrap();
    let (found, _) = store.api_key_lookup("a1b2c3d4").await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(at(60)));
    store.api_key_touch(made.id, at(120)).await.unwrap();
    store.api_key_touch(made.id, at(90)).await.unwrap();
    assert_eq!(
        store.api_key_list().await.unwrap()[0].last_used_at,
        Some(at(120)),
        "a late report of an earlier use does not move it back"
    );
    assert_store_error(
        store.api_key_touch(ApiKeyId(987_654), at(60)).await,
        |e| matches!(e, StoreError::NotFound { .. }),
        "touch an unknown key",
    );
}

pub async fn api_key_count_active_leaves_out_revoked_keys(store: &dyn Store) {
    assert_eq!(store.api_key_count_active().await.unwrap(), 0);
    create_key(store, key("deploy", ApiKeyRole::Write, "a1b2c3d4", t0())).await;
    create_key(store, key("grafana", ApiKeyRole::Read, "0a0b0c0d", t0())).await;
    assert_eq!(store.api_key_count_active().await.unwrap(), 2);
    revoke(store, "grafana", at(1)).await;
    assert_eq!(store.api_key_count_active().await.unwrap(), 1);
    revoke(store, "a1b2c3d4", at(2)).await;
    assert_eq!(store.api_key_count_active().await.unwrap(), 0);
}

pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.unwrap();
}
