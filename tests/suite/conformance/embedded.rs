//! The conformance suite against the embedded (redb) store, each test on a new file in its own
//! temporary directory.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use itinera::storage::{Delete, Item, Key, Page, Put, Query, Store, StoreError, Update, WriteOp};
use itinera_embedded::EmbeddedStore;
use tempfile::TempDir;

/// What the `Store` trait's methods return once `async_trait` has desugared them.
type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// An embedded store that owns its temporary directory: the directory is removed only after the
/// store, and with it the open database file, is dropped (fields drop in declaration order).
struct TemporaryStore {
    store: EmbeddedStore,
    _dir: TempDir,
}

// Written out by hand (each method forwards the boxed future the embedded store already returns)
// so that this crate needs no `async_trait` of its own.
impl Store for TemporaryStore {
    fn get<'life0, 'life1, 'async_trait>(
        &'life0 self,
        key: &'life1 Key,
    ) -> StoreFuture<'async_trait, Option<Item>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.store.get(key)
    }

    fn put<'life0, 'async_trait>(&'life0 self, put: Put) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.store.put(put)
    }

    fn update<'life0, 'async_trait>(&'life0 self, update: Update) -> StoreFuture<'async_trait, Item>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.store.update(update)
    }

    fn delete<'life0, 'async_trait>(
        &'life0 self,
        delete: Delete,
    ) -> StoreFuture<'async_trait, Option<Item>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.store.delete(delete)
    }

    fn transact<'life0, 'async_trait>(
        &'life0 self,
        operations: Vec<WriteOp>,
    ) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.store.transact(operations)
    }

    fn query<'life0, 'async_trait>(&'life0 self, query: Query) -> StoreFuture<'async_trait, Page>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.store.query(query)
    }

    fn check_health<'life0, 'async_trait>(&'life0 self) -> StoreFuture<'async_trait, ()>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        self.store.check_health()
    }
}

async fn fresh_store() -> Arc<dyn Store> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path()).expect("the embedded store opens");
    Arc::new(TemporaryStore { store, _dir: dir })
}

crate::conformance::store_conformance_suite!(fresh_store);
