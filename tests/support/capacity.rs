//! What a request costs on DynamoDB: a store decorator that records every port call with the
//! operation the DynamoDB adapter turns it into and the capacity DynamoDB bills for it.
//!
//! The adapter (`infra/aws/src/dynamodb/store.rs`) maps each port call to one request: `get` is a
//! strongly consistent `GetItem`, `query` a `Query` (strongly consistent on the table, eventually
//! consistent on an index), `put` / `update` / `delete` a `PutItem` / `UpdateItem` (returning
//! `ALL_NEW`) / `DeleteItem` (returning `ALL_OLD`), `transact` one `TransactWriteItems`. The
//! recorder applies DynamoDB's billing rules ([`BILLING_RULES`]) to the items involved, which it
//! reads from the store it wraps before and after each write (those reads are its own and are not
//! recorded). Run it around the embedded store in a sequential scenario: under concurrency another
//! request's write could land between a write and the recorder's look at it.
//!
//! Item sizes follow DynamoDB's rules on the item as the adapter marshals it (one attribute per
//! JSON field, numbers as `N`, objects as maps, arrays as lists): see [`item_size`].

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use itinera::storage::{
    Delete, Index, Item, Key, Page, Put, Query, Store, StoreError, Update, WriteOp,
};
use serde_json::{Value, json};

/// The billing rules the recorder applies, as the generated document states them.
pub const BILLING_RULES: &[&str] = &[
    "Item size: the sum, over the attributes, of the name's UTF-8 length and the value's size: a string its UTF-8 length, a number 1 byte per two significant digits plus 1, a boolean or null 1 byte, a list or map 3 bytes plus 1 byte per element plus its elements (a map's with their names).",
    "GetItem (strongly consistent, as the adapter always asks): 1 RCU per 4 KB of the item, rounded up; a missing item still costs 1 RCU.",
    "Query: the sizes of every item evaluated (a filter drops items after they are read and billed) are summed and rounded up to 4 KB; 1 RCU per 4 KB on the table (strongly consistent), 0.5 RCU on an index (eventually consistent); an empty answer still costs one unit.",
    "PutItem, UpdateItem, DeleteItem: 1 WCU per 1 KB of the larger of the item before and after, rounded up (at least 1); a write whose condition fails still costs it. ReturnValues (ALL_NEW, ALL_OLD) is free.",
    "TransactWriteItems: every action costs 2 WCU per 1 KB of the larger of its item before and after (a prepare and a commit write), ConditionCheck included (billed as a transactional write of the checked item). A cancelled transaction is counted at the same price, without index writes.",
    "Global secondary indexes (projection ALL, so an index entry is the whole item plus 100 bytes): a write that puts an item into an index costs 1 WCU per 1 KB of the entry, one that removes it likewise, one that changes the index key 2 writes (delete and put), one that changes other attributes of an indexed item 1 write; an item in no index costs nothing there. Index writes are not doubled by transactions.",
];

/// The read capacity unit in bytes.
const READ_UNIT: u64 = 4096;
/// The write capacity unit in bytes.
const WRITE_UNIT: u64 = 1024;
/// What an index entry adds to the projected attributes.
const INDEX_ENTRY_OVERHEAD: u64 = 100;

/// The DynamoDB size of a value (without its attribute name).
pub fn value_size(value: &Value) -> u64 {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(text) => text.len() as u64,
        Value::Number(number) => number_size(&number.to_string()),
        Value::Array(values) => {
            3 + values
                .iter()
                .map(|value| 1 + value_size(value))
                .sum::<u64>()
        }
        Value::Object(map) => {
            3 + map
                .iter()
                .map(|(name, value)| 1 + name.len() as u64 + value_size(value))
                .sum::<u64>()
        }
    }
}

/// One byte per two significant digits, plus one.
fn number_size(text: &str) -> u64 {
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.div_ceil(2) + 1
}

/// The DynamoDB size of an item: every attribute's name and value.
pub fn item_size(item: &Item) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_size(value))
        .sum()
}

fn write_units(bytes: u64) -> u64 {
    bytes.div_ceil(WRITE_UNIT).max(1)
}

/// One DynamoDB request a port call became, with what it reads and writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// `GetItem`, `Query`, `PutItem`, `UpdateItem`, `DeleteItem` or `TransactWriteItems`.
    pub call: &'static str,
    /// The items it addresses: `Action key` per action of a transaction, the key of a single-item
    /// call, the index and partition of a query; ids in keys are replaced by their kind
    /// ([`key_shape`]).
    pub targets: Vec<String>,
    /// Items a query returned (after its filter) and evaluated (before it).
    pub items: Option<(usize, usize)>,
    /// Whether the store refused it on a condition.
    pub condition_failed: bool,
    /// Read capacity in half units (a strongly consistent read of 4 KB is 2).
    pub read_half_units: u64,
    /// Write capacity units on the table.
    pub table_write_units: u64,
    /// Write capacity units on the indexes.
    pub index_write_units: u64,
    /// Bytes read (gets, queries) or the largest before/after sizes written (writes).
    pub bytes: u64,
}

impl Operation {
    /// Every write capacity unit: the table's and the indexes'.
    pub fn write_units(&self) -> u64 {
        self.table_write_units + self.index_write_units
    }

    /// One line: the call and what it addresses.
    pub fn summary(&self) -> String {
        let mut line = match self.call {
            "TransactWriteItems" => format!(
                "TransactWriteItems({}: {})",
                self.targets.len(),
                self.targets.join(", ")
            ),
            call => format!("{call} {}", self.targets.join(", ")),
        };
        if let Some((returned, evaluated)) = self.items {
            if returned == evaluated {
                line.push_str(&format!(" ({returned} items)"));
            } else {
                line.push_str(&format!(" ({returned} of {evaluated} items)"));
            }
        }
        if self.condition_failed {
            line.push_str(" [condition failed]");
        }
        line
    }

    /// The operation as the machine-readable figures hold it.
    pub fn to_json(&self) -> Value {
        json!({
            "call": self.call,
            "targets": self.targets,
            "items": self.items.map(|(returned, evaluated)| json!({"returned": returned, "evaluated": evaluated})),
            "conditionFailed": self.condition_failed,
            "rcu": half_units(self.read_half_units),
            "wcu": self.table_write_units,
            "indexWcu": self.index_write_units,
            "bytes": self.bytes,
        })
    }
}

/// Half units as a JSON number: whole when they are whole.
pub fn half_units(halves: u64) -> Value {
    if halves.is_multiple_of(2) {
        json!(halves / 2)
    } else {
        json!(halves as f64 / 2.0)
    }
}

/// Half units as the document writes them (`1`, `0.5`, `2.5`).
pub fn format_half_units(halves: u64) -> String {
    if halves.is_multiple_of(2) {
        (halves / 2).to_string()
    } else {
        format!("{}.5", halves / 2)
    }
}

/// A key with the parts that change from run to run replaced by what they are: `{id}` for a
/// UUID, `{at}` for a timestamp, `{n}` for a number, `{hash}` for a hex digest. Parts are what
/// `#` separates, and within them what `:` separates (`account:user:<id>`), except timestamps.
pub fn key_shape(key: &Key) -> String {
    format!("{}|{}", shape(&key.pk), shape(&key.sk))
}

fn shape(text: &str) -> String {
    text.split('#')
        .map(|part| {
            if chrono::DateTime::parse_from_rfc3339(part).is_ok() {
                return "{at}".to_owned();
            }
            part.split(':')
                .map(|piece| {
                    if uuid::Uuid::try_parse(piece).is_ok() {
                        "{id}"
                    } else if !piece.is_empty() && piece.chars().all(|c| c.is_ascii_digit()) {
                        "{n}"
                    } else if piece.len() == 64 && piece.chars().all(|c| c.is_ascii_hexdigit()) {
                        "{hash}"
                    } else {
                        piece
                    }
                })
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect::<Vec<_>>()
        .join("#")
}

/// The index entry key of `item` in `index`, when it is in it.
fn index_key(item: &Item, index: Index) -> Option<(&Value, &Value)> {
    Some((
        item.get(index.partition_key())?,
        item.get(index.sort_key())?,
    ))
}

/// The index write units a write that turns `before` into `after` costs.
fn index_write_units(before: Option<&Item>, after: Option<&Item>) -> u64 {
    let entry = |item: &Item| write_units(item_size(item) + INDEX_ENTRY_OVERHEAD);
    Index::ALL
        .into_iter()
        .map(|index| {
            let old = before.and_then(|item| index_key(item, index).map(|key| (item, key)));
            let new = after.and_then(|item| index_key(item, index).map(|key| (item, key)));
            match (old, new) {
                (None, None) => 0,
                (Some((item, _)), None) | (None, Some((item, _))) => entry(item),
                (Some((old, old_key)), Some((new, new_key))) if old_key != new_key => {
                    entry(old) + entry(new)
                }
                (Some((old, _)), Some((new, _))) if old == new => 0,
                (Some((old, _)), Some((new, _))) => {
                    write_units(item_size(old).max(item_size(new)) + INDEX_ENTRY_OVERHEAD)
                }
            }
        })
        .sum()
}

/// The `Store` port around another store, recording each call as the DynamoDB operation it
/// becomes and what DynamoDB would bill for it.
pub struct RecordingStore {
    inner: Arc<dyn Store>,
    recorded: Mutex<Vec<Operation>>,
}

impl RecordingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            recorded: Mutex::default(),
        }
    }

    /// The operations recorded since the last call, in order.
    pub fn take(&self) -> Vec<Operation> {
        std::mem::take(&mut *self.recorded.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, operation: Operation) {
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(operation);
    }

    /// The item as it is now, read without recording.
    async fn current(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    /// A single-item write from `before` to `after` (`None` after a failed condition).
    fn single_write(
        call: &'static str,
        key: &Key,
        before: Option<&Item>,
        after: Option<&Item>,
        attempted: Option<&Item>,
        condition_failed: bool,
    ) -> Operation {
        let bytes = [before, after, attempted]
            .into_iter()
            .flatten()
            .map(item_size)
            .max()
            .unwrap_or(0);
        Operation {
            call,
            targets: vec![key_shape(key)],
            items: None,
            condition_failed,
            read_half_units: 0,
            table_write_units: write_units(bytes),
            index_write_units: if condition_failed {
                0
            } else {
                index_write_units(before, after)
            },
            bytes,
        }
    }
}

fn failed_on_condition<T>(result: &Result<T, StoreError>) -> bool {
    matches!(
        result,
        Err(StoreError::ConditionFailed | StoreError::TransactionConditionFailed { .. })
    )
}

#[async_trait]
impl Store for RecordingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let item = self.inner.get(key).await?;
        let bytes = item.as_ref().map_or(0, item_size);
        self.record(Operation {
            call: "GetItem",
            targets: vec![key_shape(key)],
            items: None,
            condition_failed: false,
            read_half_units: 2 * bytes.div_ceil(READ_UNIT).max(1),
            table_write_units: 0,
            index_write_units: 0,
            bytes,
        });
        Ok(item)
    }

    async fn put(&self, put: Put) -> Result<(), StoreError> {
        let key = Key::of(&put.item)
            .ok_or_else(|| StoreError::Invalid("an item without its key".into()))?;
        let before = self.current(&key).await?;
        let attempted = put.item.clone();
        let result = self.inner.put(put).await;
        let failed = failed_on_condition(&result);
        if result.is_ok() || failed {
            let after = result.is_ok().then_some(&attempted);
            self.record(Self::single_write(
                "PutItem",
                &key,
                before.as_ref(),
                after,
                Some(&attempted),
                failed,
            ));
        }
        result
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        let key = update.key.clone();
        let before = self.current(&key).await?;
        let result = self.inner.update(update).await;
        let failed = failed_on_condition(&result);
        if let Ok(after) = &result {
            self.record(Self::single_write(
                "UpdateItem",
                &key,
                before.as_ref(),
                Some(after),
                None,
                false,
            ));
        } else if failed {
            self.record(Self::single_write(
                "UpdateItem",
                &key,
                before.as_ref(),
                None,
                None,
                true,
            ));
        }
        result
    }

    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError> {
        let key = delete.key.clone();
        let before = self.current(&key).await?;
        let result = self.inner.delete(delete).await;
        let failed = failed_on_condition(&result);
        if result.is_ok() || failed {
            self.record(Self::single_write(
                "DeleteItem",
                &key,
                before.as_ref(),
                None,
                None,
                failed,
            ));
        }
        result
    }

    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError> {
        let mut actions = Vec::with_capacity(operations.len());
        for operation in &operations {
            let Some(key) = operation.key() else {
                return self.inner.transact(operations).await;
            };
            let (action, attempted) = match operation {
                WriteOp::Put(put) => ("Put", Some(put.item.clone())),
                WriteOp::Update(_) => ("Update", None),
                WriteOp::Delete(_) => ("Delete", None),
                WriteOp::Check { .. } => ("ConditionCheck", None),
            };
            let before = self.current(&key).await?;
            actions.push((action, key, before, attempted));
        }
        let result = self.inner.transact(operations).await;
        let failed = failed_on_condition(&result);
        if result.is_err() && !failed {
            return result;
        }
        let mut operation = Operation {
            call: "TransactWriteItems",
            targets: Vec::new(),
            items: None,
            condition_failed: failed,
            read_half_units: 0,
            table_write_units: 0,
            index_write_units: 0,
            bytes: 0,
        };
        for (action, key, before, attempted) in actions {
            let after = if result.is_ok() && action != "ConditionCheck" {
                self.current(&key).await?
            } else {
                before.clone()
            };
            let bytes = [before.as_ref(), after.as_ref(), attempted.as_ref()]
                .into_iter()
                .flatten()
                .map(item_size)
                .max()
                .unwrap_or(0);
            operation
                .targets
                .push(format!("{action} {}", key_shape(&key)));
            operation.table_write_units += 2 * write_units(bytes);
            if result.is_ok() && action != "ConditionCheck" {
                operation.index_write_units += index_write_units(before.as_ref(), after.as_ref());
            }
            operation.bytes += bytes;
        }
        self.record(operation);
        result
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let target = match query.index {
            Some(index) => format!("{} {}", index.name(), shape(&query.partition)),
            None => format!("table {}", shape(&query.partition)),
        };
        let index = query.index;
        // What the query evaluates: the same page without its filter.
        let evaluated = match &query.filter {
            Some(_) => {
                let mut unfiltered = query.clone();
                unfiltered.filter = None;
                Some(self.inner.query(unfiltered).await?.items)
            }
            None => None,
        };
        let page = self.inner.query(query).await?;
        let evaluated = evaluated.as_ref().unwrap_or(&page.items);
        let bytes: u64 = evaluated.iter().map(item_size).sum();
        let units = bytes.div_ceil(READ_UNIT).max(1);
        self.record(Operation {
            call: "Query",
            targets: vec![target],
            items: Some((page.items.len(), evaluated.len())),
            condition_failed: false,
            // Strongly consistent on the table, eventually (half price) on an index.
            read_half_units: if index.is_some() { units } else { 2 * units },
            table_write_units: 0,
            index_write_units: 0,
            bytes,
        });
        Ok(page)
    }

    async fn check_health(&self) -> Result<(), StoreError> {
        self.inner.check_health().await
    }
}
