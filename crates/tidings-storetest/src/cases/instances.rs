//! Instances (registered, seen, listed, removed, pruned when not seen) and the pruning of old
//! runs (ended ones only, never one whose webhook delivery is still pending).

use tidings_core::RunState;
use tidings_store::{Instance, Store};

use crate::fixtures::*;

fn instance(id: &str, started: i64) -> Instance {
    Instance {
        id: id.to_owned(),
        host: "host-a".to_owned(),
        pid: 4242,
        version: "0.1.0".to_owned(),
        started_at: at(started),
        last_seen_at: at(started),
    }
}

pub async fn instances_register_seen_list_remove_and_prune(store: &dyn Store) {
    store.instance_register(instance("a", 0)).await.unwrap();
    store.instance_register(instance("b", 5)).await.unwrap();
    // Registering again (a restart reusing the id) renews the row.
    store.instance_register(instance("b", 10)).await.unwrap();
    let listed = store.instance_list().await.unwrap();
    assert_eq!(listed, [instance("a", 0), instance("b", 10)]);

    assert!(store.instance_seen("a", at(30)).await.unwrap());
    // A heartbeat never moves last_seen_at back.
    assert!(store.instance_seen("a", at(20)).await.unwrap());
    assert!(!store.instance_seen("nobody", at(30)).await.unwrap());
    let a = store.instance_list().await.unwrap().remove(0);
    assert_eq!(a.last_seen_at, at(30));

    // `b` was last seen at 10: pruned as dead; `a` stays.
    let pruned = store.instance_prune(at(25)).await.unwrap();
    assert_eq!(pruned, ["b"]);
    assert!(store.instance_prune(at(25)).await.unwrap().is_empty());
    assert!(
        !store.instance_seen("b", at(40)).await.unwrap(),
        "it must register again"
    );

    store.instance_remove("a").await.unwrap();
    store.instance_remove("a").await.unwrap();
    assert!(store.instance_list().await.unwrap().is_empty());
}

pub async fn run_prune_deletes_old_ended_runs_only(store: &dyn Store) {
    // An old succeeded run, an old failed one, an old queued one, and a recent succeeded one.
    let old_ok = enqueue(store, adhoc("noop", t0())).await;
    let old_failed = enqueue(store, adhoc("noop", t0())).await;
    let claimed = claim(store, "w", at(1), 2).await;
    complete(store, &claimed[0], at(2), succeeded()).await;
    complete(
        store,
        &claimed[1],
        at(2),
        tidings_store::RunOutcome::Failed {
            error: "boom".to_owned(),
            retry_at: None,
        },
    )
    .await;
    let old_queued = enqueue(store, adhoc("noop", at(10_000))).await;
    let recent = enqueue(
        store,
        tidings_store::RunEnqueueParams {
            now: at(5_000),
            ..adhoc("noop", at(5_000))
        },
    )
    .await;
    let recent = claim(store, "w", at(5_001), 10)
        .await
        .into_iter()
        .find(|run| run.id == recent.id)
        .unwrap();
    complete(store, &recent, at(5_002), succeeded()).await;

    let deleted = store.run_prune(at(4_000), 100).await.unwrap();
    assert_eq!(deleted, 2);
    for gone in [old_ok.id, old_failed.id] {
        assert!(store.run_get(gone).await.is_err(), "run {gone} was pruned");
    }
    assert_eq!(run(store, old_queued.id).await.state, RunState::Queued);
    assert_eq!(run(store, recent.id).await.state, RunState::Succeeded);
    assert_eq!(store.run_prune(at(4_000), 100).await.unwrap(), 0);
}
