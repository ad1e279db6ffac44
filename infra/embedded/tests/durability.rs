//! Durability of the embedded store: an acknowledged write survives the process being killed
//! with SIGKILL, and data survives closing and reopening the store.
//!
//! The crash test re-runs this test binary as a child (selected by an environment variable and
//! the test-name filter) that writes items one by one and prints an acknowledgement after each
//! write returns. The parent kills it mid-stream, reopens the file and looks for every
//! acknowledged item: none may be lost, because a write is only acknowledged after redb commits
//! it with immediate durability.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use itinera::storage::{Index, Item, Key, Put, Query, Store};
use itinera_embedded::EmbeddedStore;
use serde_json::{Value, json};

/// Set in the child: the directory to write the store in.
const CHILD_DIR_VARIABLE: &str = "ITINERA_DURABILITY_CHILD_DIR";
/// The name of the crash test, which the child is started with as its filter.
const CRASH_TEST: &str = "acknowledged_writes_survive_kill_9";
/// The child stops on its own after this many writes, so it ends even if nobody kills it.
const CHILD_MAX_WRITES: u64 = 20_000;
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

/// The child's side: write until killed (or until the bound), acknowledging each write.
fn write_until_killed(dir: &Path) {
    let store = EmbeddedStore::open(dir).expect("the child opens the store");
    let stdout = std::io::stdout();
    runtime().block_on(async {
        for n in 0..CHILD_MAX_WRITES {
            let put = Put {
                item: numbered_item(n),
                condition: None,
            };
            store.put(put).await.expect("the child's write succeeds");
            let mut out = stdout.lock();
            writeln!(out, "{ACK_MARKER}{n}").expect("the parent reads acknowledgements");
            out.flush().expect("the parent reads acknowledgements");
        }
    });
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_VARIABLE) {
        write_until_killed(Path::new(&dir));
        return;
    }

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([CRASH_TEST, "--exact", "--nocapture", "--test-threads=1"])
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
            if let Some((_, n)) = line.split_once(ACK_MARKER)
                && let Ok(n) = n.trim().parse::<u64>()
                && sender.send(n).is_err()
            {
                break;
            }
        }
    });

    let deadline = Instant::now() + ACK_TIMEOUT;
    let mut acknowledged: Option<u64> = None;
    while acknowledged.is_none_or(|n| n + 1 < ACKS_BEFORE_KILL) {
        let left = deadline.saturating_duration_since(Instant::now());
        match acks.recv_timeout(left) {
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

    // SIGKILL: no destructors, no flushing, nothing but what redb already made durable.
    child.kill().expect("the child is killed");
    let status = child.wait().expect("the child is reaped");
    assert!(
        !status.success(),
        "the child was killed mid-stream, not finished: {status}"
    );
    // Acknowledgements the child printed before dying count too: they were acknowledged.
    reader
        .join()
        .expect("the reader thread ends with the child's stdout");
    let last = acks.try_iter().fold(acknowledged.unwrap_or(0), u64::max);

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
