//! Group commit: one thread owns a redb file's write transactions and commits concurrent writes
//! together, so that many requests share one `fsync`. The store and the queue each run one.
//!
//! Why: redb runs one write transaction at a time and a durable commit costs an `fsync` (0.2 to
//! 0.3 ms on the benchmark disk), so one transaction per write caps writes at a few thousand per
//! second whatever the rest of the code does. Here every write is a [`Pending`] request sent to
//! the writer thread. The thread takes whatever is queued (up to [`MAX_BATCH`]), and in one redb
//! transaction lets each request decide against the state left by the ones before it and apply
//! its changes, commits once (syncing when any request of the batch needs immediate durability),
//! and only then answers every request of the batch. A request is therefore never answered before
//! the commit that covers its write.
//!
//! A request whose condition fails is rejected alone: a request first decides (reads and checks
//! everything, computes every new item and encodes it) and writes nothing until it has decided,
//! so a rejection leaves no partial write and needs no savepoint. Only an error of redb itself
//! while applying or committing can fail a batch; then the transaction is aborted and every
//! request of the batch is answered with that error, so nothing of it is half-applied.
//!
//! There is no waiting for a batch to fill: while one batch commits, the next one queues up,
//! so batches grow with the load and a lone request commits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use redb::{Database, Durability, WriteTransaction};

/// The most requests one transaction commits. Bounds the time a batch holds its answers back
/// and the memory of one transaction; far above what the benchmarks' 32 clients ever queue.
pub(crate) const MAX_BATCH: usize = 256;

/// The tables of one redb file that its writes work on, opened once per batch.
pub(crate) trait Schema: 'static {
    /// The open tables of one write transaction.
    type Tables<'txn>;
    /// What opening the tables or applying a write fails with.
    type Error: std::fmt::Display;

    fn open(txn: &WriteTransaction) -> Result<Self::Tables<'_>, Self::Error>;
}

/// One write waiting for the writer thread.
pub(crate) trait Pending<S: Schema>: Send {
    /// Whether the request must be on disk when answered (anything but a relaxed write).
    fn durable(&self) -> bool;

    /// Decides against the batch's tables and, when the request is accepted, applies its changes.
    /// `Err` is a failure of redb itself while writing and fails the whole batch; a rejection of
    /// the request (a failed condition, an invalid item) is kept for [`Pending::answer`] and
    /// returns `Ok`, having written nothing.
    fn apply(&mut self, tables: &mut S::Tables<'_>) -> Result<Applied, S::Error>;

    /// Answers the caller once the batch is committed (`Ok`), or failed (`Err`, the reason).
    fn answer(self: Box<Self>, batch: Result<(), &str>);
}

/// Whether an accepted request wrote anything (a rejected or read-only one did not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    Wrote,
    Nothing,
}

/// Counts of what the writer committed, for tests and for its closing log line.
#[derive(Debug, Default)]
pub(crate) struct BatchStats {
    /// Requests handed to the writer, answered or not.
    submitted: AtomicU64,
    batches: AtomicU64,
    /// Batches that wrote something and were committed (the others were rolled back).
    commits: AtomicU64,
    requests: AtomicU64,
    largest: AtomicU64,
    /// Batches by size: bucket `i` counts the batches of `2^i` to `2^(i+1) - 1` requests.
    sizes: [AtomicU64; SIZE_BUCKETS],
}

/// Enough power-of-two buckets for sizes up to [`MAX_BATCH`].
const SIZE_BUCKETS: usize = 9;

impl BatchStats {
    fn record(&self, size: usize) {
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(size, Ordering::Relaxed);
        self.largest.fetch_max(size, Ordering::Relaxed);
        let bucket = usize::try_from(size.max(1).ilog2()).unwrap_or(usize::MAX);
        self.sizes[bucket.min(SIZE_BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
    }

    /// The batch size histogram as text: `1:120 2-3:40 4-7:9 ...`, empty buckets left out.
    pub(crate) fn histogram(&self) -> String {
        let mut text = String::new();
        for (bucket, count) in self.sizes.iter().enumerate() {
            let count = count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let (low, high) = (1u64 << bucket, (1u64 << (bucket + 1)) - 1);
            if !text.is_empty() {
                text.push(' ');
            }
            if low == high {
                text.push_str(&format!("{low}:{count}"));
            } else {
                text.push_str(&format!("{low}-{high}:{count}"));
            }
        }
        text
    }

    /// `(batches, requests, largest batch)` committed so far.
    pub(crate) fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.batches.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
            self.largest.load(Ordering::Relaxed),
        )
    }

    /// Batches committed so far: the ones that wrote anything and did not fail.
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Requests handed to the writer so far, committed or still queued.
    #[cfg(test)]
    pub(crate) fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Relaxed)
    }
}

/// The handle of the writer thread: sends it requests, and on drop lets it finish what is queued
/// and waits for it, so that the database file is closed when the last store handle is gone.
pub(crate) struct Writer<S: Schema> {
    requests: Option<Sender<Box<dyn Pending<S>>>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<BatchStats>,
}

impl<S: Schema> Writer<S> {
    /// Starts the writer thread on `db`, named `name` (what a profile or a panic shows).
    pub(crate) fn start(db: Arc<Database>, name: &'static str) -> std::io::Result<Self> {
        let (requests, queue) = mpsc::channel();
        let stats = Arc::new(BatchStats::default());
        let thread = std::thread::Builder::new().name(name.into()).spawn({
            let stats = Arc::clone(&stats);
            move || run(name, &db, &queue, &stats)
        })?;
        Ok(Self {
            requests: Some(requests),
            thread: Some(thread),
            stats,
        })
    }

    /// Queues `request`; it is answered through its own reply channel.
    /// `Err` when the writer thread has stopped (only while the last handle is being dropped,
    /// or after the thread panicked outside a request).
    pub(crate) fn submit(&self, request: Box<dyn Pending<S>>) -> Result<(), WriterStopped> {
        self.requests
            .as_ref()
            .and_then(|requests| requests.send(request).ok())
            .ok_or(WriterStopped)?;
        self.stats.submitted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn stats(&self) -> &BatchStats {
        &self.stats
    }
}

/// The writer thread no longer takes requests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WriterStopped;

impl<S: Schema> Drop for Writer<S> {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop once the queued requests are answered.
        drop(self.requests.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("a writer thread panicked");
        }
    }
}

fn run<S: Schema>(
    name: &str,
    db: &Database,
    queue: &Receiver<Box<dyn Pending<S>>>,
    stats: &BatchStats,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let outcome = commit::<S>(db, &mut batch);
        if outcome == Ok(Committed::Yes) {
            stats.commits.fetch_add(1, Ordering::Relaxed);
        }
        stats.record(batch.len());
        tracing::trace!(
            requests = batch.len(),
            ok = outcome.is_ok(),
            writer = name,
            "committed a write batch"
        );
        if let Err(error) = &outcome {
            tracing::error!(requests = batch.len(), %error, writer = name, "a write batch failed");
        }
        let outcome = outcome.as_ref().map(|_| ()).map_err(String::as_str);
        for request in batch {
            request.answer(outcome);
        }
    }
    let (batches, requests, largest) = stats.snapshot();
    tracing::debug!(
        batches,
        requests,
        largest,
        sizes = %stats.histogram(),
        writer = name,
        "writer stopped"
    );
}

/// Whether a batch was committed, or rolled back because nothing of it wrote anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Committed {
    Yes,
    NothingToCommit,
}

/// Applies the batch in one transaction and commits it: with an `fsync` when any request needs
/// it, without when all are relaxed, and not at all when nothing was written.
fn commit<S: Schema>(
    db: &Database,
    batch: &mut [Box<dyn Pending<S>>],
) -> Result<Committed, String> {
    let mut txn = db.begin_write().map_err(|error| error.to_string())?;
    let durability = if batch.iter().any(|request| request.durable()) {
        Durability::Immediate
    } else {
        Durability::None
    };
    txn.set_durability(durability)
        .map_err(|error| error.to_string())?;
    let applied = S::open(&txn).and_then(|mut tables| {
        let mut wrote = false;
        for request in batch.iter_mut() {
            wrote |= request.apply(&mut tables)? == Applied::Wrote;
        }
        Ok(wrote)
    });
    match applied {
        Ok(true) => txn
            .commit()
            .map(|()| Committed::Yes)
            .map_err(|error| error.to_string()),
        // Every request was rejected or wrote nothing: there is nothing to make durable.
        Ok(false) => txn
            .abort()
            .map(|()| Committed::NothingToCommit)
            .map_err(|error| error.to_string()),
        Err(error) => {
            // Nothing of the batch is answered as written, so nothing of it may stay.
            txn.abort().map_err(|error| error.to_string())?;
            Err(error.to_string())
        }
    }
}

/// What the tests of both writers use to make a batch deterministic: hold the writer thread
/// inside a first request until the requests under test are queued, then let it go, so that it
/// takes them all at once.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::BatchStats;

    /// Kept inside the holding request: [`Gate::hold`] blocks the writer thread there.
    pub(crate) struct Gate {
        started: mpsc::Sender<()>,
        released: mpsc::Receiver<()>,
    }

    impl Gate {
        /// Tells the test the writer is held, then waits for a release (or the test dropping it).
        pub(crate) fn hold(self) {
            self.started
                .send(())
                .expect("the test waits for the holder");
            let _ = self.released.recv();
        }
    }

    /// The test's side of a [`Gate`].
    pub(crate) struct Holding {
        started: mpsc::Receiver<()>,
        release: mpsc::Sender<()>,
    }

    impl Holding {
        /// Waits until the writer is inside the holding request; sending to (or dropping) the
        /// answer releases it.
        pub(crate) async fn until_held(self) -> mpsc::Sender<()> {
            let started = self.started;
            tokio::task::spawn_blocking(move || started.recv_timeout(Duration::from_secs(10)))
                .await
                .expect("the wait ends")
                .expect("the writer starts the holding request");
            self.release
        }
    }

    pub(crate) fn gate() -> (Gate, Holding) {
        let (started, is_started) = mpsc::channel();
        let (release, released) = mpsc::channel();
        (
            Gate { started, released },
            Holding {
                started: is_started,
                release,
            },
        )
    }

    /// Waits until `count` requests were handed to the writer whose `stats` these are.
    pub(crate) async fn wait_until_submitted(stats: &BatchStats, count: u64) {
        for _ in 0..2000 {
            if stats.submitted() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("only {} requests reached the writer", stats.submitted());
    }
}
