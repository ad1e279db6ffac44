//! The storage port: a key-value store with DynamoDB's semantics, spoken in typed terms.
//!
//! Use cases describe what they want (a conditional put, a transaction, a query on an index) with
//! the types below; adapters decide how. The DynamoDB adapter renders them into expressions with
//! placeholder names and values, the embedded adapter evaluates them directly. Nothing here is a
//! general expression language: only the operations the domain needs exist.
//!
//! Items are JSON objects. Every item carries its primary key in the attributes named by
//! [`schema::TABLE`] (`pk`, `sk`), and, when it should appear in a secondary index, that index's key
//! attributes too. Key attributes are always strings.

mod codec;
pub mod schema;

use std::fmt;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub(crate) use codec::parsed_from_string;
pub use codec::{ItemKeys, from_item, timestamp, to_item};
pub use schema::{Index, IndexSchema, StoreAccess, TABLE, TableSchema};

/// One stored item: attribute name -> value.
pub type Item = Map<String, Value>;

/// The most operations one transaction may hold (DynamoDB's limit).
pub const MAX_TRANSACTION_OPERATIONS: usize = 100;

/// The most items one query page may return.
pub const MAX_QUERY_LIMIT: u32 = 1000;

/// An error a boxed source chain can carry across the port.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The primary key of an item: partition key and sort key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key read back from an item's key attributes, if it has them.
    pub fn of(item: &Item) -> Option<Self> {
        let pk = item.get(TABLE.partition_key)?.as_str()?;
        let sk = item.get(TABLE.sort_key)?.as_str()?;
        Some(Self::new(pk, sk))
    }

    /// Writes this key's attributes into an item.
    pub fn write_into(&self, item: &mut Item) {
        item.insert(TABLE.partition_key.into(), Value::String(self.pk.clone()));
        item.insert(TABLE.sort_key.into(), Value::String(self.sk.clone()));
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.pk, self.sk)
    }
}

/// How an attribute is compared with a value in a [`Condition::Compare`].
///
/// Numbers compare numerically, strings by their UTF-8 bytes (as DynamoDB does). A comparison
/// between values of different types, or with a missing attribute, is false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// A condition on the current state of one item, checked atomically with the write it guards.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The item exists (`attribute_exists(pk)`).
    ItemExists,
    /// The item does not exist (`attribute_not_exists(pk)`).
    ItemNotExists,
    /// The item has this attribute.
    AttributeExists(String),
    /// The item lacks this attribute.
    AttributeNotExists(String),
    /// The attribute compared with a value.
    Compare {
        attribute: String,
        comparison: Comparison,
        value: Value,
    },
    /// The string attribute starts with a prefix.
    BeginsWith { attribute: String, prefix: String },
    /// All of the conditions hold.
    And(Vec<Condition>),
}

impl Condition {
    pub fn compare(
        attribute: impl Into<String>,
        comparison: Comparison,
        value: impl Into<Value>,
    ) -> Self {
        Self::Compare {
            attribute: attribute.into(),
            comparison,
            value: value.into(),
        }
    }

    /// `attribute` within the optional bounds, both inclusive: one comparison per bound given.
    pub fn within<T: Into<Value>>(
        attribute: &str,
        lower: Option<T>,
        upper: Option<T>,
    ) -> Vec<Condition> {
        let lower = lower.map(|lower| Self::compare(attribute, Comparison::GreaterOrEqual, lower));
        let upper = upper.map(|upper| Self::compare(attribute, Comparison::LessOrEqual, upper));
        lower.into_iter().chain(upper).collect()
    }

    /// All of `conditions`: none is no condition, one is itself, more are their conjunction.
    pub fn all(mut conditions: Vec<Condition>) -> Option<Self> {
        match conditions.len() {
            0 | 1 => conditions.pop(),
            _ => Some(Self::And(conditions)),
        }
    }

    /// Optimistic locking: the item's `version` attribute equals `version`.
    pub fn version_is(version: u64) -> Self {
        Self::compare(VERSION_ATTRIBUTE, Comparison::Equal, version)
    }
}

/// The attribute every versioned entity keeps its optimistic-locking version in.
pub const VERSION_ATTRIBUTE: &str = "version";

/// Write a whole item, replacing any item with the same key.
#[derive(Clone, Debug, PartialEq)]
pub struct Put {
    /// The item, key attributes included.
    pub item: Item,
    pub condition: Option<Condition>,
}

/// Change some attributes of one item; creates the item when it does not exist and no condition
/// forbids it (DynamoDB's `UpdateItem`).
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub key: Key,
    /// Attributes set to a value.
    pub set: Vec<(String, Value)>,
    /// Attributes removed.
    pub remove: Vec<String>,
    /// Numeric attributes incremented (negative to decrement); a missing attribute counts as 0.
    pub add: Vec<(String, i64)>,
    pub condition: Option<Condition>,
    pub durability: Durability,
}

/// How soon a write must be on disk when the store acknowledges it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// On disk before the call returns: survives a crash right after (every entity write).
    #[default]
    Immediate,
    /// May reach the disk with a later write: a crash can lose it. Only for data whose loss is
    /// harmless and whose write is on a hot path, such as rate-limit counters. DynamoDB makes
    /// every write durable anyway; the embedded store skips the fsync.
    Relaxed,
}

impl Update {
    /// An update of `key` that changes nothing yet.
    pub fn new(key: Key) -> Self {
        Self {
            key,
            set: Vec::new(),
            remove: Vec::new(),
            add: Vec::new(),
            condition: None,
            durability: Durability::Immediate,
        }
    }
}

/// Remove one item.
#[derive(Clone, Debug, PartialEq)]
pub struct Delete {
    pub key: Key,
    pub condition: Option<Condition>,
}

/// One operation of a transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    Put(Put),
    Update(Update),
    Delete(Delete),
    /// Check a condition on an item without writing it.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl WriteOp {
    /// The key of the item this operation touches.
    pub fn key(&self) -> Option<Key> {
        match self {
            Self::Put(put) => Key::of(&put.item),
            Self::Update(update) => Some(update.key.clone()),
            Self::Delete(delete) => Some(delete.key.clone()),
            Self::Check { key, .. } => Some(key.clone()),
        }
    }
}

/// A condition on the sort key of a query (on the table's or the index's sort key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortCondition {
    Equal(String),
    Less(String),
    LessOrEqual(String),
    Greater(String),
    GreaterOrEqual(String),
    /// Inclusive on both ends.
    Between(String, String),
    BeginsWith(String),
}

/// Which way a query walks the sort key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

/// Read the items of one partition of the table or of a secondary index, in sort-key order.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// `None` queries the table itself.
    pub index: Option<Index>,
    /// The partition key value (of the index when `index` is set).
    pub partition: String,
    pub sort: Option<SortCondition>,
    pub order: Order,
    /// The most items to evaluate (1..=[`MAX_QUERY_LIMIT`]); applied before `filter`, as in
    /// DynamoDB, so a filtered page may hold fewer items.
    pub limit: u32,
    /// Resume after this key: the `last_evaluated_key` of the previous page.
    pub start_after: Option<Item>,
    /// Drops evaluated items that do not match; costs the same reads as keeping them.
    pub filter: Option<Condition>,
}

impl Query {
    /// A query of one partition, ascending, with the largest page.
    pub fn partition(index: Option<Index>, partition: impl Into<String>) -> Self {
        Self {
            index,
            partition: partition.into(),
            sort: None,
            order: Order::Ascending,
            limit: MAX_QUERY_LIMIT,
            start_after: None,
            filter: None,
        }
    }
}

/// One page of query results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when the query stopped at `limit`: the key attributes (table key, plus the index
    /// key when querying an index) of the last evaluated item. Pass it as `start_after`.
    pub last_evaluated_key: Option<Item>,
}

/// Why a store operation failed, in the categories callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition of a single-item write was not met; nothing was written.
    #[error("the condition of the write was not met")]
    ConditionFailed,
    /// A transaction was cancelled because the condition of operation `index` (0-based) was not
    /// met; nothing was written.
    #[error("the transaction was cancelled: the condition of operation {index} was not met")]
    TransactionConditionFailed { index: usize },
    /// A transaction collided with a concurrent one on the same items; nothing was written and
    /// retrying may succeed.
    #[error("the transaction conflicted with a concurrent transaction")]
    TransactionConflict,
    /// The store refused the request as malformed (for example an item over the size limit).
    #[error("the store rejected the request as invalid: {0}")]
    Invalid(String),
    /// The store is shedding load (throttling, capacity exceeded); retry later.
    #[error("the store is throttling requests")]
    Throttled(#[source] BoxError),
    /// The store could not be reached or did not answer in time.
    #[error("the store could not be reached")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug, corrupt data, an unexpected answer.
    #[error("the store failed unexpectedly")]
    Internal(#[source] BoxError),
}

impl StoreError {
    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }
}

/// The port every use case stores data through.
///
/// All writes are atomic per call. Reads are strongly consistent on the table and eventually
/// consistent on indexes (as in DynamoDB; the embedded adapter happens to be consistent on both).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads one item by key.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Writes one item; [`StoreError::ConditionFailed`] when the condition does not hold.
    async fn put(&self, put: Put) -> Result<(), StoreError>;

    /// Updates one item and returns it as it is after the update.
    async fn update(&self, update: Update) -> Result<Item, StoreError>;

    /// Deletes one item and returns it as it was, if it existed.
    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError>;

    /// Applies up to [`MAX_TRANSACTION_OPERATIONS`] operations on distinct items, all or none.
    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Reads one page of a partition of the table or of an index.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// Checks that the store answers (for the health endpoint).
    async fn check_health(&self) -> Result<(), StoreError>;
}

/// Every item `query` matches, page after page: for reads whose result is bounded by the data
/// itself (a car's days in a range, the contracts due a reminder), never for a list a client pages
/// through.
pub async fn query_all(store: &dyn Store, mut query: Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    loop {
        let page = store.query(query.clone()).await?;
        items.extend(page.items);
        match page.last_evaluated_key {
            Some(next) => query.start_after = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_of_no_condition_is_none_one_is_itself_and_more_are_their_conjunction() {
        assert_eq!(Condition::all(Vec::new()), None);
        assert_eq!(
            Condition::all(vec![Condition::ItemExists]),
            Some(Condition::ItemExists)
        );
        let two = vec![Condition::ItemExists, Condition::version_is(3)];
        assert_eq!(Condition::all(two.clone()), Some(Condition::And(two)));
    }
}
