//! Every item an embedded store holds, read straight from its file, for tests that prove a run
//! of requests stored nothing: snapshot before, snapshot after, compare.
//!
//! The store port has no scan (no request path may scan), so the snapshot reads the redb file's
//! items table itself. redb allows one open handle per file, so the store must be closed (every
//! handle dropped, which stops its writer thread) before a snapshot is taken.

use std::collections::BTreeMap;
use std::path::Path;

use itinera::ratelimit::PARTITION_PREFIX;
use itinera::storage::Item;
use itinera_embedded::{DATABASE_FILE_NAME, QUEUE_FILE_NAME};
use redb::{Database, ReadOnlyDatabase, ReadableDatabase, ReadableTable, TableDefinition};

/// The embedded store's table of items: encoded key -> the item as JSON.
const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");

/// The embedded queue's table of messages: sequence number -> the message as JSON.
const MESSAGES: TableDefinition<u64, &[u8]> = TableDefinition::new("messages");

/// A message of the embedded queue as its file holds it.
#[derive(Clone, Debug)]
pub struct QueuedMessage {
    /// `main`, or `dead` once it was received too often without being deleted.
    pub lane: String,
    pub body: String,
    pub receive_count: u64,
}

/// Every message, received or not, of the closed embedded queue in `dir`. Opened for writing, as
/// the queue opens it, so that a file a killed process left open is repaired first.
pub fn embedded_messages(dir: &Path) -> Vec<QueuedMessage> {
    let path = dir.join(QUEUE_FILE_NAME);
    let db = Database::open(&path).unwrap_or_else(|error| {
        panic!("opening {} (is the queue closed?): {error}", path.display())
    });
    json_values(&db, MESSAGES, "message")
        .into_iter()
        .map(|message| {
            let text = |name: &str| {
                message[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("a message without `{name}`: {message}"))
                    .to_owned()
            };
            QueuedMessage {
                lane: text("lane"),
                body: text("body"),
                receive_count: message["receiveCount"].as_u64().expect("a receive count"),
            }
        })
        .collect()
}

/// Every item of the closed embedded store in `dir`, by `(pk, sk)`.
pub fn embedded_items(dir: &Path) -> BTreeMap<(String, String), Item> {
    let path = dir.join(DATABASE_FILE_NAME);
    let db = ReadOnlyDatabase::open(&path).unwrap_or_else(|error| {
        panic!("opening {} (is the store closed?): {error}", path.display())
    });
    json_values(&db, ITEMS, "item")
        .into_iter()
        .map(|value| {
            let item: Item = serde_json::from_value(value).expect("an item is a JSON object");
            let key_part = |name: &str| {
                item.get(name)
                    .and_then(|value| value.as_str())
                    .unwrap_or_else(|| panic!("an item without `{name}`: {item:?}"))
                    .to_owned()
            };
            ((key_part("pk"), key_part("sk")), item)
        })
        .collect()
}

/// Every value of `table` in the file `db` holds, decoded from its JSON (`what` names one in the
/// panics).
fn json_values<K: redb::Key + 'static>(
    db: &impl ReadableDatabase,
    table: TableDefinition<K, &[u8]>,
    what: &str,
) -> Vec<serde_json::Value> {
    let read = db.begin_read().expect("a read transaction");
    let table = read
        .open_table(table)
        .unwrap_or_else(|error| panic!("the {what} table: {error}"));
    table
        .iter()
        .unwrap_or_else(|error| panic!("iterating the {what}s: {error}"))
        .map(|entry| {
            let (_, value) = entry.unwrap_or_else(|error| panic!("a {what}: {error}"));
            serde_json::from_slice(value.value())
                .unwrap_or_else(|error| panic!("a {what} as JSON: {error}"))
        })
        .collect()
}

/// `items` without the rate limiter's counters, which every request counts in legitimately.
pub fn without_rate_counters(
    items: BTreeMap<(String, String), Item>,
) -> BTreeMap<(String, String), Item> {
    items
        .into_iter()
        .filter(|((pk, _), _)| !pk.starts_with(PARTITION_PREFIX))
        .collect()
}
