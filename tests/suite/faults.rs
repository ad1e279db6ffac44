//! The fault-injecting store decorator does what the concurrency and recovery tests rely on: a
//! fault before the call writes nothing, a fault after it writes and still reports the error, and
//! only the selected calls fail.

use std::sync::Arc;

use itinera::storage::{Condition, Key, Put, Store, StoreError, Update, WriteOp};
use itinera_embedded::EmbeddedStore;
use itinera_tests::faults::{Call, Fault, FaultKind, FaultyStore, Timing};
use serde_json::Value;

fn item(pk: &str) -> itinera::storage::Item {
    let mut item = itinera::storage::Item::new();
    Key::new(pk, "ITEM").write_into(&mut item);
    item.insert("n".into(), Value::from(1));
    item
}

fn put(pk: &str) -> WriteOp {
    WriteOp::Put(Put {
        item: item(pk),
        condition: Some(Condition::ItemNotExists),
    })
}

#[tokio::test]
async fn a_fault_before_the_call_writes_nothing_and_one_after_it_writes_but_still_fails() {
    let data = tempfile::tempdir().unwrap();
    let inner: Arc<dyn Store> = Arc::new(EmbeddedStore::open(data.path()).unwrap());
    let store = FaultyStore::new(Arc::clone(&inner));

    store.inject(Fault::on(Call::Transact).with(FaultKind::Conflict));
    let error = store.transact(vec![put("A#1")]).await.unwrap_err();
    assert!(
        matches!(error, StoreError::TransactionConflict),
        "{error:?}"
    );
    assert_eq!(inner.get(&Key::new("A#1", "ITEM")).await.unwrap(), None);
    // The fault fired once; the same call now goes through.
    store.transact(vec![put("A#1")]).await.unwrap();
    assert!(inner.get(&Key::new("A#1", "ITEM")).await.unwrap().is_some());

    store.inject(Fault::on(Call::Update).timing(Timing::After));
    let mut update = Update::new(Key::new("A#1", "ITEM"));
    update.add.push(("n".into(), 1));
    let error = store.update(update).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    let stored = inner.get(&Key::new("A#1", "ITEM")).await.unwrap().unwrap();
    assert_eq!(
        stored["n"], 2,
        "the update was applied before the error was reported"
    );
    assert_eq!(store.injected(), 2);
}

#[tokio::test]
async fn faults_select_calls_by_partition_skip_and_period() {
    let data = tempfile::tempdir().unwrap();
    let inner: Arc<dyn Store> = Arc::new(EmbeddedStore::open(data.path()).unwrap());
    let store = FaultyStore::new(inner);

    store.inject(
        Fault::on(Call::Transact)
            .touching("B#")
            .with(FaultKind::Throttled)
            .after(1)
            .times(2),
    );
    store.transact(vec![put("A#1")]).await.unwrap();
    store.transact(vec![put("B#1")]).await.unwrap();
    for pk in ["B#2", "B#3"] {
        let error = store.transact(vec![put("A#9"), put(pk)]).await.unwrap_err();
        assert!(matches!(error, StoreError::Throttled(_)), "{error:?}");
    }
    store.transact(vec![put("B#4")]).await.unwrap();

    store.heal();
    store.inject(Fault::on(Call::Get).every(3));
    let key = Key::new("A#1", "ITEM");
    let outcomes: Vec<bool> = get_outcomes(&store, &key, 6).await;
    assert_eq!(outcomes, [true, true, false, true, true, false]);
}

async fn get_outcomes(store: &FaultyStore, key: &Key, n: usize) -> Vec<bool> {
    let mut outcomes = Vec::new();
    for _ in 0..n {
        outcomes.push(store.get(key).await.is_ok());
    }
    outcomes
}
