//! The storage port on redb: one file, one table of items, one table per secondary index.
//!
//! Why redb: it is embedded (no server for local runs), transactional, and commits durably, so an
//! acknowledged write survives a crash. Every write goes to one writer thread (`group_commit`), which
//! applies the writes queued at that moment in order inside one redb transaction and commits
//! them with one `fsync` (group commit): each write reads the current item, checks its condition
//! and writes inside that transaction, so conditional writes and transactions are serialized and
//! race-free without any locking of our own, and a write is answered only after the commit that
//! covers it.
//!
//! Layout:
//! - `items`: encoded `(pk, sk)` -> the item as JSON.
//! - `index:<name>` for each GSI: encoded `(index pk, index sk, pk, sk)` -> nothing. An entry
//!   exists exactly when the item has both index key attributes as strings (DynamoDB's sparse
//!   indexes), and is maintained in the same transaction as the item, so indexes are never stale.
//!
//! Keys are encoded so that byte order is DynamoDB's key order (see `keys`); queries are redb
//! range scans.

mod condition;
mod item;
mod keys;
#[cfg(test)]
mod tests;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use itinera::storage::{
    self, Condition, Delete, Index, Item, Key, MAX_QUERY_LIMIT, MAX_TRANSACTION_OPERATIONS, Order,
    Page, Put, Query, Store, StoreError, TABLE, Update, WriteOp,
};
use redb::{
    Database, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, Table,
    TableDefinition, WriteTransaction,
};
use serde_json::Value;
use tokio::sync::oneshot;

use self::condition::holds;
use self::keys::KeyRange;
use crate::group_commit::{Applied, Pending, Schema, Writer};

/// The file the store keeps in its directory.
pub const DATABASE_FILE_NAME: &str = "itinera.redb";

const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
const GSI1: TableDefinition<&[u8], ()> = TableDefinition::new("index:gsi1");
const GSI2: TableDefinition<&[u8], ()> = TableDefinition::new("index:gsi2");
const GSI3: TableDefinition<&[u8], ()> = TableDefinition::new("index:gsi3");

fn index_table(index: Index) -> TableDefinition<'static, &'static [u8], ()> {
    match index {
        Index::Gsi1 => GSI1,
        Index::Gsi2 => GSI2,
        Index::Gsi3 => GSI3,
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedStoreError {
    #[error("could not create the store directory {path}")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Also returned when another `EmbeddedStore` (in this or another process) has the file open.
    #[error("could not open the store file {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("could not create the tables in {path}")]
    CreateTables {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
    #[error("could not start the writer thread of {path}")]
    StartWriter {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The storage port on a redb file. Cheap to share behind an `Arc`; dropping the last handle
/// closes the file.
#[derive(Clone)]
pub struct EmbeddedStore {
    /// Shared with the writer thread and with blocking tasks running a query; the file closes
    /// when the store, the writer and every such task are done with it.
    db: Arc<Database>,
    /// Dropping the last handle stops the writer thread and waits for it.
    writer: Arc<Writer<StoreTables>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens the store in `dir` (creating the directory and the file `dir/itinera.redb` when
    /// missing). After a crash redb repairs the file on open, which may take a moment.
    pub fn open(dir: &Path) -> Result<Self, EmbeddedStoreError> {
        std::fs::create_dir_all(dir).map_err(|source| EmbeddedStoreError::CreateDirectory {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DATABASE_FILE_NAME);
        let db = Database::create(&path).map_err(|source| EmbeddedStoreError::Open {
            path: path.clone(),
            source,
        })?;
        // Creating the tables up front lets reads open them without a "does not exist" case.
        create_tables(&db).map_err(|source| EmbeddedStoreError::CreateTables {
            path: path.clone(),
            source,
        })?;
        let db = Arc::new(db);
        let writer = Writer::start(Arc::clone(&db), "store-writer").map_err(|source| {
            EmbeddedStoreError::StartWriter {
                path: path.clone(),
                source,
            }
        })?;
        tracing::debug!(path = %path.display(), "opened the embedded store");
        Ok(Self {
            db,
            writer: Arc::new(writer),
        })
    }

    /// Runs `decide` in the writer's next batch, durably: committed with an `fsync` before the
    /// answer comes back. See [`Self::write_with`].
    async fn write<T, F>(&self, decide: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Tables<'_>) -> Result<Decision<T>, StoreError> + Send + 'static,
    {
        self.write_with(storage::Durability::Immediate, decide)
            .await
    }

    /// Queues `decide` to the writer thread and waits for its answer. `decide` reads what it
    /// needs, checks its conditions against the state the writes before it in the batch left,
    /// and returns the changes to make with the caller's answer, or a rejection; it cannot
    /// write, so a rejection leaves nothing behind. A relaxed write may be committed without an
    /// `fsync` (it reaches the disk with the next durable commit); a batch holding any immediate
    /// write syncs.
    async fn write_with<T, F>(
        &self,
        durability: storage::Durability,
        decide: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Tables<'_>) -> Result<Decision<T>, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.writer
            .submit(Box::new(Request {
                decide: Some(decide),
                durable: durability == storage::Durability::Immediate,
                outcome: None,
                reply,
            }))
            .map_err(|_| StoreError::internal("the store's writer has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::internal("the store's writer stopped before answering"))?
    }

    /// `(batches, writes, largest batch)` the writer has committed since the store opened: what
    /// group commit achieved under the load so far.
    pub fn write_batches(&self) -> (u64, u64, u64) {
        self.writer.stats().snapshot()
    }

    fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        self.db.begin_read().map_err(StoreError::internal)
    }
}

fn create_tables(db: &Database) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    txn.open_table(ITEMS)?;
    for index in Index::ALL {
        txn.open_table(index_table(index))?;
    }
    txn.commit()?;
    Ok(())
}

fn item_key(key: &Key) -> Vec<u8> {
    keys::encode(&[&key.pk, &key.sk])
}

fn index_entry(index_pk: &str, index_sk: &str, key: &Key) -> Vec<u8> {
    keys::encode(&[index_pk, index_sk, &key.pk, &key.sk])
}

/// The store's file as the writer thread sees it.
struct StoreTables;

impl Schema for StoreTables {
    type Tables<'txn> = Tables<'txn>;
    type Error = StoreError;

    fn open(txn: &WriteTransaction) -> Result<Tables<'_>, StoreError> {
        Tables::open(txn)
    }
}

/// The tables of one write transaction, with the item-level operations every write is made of.
struct Tables<'txn> {
    items: Table<'txn, &'static [u8], &'static [u8]>,
    indexes: Vec<(Index, Table<'txn, &'static [u8], ()>)>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, StoreError> {
        let items = txn.open_table(ITEMS).map_err(StoreError::internal)?;
        let indexes = Index::ALL
            .into_iter()
            .map(|index| {
                txn.open_table(index_table(index))
                    .map(|table| (index, table))
                    .map_err(StoreError::internal)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { items, indexes })
    }

    fn load(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        load(&self.items, key)
    }

    /// Makes one decided change, moving the item's index entries along. Every check was made
    /// when the change was decided, so only redb itself can fail here.
    fn apply(&mut self, change: &Change) -> Result<(), StoreError> {
        let key = item_key(&change.key);
        match (&change.new, &change.old) {
            (Some(new), old) => {
                self.items
                    .insert(key.as_slice(), new.bytes.as_slice())
                    .map_err(StoreError::internal)?;
                self.reindex(&change.key, old.as_ref(), Some(&new.item))
            }
            (None, Some(old)) => {
                self.items
                    .remove(key.as_slice())
                    .map_err(StoreError::internal)?;
                self.reindex(&change.key, Some(old), None)
            }
            (None, None) => Ok(()),
        }
    }

    fn reindex(
        &mut self,
        key: &Key,
        old: Option<&Item>,
        new: Option<&Item>,
    ) -> Result<(), StoreError> {
        for (index, table) in &mut self.indexes {
            let before = old.and_then(|item| item::index_key(item, *index));
            let after = new.and_then(|item| item::index_key(item, *index));
            if before == after {
                continue;
            }
            if let Some((pk, sk)) = before {
                table
                    .remove(index_entry(pk, sk, key).as_slice())
                    .map_err(StoreError::internal)?;
            }
            if let Some((pk, sk)) = after {
                table
                    .insert(index_entry(pk, sk, key).as_slice(), ())
                    .map_err(StoreError::internal)?;
            }
        }
        Ok(())
    }
}

/// An item to write, encoded (and so checked against the size limit) when the write is decided.
struct Encoded {
    item: Item,
    bytes: Vec<u8>,
}

impl Encoded {
    fn new(item: Item) -> Result<Self, StoreError> {
        let bytes = item::encode(&item)?;
        Ok(Self { item, bytes })
    }
}

/// One item change a write decided on: `new` in place of `old` (the item stored under `key`
/// when the write decided), or the deletion of `old` when `new` is `None`.
struct Change {
    key: Key,
    old: Option<Item>,
    new: Option<Encoded>,
}

/// What a write decided against the current state: the changes to make, and what its caller gets.
struct Decision<T> {
    changes: Vec<Change>,
    answer: T,
}

impl<T> Decision<T> {
    fn new(changes: Vec<Change>, answer: T) -> Self {
        Self { changes, answer }
    }
}

/// A write queued to the writer thread: how it decides, and where its answer goes.
struct Request<T, F> {
    /// Taken when the writer applies the request.
    decide: Option<F>,
    durable: bool,
    /// The decision's answer or rejection, given once the batch's fate is known.
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Pending<StoreTables> for Request<T, F>
where
    T: Send,
    F: FnOnce(&Tables<'_>) -> Result<Decision<T>, StoreError> + Send,
{
    fn durable(&self) -> bool {
        self.durable
    }

    fn apply(&mut self, tables: &mut Tables<'_>) -> Result<Applied, StoreError> {
        let Some(decide) = self.decide.take() else {
            return Ok(Applied::Nothing);
        };
        // A decision only reads, so a panic in one leaves nothing behind: it fails that write
        // alone instead of the writer thread, and with it every later write.
        let decided = std::panic::catch_unwind(AssertUnwindSafe(|| decide(tables)))
            .unwrap_or_else(|_| Err(StoreError::internal("the write's decision panicked")));
        match decided {
            Ok(Decision { changes, answer }) => {
                for change in &changes {
                    tables.apply(change)?;
                }
                self.outcome = Some(Ok(answer));
                Ok(if changes.is_empty() {
                    Applied::Nothing
                } else {
                    Applied::Wrote
                })
            }
            Err(rejection) => {
                self.outcome = Some(Err(rejection));
                Ok(Applied::Nothing)
            }
        }
    }

    fn answer(self: Box<Self>, batch: Result<(), &str>) {
        let result = match batch {
            Ok(()) => self.outcome.unwrap_or_else(|| {
                Err(StoreError::internal(
                    "the writer answered a write it had not applied",
                ))
            }),
            Err(reason) => Err(StoreError::internal(format!(
                "the write's batch failed: {reason}"
            ))),
        };
        // The caller may have stopped waiting; its write is committed (or not) all the same.
        let _ = self.reply.send(result);
    }
}

fn load(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &Key,
) -> Result<Option<Item>, StoreError> {
    match table
        .get(item_key(key).as_slice())
        .map_err(StoreError::internal)?
    {
        Some(bytes) => item::decode(bytes.value()).map(Some),
        None => Ok(None),
    }
}

fn check_condition(condition: Option<&Condition>, current: Option<&Item>) -> bool {
    condition.is_none_or(|condition| holds(condition, current))
}

/// The checks a transaction passes before any item is read: size, distinct keys, valid
/// operations. DynamoDB refuses these as a malformed request.
fn check_transaction(operations: &[WriteOp]) -> Result<Vec<Key>, StoreError> {
    if operations.is_empty() || operations.len() > MAX_TRANSACTION_OPERATIONS {
        return Err(StoreError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACTION_OPERATIONS} operations, not {}",
            operations.len()
        )));
    }
    let mut keys = Vec::with_capacity(operations.len());
    for operation in operations {
        let key = match operation {
            WriteOp::Put(put) => item::key_of(&put.item)?,
            WriteOp::Update(update) => {
                item::check_update(update)?;
                update.key.clone()
            }
            WriteOp::Delete(Delete { key, .. }) | WriteOp::Check { key, .. } => {
                item::check_key(key)?;
                key.clone()
            }
        };
        if keys.contains(&key) {
            return Err(StoreError::Invalid(format!(
                "a transaction cannot hold two operations on the item {key}"
            )));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Decides a whole transaction before it writes anything: every condition is checked, and every
/// new item computed and encoded, so that a failure anywhere rejects it with nothing written.
fn decide_transaction(
    tables: &Tables<'_>,
    operations: Vec<WriteOp>,
    keys: Vec<Key>,
) -> Result<Decision<()>, StoreError> {
    let mut changes = Vec::with_capacity(operations.len());
    for (index, (operation, key)) in operations.into_iter().zip(keys).enumerate() {
        let old = tables.load(&key)?;
        let condition = match &operation {
            WriteOp::Put(put) => put.condition.as_ref(),
            WriteOp::Update(update) => update.condition.as_ref(),
            WriteOp::Delete(delete) => delete.condition.as_ref(),
            WriteOp::Check { condition, .. } => Some(condition),
        };
        if !check_condition(condition, old.as_ref()) {
            return Err(StoreError::TransactionConditionFailed { index });
        }
        let new = match operation {
            WriteOp::Put(put) => Some(Encoded::new(put.item)?),
            WriteOp::Update(update) => {
                Some(Encoded::new(item::apply_update(old.clone(), &update)?)?)
            }
            WriteOp::Delete(_) => None,
            WriteOp::Check { .. } => continue,
        };
        changes.push(Change { key, old, new });
    }
    Ok(Decision::new(changes, ()))
}

/// The encoded key a query resumes after: the table key, or the index entry's key when querying
/// an index. It must be a key of the queried partition.
fn resume_key(index: Option<Index>, partition: &str, start: &Item) -> Result<Vec<u8>, StoreError> {
    let string = |name: &str| {
        start.get(name).and_then(Value::as_str).ok_or_else(|| {
            StoreError::Invalid(format!("the start key lacks the string attribute `{name}`"))
        })
    };
    let pk = string(TABLE.partition_key)?;
    let sk = string(TABLE.sort_key)?;
    let (query_pk, encoded) = match index {
        None => (pk, keys::encode(&[pk, sk])),
        Some(index) => {
            let index_pk = string(index.partition_key())?;
            let index_sk = string(index.sort_key())?;
            (index_pk, keys::encode(&[index_pk, index_sk, pk, sk]))
        }
    };
    if query_pk != partition {
        return Err(StoreError::Invalid(
            "the start key belongs to another partition".into(),
        ));
    }
    Ok(encoded)
}

fn run_query(txn: &ReadTransaction, query: &Query) -> Result<Page, StoreError> {
    if query.limit == 0 || query.limit > MAX_QUERY_LIMIT {
        return Err(StoreError::Invalid(format!(
            "a query limit is 1 to {MAX_QUERY_LIMIT}, not {}",
            query.limit
        )));
    }
    if query.partition.is_empty() {
        return Err(StoreError::Invalid(
            "the partition key value may not be empty".into(),
        ));
    }
    let mut range = KeyRange::within(&keys::encode(&[&query.partition]), query.sort.as_ref())
        .map_err(StoreError::Invalid)?;
    if let Some(start) = &query.start_after {
        let after = resume_key(query.index, &query.partition, start)?;
        match query.order {
            Order::Ascending => range.start_after(after),
            Order::Descending => range.end_before(after),
        }
    }
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let items = txn.open_table(ITEMS).map_err(StoreError::internal)?;
    let evaluated = if range.is_empty() {
        Vec::new()
    } else {
        match query.index {
            None => scan_items(&items, &range, query.order, limit)?,
            Some(index) => {
                let entries = txn
                    .open_table(index_table(index))
                    .map_err(StoreError::internal)?;
                scan_index(&items, &entries, index, &range, query.order, limit)?
            }
        }
    };
    let last_evaluated_key = (evaluated.len() == limit)
        .then(|| {
            evaluated
                .last()
                .map(|item| key_attributes(item, query.index))
        })
        .flatten();
    let items = evaluated
        .into_iter()
        .filter(|item| {
            query
                .filter
                .as_ref()
                .is_none_or(|filter| holds(filter, Some(item)))
        })
        .collect();
    Ok(Page {
        items,
        last_evaluated_key,
    })
}

/// The table key attributes of an item, plus the index's when querying an index.
fn key_attributes(item: &Item, index: Option<Index>) -> Item {
    let mut names = vec![TABLE.partition_key, TABLE.sort_key];
    if let Some(index) = index {
        names.extend([index.partition_key(), index.sort_key()]);
    }
    names
        .into_iter()
        .filter_map(|name| item.get(name).map(|value| (name.to_owned(), value.clone())))
        .collect()
}

fn scan_items(
    items: &ReadOnlyTable<&'static [u8], &'static [u8]>,
    range: &KeyRange,
    order: Order,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let entries = items
        .range::<&[u8]>(range.bounds())
        .map_err(StoreError::internal)?;
    let entries: Box<dyn Iterator<Item = _>> = match order {
        Order::Ascending => Box::new(entries),
        Order::Descending => Box::new(entries.rev()),
    };
    entries
        .take(limit)
        .map(|entry| {
            let (_, value) = entry.map_err(StoreError::internal)?;
            item::decode(value.value())
        })
        .collect()
}

fn scan_index(
    items: &ReadOnlyTable<&'static [u8], &'static [u8]>,
    entries: &ReadOnlyTable<&'static [u8], ()>,
    index: Index,
    range: &KeyRange,
    order: Order,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let scan = entries
        .range::<&[u8]>(range.bounds())
        .map_err(StoreError::internal)?;
    let scan: Box<dyn Iterator<Item = _>> = match order {
        Order::Ascending => Box::new(scan),
        Order::Descending => Box::new(scan.rev()),
    };
    scan.take(limit)
        .map(|entry| {
            let (entry, _) = entry.map_err(StoreError::internal)?;
            let entry = entry.value();
            let corrupt = || {
                StoreError::internal(format!(
                    "index {} holds an entry that does not name an item",
                    index.name()
                ))
            };
            let [_, _, pk, sk]: [String; 4] = keys::decode(entry)
                .and_then(|parts| parts.try_into().ok())
                .ok_or_else(corrupt)?;
            load(items, &Key { pk, sk })?.ok_or_else(corrupt)
        })
        .collect()
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        item::check_key(key)?;
        // A point read is a few page lookups: cheap enough to run on the async thread.
        let txn = self.begin_read()?;
        let items = txn.open_table(ITEMS).map_err(StoreError::internal)?;
        load(&items, key)
    }

    async fn put(&self, put: Put) -> Result<(), StoreError> {
        let key = item::key_of(&put.item)?;
        let new = Encoded::new(put.item)?;
        let condition = put.condition;
        self.write(move |tables| {
            let old = tables.load(&key)?;
            if !check_condition(condition.as_ref(), old.as_ref()) {
                return Err(StoreError::ConditionFailed);
            }
            let change = Change {
                key,
                old,
                new: Some(new),
            };
            Ok(Decision::new(vec![change], ()))
        })
        .await
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        item::check_update(&update)?;
        self.write_with(update.durability, move |tables| {
            let old = tables.load(&update.key)?;
            if !check_condition(update.condition.as_ref(), old.as_ref()) {
                return Err(StoreError::ConditionFailed);
            }
            let new = Encoded::new(item::apply_update(old.clone(), &update)?)?;
            let answer = new.item.clone();
            let change = Change {
                key: update.key,
                old,
                new: Some(new),
            };
            Ok(Decision::new(vec![change], answer))
        })
        .await
    }

    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError> {
        item::check_key(&delete.key)?;
        self.write(move |tables| {
            let old = tables.load(&delete.key)?;
            if !check_condition(delete.condition.as_ref(), old.as_ref()) {
                return Err(StoreError::ConditionFailed);
            }
            let changes = old
                .iter()
                .map(|old| Change {
                    key: delete.key.clone(),
                    old: Some(old.clone()),
                    new: None,
                })
                .collect();
            Ok(Decision::new(changes, old))
        })
        .await
    }

    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError> {
        let keys = check_transaction(&operations)?;
        self.write(move |tables| decide_transaction(tables, operations, keys))
            .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        // A page may read up to a thousand items: keep it off the async threads.
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read().map_err(StoreError::internal)?;
            run_query(&txn, &query)
        })
        .await
        .map_err(StoreError::internal)?
    }

    async fn check_health(&self) -> Result<(), StoreError> {
        self.begin_read().map(drop)
    }
}
