//! Durability of the embedded store and queue: an acknowledged write (or send) survives the
//! process being killed with SIGKILL, and data survives closing and reopening.
//!
//! Each crash test re-runs this test binary as a child (selected by an environment variable and
//! the test-name filter) that writes items (or sends messages) one by one and prints an
//! acknowledgement after each call returns. The parent kills it mid-stream, reopens the file and
//! looks for everything acknowledged: nothing may be lost, because a call is only acknowledged
//! after redb commits it with immediate durability. The store's writes are group-committed, so a
//! third crash test kills a child in which 32 writers run transactions at once: every
//! acknowledged transaction must be there, and no transaction may be there in part.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use itinera::jobs::{JobQueue, JobSource, MAX_BATCH, QueueMessage};
use itinera::storage::{Condition, Index, Item, Key, Put, Query, Store, Update, WriteOp};
use itinera_embedded::{EmbeddedQueue, EmbeddedStore};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Set in the child: the directory to keep the store or queue in.
const CHILD_DIR_VARIABLE: &str = "ITINERA_DURABILITY_CHILD_DIR";
/// The names of the crash tests, which a child is started with as its filter.
const STORE_CRASH_TEST: &str = "acknowledged_writes_survive_kill_9";
const QUEUE_CRASH_TEST: &str = "acknowledged_sends_survive_kill_9";
const CONCURRENT_CRASH_TEST: &str = "acknowledged_transactions_of_32_writers_survive_kill_9";
/// The writers of the concurrent crash test: as many as the benchmarks' clients.
const WRITERS: u64 = 32;
/// The child stops on its own after this many calls, so it ends even if nobody kills it.
const CHILD_MAX_CALLS: u64 = 20_000;
/// How many acknowledgements the parent waits for before killing the child.
const ACKS_BEFORE_KILL: u64 = 200;
/// The most the parent waits for them.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Marks an acknowledgement line; searched anywhere in a line, because the test harness prints
/// the test name without a line break before the child's first output.
const ACK_MARKER: &str = "durably-acknowledged:";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn numbered_item(n: u64) -> Item {
    let value = json!({
        "pk": format!("ITEM#{n:06}"),
        "sk": "META",
        "gsi1pk": "DURABILITY",
        "gsi1sk": format!("{n:06}"),
        "seq": n,
        // Enough payload that a write spans more than one page now and then.
        "payload": "x".repeat(512 + (n as usize % 7) * 1024),
    });
    match value {
        Value::Object(item) => item,
        _ => unreachable!("a JSON object literal"),
    }
}

/// The child's side: prints that call `n` returned, for the parent to read.
fn acknowledge(n: u64) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{ACK_MARKER}{n}").expect("the parent reads acknowledgements");
    out.flush().expect("the parent reads acknowledgements");
}

/// The store child's side: write until killed (or until the bound), acknowledging each write.
fn write_until_killed(dir: &Path) {
    let store = EmbeddedStore::open(dir).expect("the child opens the store");
    runtime().block_on(async {
        for n in 0..CHILD_MAX_CALLS {
            let put = Put {
                item: numbered_item(n),
                condition: None,
            };
            store.put(put).await.expect("the child's write succeeds");
            acknowledge(n);
        }
    });
}

/// The queue child's side: send until killed (or until the bound), acknowledging each send.
fn send_until_killed(dir: &Path) {
    let queue = EmbeddedQueue::open(dir).expect("the child opens the queue");
    runtime().block_on(async {
        for n in 0..CHILD_MAX_CALLS {
            let message = QueueMessage {
                id: n.to_string(),
                body: n.to_string(),
            };
            queue
                .send(vec![message])
                .await
                .expect("the child's send succeeds");
            acknowledge(n);
        }
    });
}

/// A writer's transaction `n` in the concurrent crash test: a new item, and one more in the
/// writer's counter. Both or neither must be found after a crash.
fn writer_transaction(writer: u64, n: u64) -> Vec<WriteOp> {
    let mut item = numbered_item(n);
    item.insert("pk".into(), json!(format!("WRITER#{writer:02}#{n:06}")));
    item.insert("gsi1pk".into(), json!(format!("WRITER#{writer:02}")));
    let mut count = Update::new(writer_counter(writer));
    count.add = vec![("count".into(), 1)];
    vec![
        WriteOp::Put(Put {
            item,
            condition: Some(Condition::ItemNotExists),
        }),
        WriteOp::Update(count),
    ]
}

fn writer_counter(writer: u64) -> Key {
    Key::new(format!("WRITER#{writer:02}"), "COUNTER")
}

/// The concurrent child's side: [`WRITERS`] tasks each run transactions one after another until
/// killed, acknowledging each as `<writer>-<n>`.
fn transact_until_killed(dir: &Path) {
    let store = EmbeddedStore::open(dir).expect("the child opens the store");
    runtime().block_on(async {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let store = store.clone();
                tokio::spawn(async move {
                    for n in 0..CHILD_MAX_CALLS / WRITERS {
                        store
                            .transact(writer_transaction(writer, n))
                            .await
                            .expect("the child's transaction succeeds");
                        let stdout = std::io::stdout();
                        let mut out = stdout.lock();
                        writeln!(out, "{ACK_MARKER}{writer}-{n}")
                            .and_then(|()| out.flush())
                            .expect("the parent reads acknowledgements");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("a writer ends");
        }
    });
}

/// Starts the crash test `test` as a child in a fresh directory, with a thread forwarding what
/// follows [`ACK_MARKER`] on each line of its output.
fn start_child(test: &str) -> (TempDir, Child, mpsc::Receiver<String>, JoinHandle<()>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_VARIABLE, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");

    // Lines are read on a thread so the wait for them is bounded.
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let (sender, acks) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some((_, ack)) = line.split_once(ACK_MARKER)
                && sender.send(ack.trim().to_owned()).is_err()
            {
                break;
            }
        }
    });
    (dir, child, acks, reader)
}

/// SIGKILL: no destructors, no flushing, nothing but what redb already made durable.
fn kill(child: &mut Child) {
    child.kill().expect("the child is killed");
    let status = child.wait().expect("the child is reaped");
    assert!(
        !status.success(),
        "the child was killed mid-stream, not finished: {status}"
    );
}

/// The parent's side: runs the crash test `test` as a child in a fresh directory, kills it with
/// SIGKILL once it has acknowledged [`ACKS_BEFORE_KILL`] calls, and answers the directory and the
/// last call the child acknowledged.
fn kill_child_mid_stream(test: &str) -> (TempDir, u64) {
    let (dir, mut child, acks, reader) = start_child(test);
    let parse = |ack: String| ack.parse::<u64>().expect("a call's number");

    let deadline = Instant::now() + ACK_TIMEOUT;
    let mut acknowledged: Option<u64> = None;
    while acknowledged.is_none_or(|n| n + 1 < ACKS_BEFORE_KILL) {
        let left = deadline.saturating_duration_since(Instant::now());
        match acks.recv_timeout(left).map(parse) {
            Ok(n) => {
                assert_eq!(
                    n,
                    acknowledged.map_or(0, |last| last + 1),
                    "acks arrive in order"
                );
                acknowledged = Some(n);
            }
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child stopped acknowledging after {acknowledged:?}: {error}");
            }
        }
    }

    kill(&mut child);
    // Acknowledgements the child printed before dying count too: they were acknowledged.
    reader
        .join()
        .expect("the reader thread ends with the child's stdout");
    let last = acks
        .try_iter()
        .map(parse)
        .fold(acknowledged.unwrap_or(0), u64::max);
    (dir, last)
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_VARIABLE) {
        write_until_killed(Path::new(&dir));
        return;
    }
    let (dir, last) = kill_child_mid_stream(STORE_CRASH_TEST);
    let store = EmbeddedStore::open(dir.path()).expect("the store reopens after a crash");
    runtime().block_on(async {
        for n in 0..=last {
            let expected = numbered_item(n);
            let key = Key::of(&expected).expect("numbered items have keys");
            let found = store.get(&key).await.expect("reads work after a crash");
            assert_eq!(
                found.as_ref(),
                Some(&expected),
                "acknowledged item {n} of {last}"
            );
        }
        // The index entries were committed with their items.
        let mut query = Query::partition(Some(Index::Gsi1), "DURABILITY");
        query.limit = 1000;
        let mut indexed = 0;
        loop {
            let page = store
                .query(query.clone())
                .await
                .expect("index queries work after a crash");
            indexed += page.items.len() as u64;
            match page.last_evaluated_key {
                Some(key) => query.start_after = Some(key),
                None => break,
            }
        }
        assert!(
            indexed > last,
            "{indexed} items indexed, {} acknowledged",
            last + 1
        );
    });
}

#[test]
fn acknowledged_sends_survive_kill_9() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_VARIABLE) {
        send_until_killed(Path::new(&dir));
        return;
    }
    let (dir, last) = kill_child_mid_stream(QUEUE_CRASH_TEST);

    let queue = EmbeddedQueue::open(dir.path()).expect("the queue reopens after a crash");
    let received = runtime().block_on(async {
        let mut received = Vec::new();
        loop {
            let batch = queue
                .receive(MAX_BATCH, Duration::from_secs(30))
                .await
                .expect("receives work after a crash");
            if batch.is_empty() {
                break received;
            }
            received.extend(batch.into_iter().map(|delivery| delivery.body));
        }
    });
    for n in 0..=last {
        assert_eq!(
            received.get(n as usize).map(String::as_str),
            Some(n.to_string().as_str()),
            "acknowledged message {n} of {last}, in order"
        );
    }
}

#[test]
fn data_survives_closing_and_reopening_the_store() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rt = runtime();
    {
        let store = EmbeddedStore::open(dir.path()).expect("the store opens");
        rt.block_on(store.put(Put {
            item: numbered_item(7),
            condition: None,
        }))
        .expect("the write succeeds");
        // The same file cannot be opened twice at once: the store holds it until dropped.
        assert!(EmbeddedStore::open(dir.path()).is_err());
    }
    let store = EmbeddedStore::open(dir.path()).expect("the store reopens once closed");
    let key = Key::new("ITEM#000007", "META");
    let found = rt.block_on(store.get(&key)).expect("the read succeeds");
    assert_eq!(found, Some(numbered_item(7)));
    rt.block_on(store.check_health())
        .expect("a reopened store is healthy");
}

#[test]
fn opening_creates_missing_directories() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let nested = dir.path().join("a").join("b");
    let store = EmbeddedStore::open(&nested).expect("the store opens in a new directory");
    assert!(nested.join(itinera_embedded::DATABASE_FILE_NAME).is_file());
    runtime()
        .block_on(store.check_health())
        .expect("a new store is healthy");
}

#[test]
fn acknowledged_transactions_of_32_writers_survive_kill_9() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_VARIABLE) {
        transact_until_killed(Path::new(&dir));
        return;
    }
    let (dir, mut child, acks, reader) = start_child(CONCURRENT_CRASH_TEST);
    // Per writer, how many of its transactions were acknowledged (they run one after another).
    let mut acknowledged: BTreeMap<u64, u64> = BTreeMap::new();
    let mut record = |ack: String| {
        let (writer, n) = ack.split_once('-').expect("an ack is <writer>-<n>");
        let (writer, n) = (writer.parse::<u64>().unwrap(), n.parse::<u64>().unwrap());
        let count = acknowledged.entry(writer).or_default();
        assert_eq!(*count, n, "writer {writer} acknowledges in order");
        *count = n + 1;
    };
    let deadline = Instant::now() + ACK_TIMEOUT;
    let mut received = 0;
    while received < ACKS_BEFORE_KILL * 4 {
        let left = deadline.saturating_duration_since(Instant::now());
        match acks.recv_timeout(left) {
            Ok(ack) => {
                record(ack);
                received += 1;
            }
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child stopped acknowledging after {received}: {error}");
            }
        }
    }
    kill(&mut child);
    reader
        .join()
        .expect("the reader thread ends with the child's stdout");
    acks.try_iter().for_each(&mut record);

    let store = EmbeddedStore::open(dir.path()).expect("the store reopens after a crash");
    runtime().block_on(async {
        for writer in 0..WRITERS {
            let acked = acknowledged.get(&writer).copied().unwrap_or(0);
            let mut query = Query::partition(Some(Index::Gsi1), format!("WRITER#{writer:02}"));
            query.limit = 1000;
            let mut found = Vec::new();
            loop {
                let page = store.query(query.clone()).await.expect("queries work");
                found.extend(
                    page.items
                        .iter()
                        .map(|item| item.get("seq").and_then(Value::as_u64).expect("a seq")),
                );
                match page.last_evaluated_key {
                    Some(key) => query.start_after = Some(key),
                    None => break,
                }
            }
            // Everything acknowledged, then at most the one transaction in flight when killed.
            let expected: Vec<u64> = (0..acked).collect();
            assert!(
                found.len() as u64 == acked || found.len() as u64 == acked + 1,
                "writer {writer}: {} items found, {acked} acknowledged",
                found.len()
            );
            assert_eq!(
                found[..acked as usize],
                expected[..],
                "writer {writer}: every acknowledged item, in order"
            );
            if let Some(&extra) = found.get(acked as usize) {
                assert_eq!(extra, acked, "writer {writer}: only its next transaction");
            }
            for &n in &found {
                assert_eq!(
                    store
                        .get(&Key::new(format!("WRITER#{writer:02}#{n:06}"), "META"))
                        .await
                        .expect("reads work")
                        .as_ref(),
                    Some(&{
                        let WriteOp::Put(put) = &writer_transaction(writer, n)[0] else {
                            unreachable!("the first operation is the put")
                        };
                        put.item.clone()
                    }),
                    "writer {writer}: item {n} whole"
                );
            }
            // The counter moved with exactly the items written: no transaction in part.
            let counter = store
                .get(&writer_counter(writer))
                .await
                .expect("reads work");
            let count = counter
                .as_ref()
                .and_then(|counter| counter.get("count"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            assert_eq!(
                count,
                found.len() as u64,
                "writer {writer}: the counter counts the items written"
            );
        }
    });
    let total: u64 = acknowledged.values().sum();
    assert!(
        total >= ACKS_BEFORE_KILL * 4,
        "{total} transactions acknowledged"
    );
}
