//! Group commit: writes queued together commit in one transaction, each decided against the
//! writes before it, and a rejected write leaves nothing behind while the rest of its batch
//! commits. The conformance suite (`tests/suite/conformance/`) covers the port's semantics; these
//! tests cover what only batching can break.
//!
//! To make a batch deterministic, a test holds the writer thread inside a first write until it
//! has queued the writes under test, then releases it: the writer then takes them all at once.

use std::sync::mpsc;

use itinera::storage::{Condition, Item, Key, Put, Store, StoreError, Update, WriteOp};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::task::JoinHandle;

use super::{Decision, EmbeddedStore, item::MAX_ITEM_BYTES};
use crate::group_commit::testing;

fn store() -> (EmbeddedStore, TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path()).expect("the store opens");
    (store, dir)
}

fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn new_item(pk: &str) -> Put {
    Put {
        item: item(json!({"pk": pk, "sk": "META", "gsi1pk": "ALL", "gsi1sk": pk})),
        condition: Some(Condition::ItemNotExists),
    }
}

/// Occupies the writer thread until the returned sender is dropped or sent to.
async fn hold_writer(store: &EmbeddedStore) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (gate, holding) = testing::gate();
    let holder = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .write(move |_| {
                    gate.hold();
                    Ok(Decision::new(Vec::new(), ()))
                })
                .await
                .expect("the holding write succeeds");
        }
    });
    (holding.until_held().await, holder)
}

/// Waits until `count` writes were handed to the writer since the store opened.
async fn wait_until_submitted(store: &EmbeddedStore, count: u64) {
    testing::wait_until_submitted(store.writer.stats(), count).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_writes_commit_in_one_batch() {
    let (store, _dir) = store();
    let (release, holder) = hold_writer(&store).await;
    let writes: Vec<_> = (0..40)
        .map(|n| {
            tokio::spawn({
                let store = store.clone();
                async move { store.put(new_item(&format!("PLANE#{n:02}"))).await }
            })
        })
        .collect();
    wait_until_submitted(&store, 41).await;
    release.send(()).expect("the holder waits");
    holder.await.expect("the holder ends");
    for write in writes {
        write
            .await
            .expect("the write's task ends")
            .expect("the write succeeds");
    }

    let (batches, requests, largest) = store.write_batches();
    assert_eq!(requests, 41);
    assert_eq!(
        batches, 2,
        "the holder's batch, then every queued write in one"
    );
    assert_eq!(largest, 40);
    assert_eq!(store.writer.stats().histogram(), "1:1 32-63:1");
    for n in 0..40 {
        let key = Key::new(format!("PLANE#{n:02}"), "META");
        assert!(
            store.get(&key).await.unwrap().is_some(),
            "item {n} committed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_write_leaves_nothing_and_the_rest_of_its_batch_commits() {
    let (store, _dir) = store();
    let counter = Key::new("COUNTER", "META");
    let (release, holder) = hold_writer(&store).await;

    // Queued in this order, so the writer decides them in this order within one batch.
    let first = tokio::spawn({
        let store = store.clone();
        async move { store.put(new_item("A")).await }
    });
    wait_until_submitted(&store, 2).await;
    // Sees the first write, uncommitted but earlier in the batch: its condition fails.
    let duplicate = tokio::spawn({
        let store = store.clone();
        async move { store.put(new_item("A")).await }
    });
    wait_until_submitted(&store, 3).await;
    // Its second operation is refused only when the writer computes the updated item (over the
    // size limit), after its first operation was decided: nothing of it may be written.
    let oversized = tokio::spawn({
        let store = store.clone();
        let counter = counter.clone();
        async move {
            let mut grow = Update::new(counter);
            grow.set = vec![("blob".into(), Value::from("x".repeat(MAX_ITEM_BYTES)))];
            store
                .transact(vec![WriteOp::Put(new_item("B")), WriteOp::Update(grow)])
                .await
        }
    });
    wait_until_submitted(&store, 4).await;
    let after = tokio::spawn({
        let store = store.clone();
        let counter = counter.clone();
        async move {
            let mut count = Update::new(counter);
            count.add = vec![("count".into(), 1)];
            store.update(count).await
        }
    });
    wait_until_submitted(&store, 5).await;
    release.send(()).expect("the holder waits");
    holder.await.expect("the holder ends");

    first.await.unwrap().expect("the first write commits");
    assert!(matches!(
        duplicate.await.unwrap(),
        Err(StoreError::ConditionFailed)
    ));
    assert!(matches!(
        oversized.await.unwrap(),
        Err(StoreError::Invalid(_))
    ));
    let counted = after
        .await
        .unwrap()
        .expect("the write after a rejection commits");
    assert_eq!(counted.get("count"), Some(&json!(1)));

    let (batches, _, largest) = store.write_batches();
    assert_eq!(
        (batches, largest),
        (2, 4),
        "the four writes shared one batch"
    );
    assert!(store.get(&Key::new("A", "META")).await.unwrap().is_some());
    assert_eq!(
        store.get(&Key::new("B", "META")).await.unwrap(),
        None,
        "the rejected transaction's first operation was not written"
    );
    let stored = store
        .get(&counter)
        .await
        .unwrap()
        .expect("the counter exists");
    assert_eq!(stored.get("blob"), None);
    assert_eq!(stored.get("count"), Some(&json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_store_stops_the_writer_and_closes_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path()).expect("the store opens");
    store.put(new_item("A")).await.expect("the write succeeds");
    drop(store);
    let reopened =
        EmbeddedStore::open(dir.path()).expect("the file is free once the store is dropped");
    assert!(
        reopened
            .get(&Key::new("A", "META"))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_fails_alone_and_the_writer_goes_on() {
    let (store, _dir) = store();
    let panicked = store
        .write::<(), _>(|_| panic!("a decision that panics"))
        .await;
    assert!(matches!(panicked, Err(StoreError::Internal(_))));
    store
        .put(new_item("A"))
        .await
        .expect("the writer still commits");
    assert!(store.get(&Key::new("A", "META")).await.unwrap().is_some());
}
