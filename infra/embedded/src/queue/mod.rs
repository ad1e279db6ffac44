//! The queue ports on redb: SQS's rules (visibility timeout, receive counts, a dead-letter queue
//! after [`MAX_RECEIVES`] receives) in one file, for local runs and tests without AWS.
//!
//! Why redb, as for the store: embedded, transactional, and durable on commit, so a send or a
//! delete that returned `Ok` survives a crash. Every operation runs on the queue's writer thread
//! (`group_commit`), which applies the operations queued at that moment in order inside one
//! write transaction and commits them with one `fsync`: concurrent sends, receives and deletes
//! share a sync, each is answered only after the commit that covers it, and two consumers can
//! never receive the same message at once. A batch in which nothing changed (receives that found
//! nothing visible: an idle worker's polls) is not committed, so polling costs no sync. The
//! queue's operations read and write as they go, so when one fails (only a failure of redb or a
//! damaged message can fail one; arguments are checked before it is queued) its whole batch is
//! rolled back and every operation of it answered with the error: none is half-applied.
//!
//! Layout (file `queue.redb`):
//! - `messages`: sequence number -> the message (lane, body, receive count, visible-at time).
//! - `visibility:main`, `visibility:dead`: `(visible-at ms, sequence number)` -> nothing, one
//!   entry per message of that lane. A receive walks the entries up to now: oldest visibility
//!   first, and send order within a millisecond, so the queue is roughly FIFO by visibility time.
//! - `sequence`: the next sequence number. It only grows, so a receipt can never name a later
//!   message that reused a deleted one's number.
//!
//! Receipts are `<lane>-<sequence number>-<receive count>`: each receive of a message gets a new
//! one, and only the latest deletes or releases it (see [`message::Receipt`]).

mod message;
#[cfg(test)]
mod tests;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use itinera::clock::{Clock, SystemClock};
use itinera::jobs::{
    Delivery, JobQueue, JobSource, MAX_BATCH, MAX_RECEIVES, QueueError, QueueMessage,
};
use redb::{Database, ReadableTable, Table, TableDefinition, WriteTransaction};
use tokio::sync::oneshot;

use self::message::{Lane, Receipt, StoredMessage};
use crate::group_commit::{Applied, Pending, Schema, Writer};

/// The file the queue keeps in its directory.
pub const QUEUE_FILE_NAME: &str = "queue.redb";

const MESSAGES: TableDefinition<u64, &[u8]> = TableDefinition::new("messages");
const VISIBILITY_MAIN: TableDefinition<(u64, u64), ()> = TableDefinition::new("visibility:main");
const VISIBILITY_DEAD: TableDefinition<(u64, u64), ()> = TableDefinition::new("visibility:dead");
const SEQUENCE: TableDefinition<&str, u64> = TableDefinition::new("sequence");
const NEXT_ID: &str = "next";

/// SQS's limits, kept here too so that what works locally works in AWS.
const MAX_BODY_BYTES: usize = 256 * 1024;
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// Why the queue could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedQueueError {
    #[error("could not create the queue directory {path}")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Also returned when another `EmbeddedQueue` (in this or another process) has the file open.
    #[error("could not open the queue file {path}")]
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

/// The job queue and its dead-letter queue in a redb file. Cheap to clone; every clone is the
/// same queue, and dropping the last one closes the file.
#[derive(Clone)]
pub struct EmbeddedQueue {
    /// Owns the file; dropping the last handle stops the writer thread and closes it.
    writer: Arc<Writer<QueueTables>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EmbeddedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedQueue").finish_non_exhaustive()
    }
}

impl EmbeddedQueue {
    /// Opens the queue in `dir` (creating the directory and the file `dir/queue.redb` when
    /// missing). Messages, receive counts and visibility survive closing and reopening.
    pub fn open(dir: &Path) -> Result<Self, EmbeddedQueueError> {
        std::fs::create_dir_all(dir).map_err(|source| EmbeddedQueueError::CreateDirectory {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(QUEUE_FILE_NAME);
        let db = Database::create(&path).map_err(|source| EmbeddedQueueError::Open {
            path: path.clone(),
            source,
        })?;
        create_tables(&db).map_err(|source| EmbeddedQueueError::CreateTables {
            path: path.clone(),
            source,
        })?;
        let writer = Writer::start(Arc::new(db), "queue-writer").map_err(|source| {
            EmbeddedQueueError::StartWriter {
                path: path.clone(),
                source,
            }
        })?;
        tracing::debug!(path = %path.display(), "opened the embedded queue");
        Ok(Self {
            writer: Arc::new(writer),
            clock: Arc::new(SystemClock),
        })
    }

    /// The queue reading time from `clock` instead of the system clock, so tests can move past a
    /// visibility timeout instead of waiting for it.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.now().timestamp_millis()).unwrap_or(0)
    }

    /// Runs `work` in the writer's next batch: committed (and on disk) with the operations queued
    /// beside it when it returns `Ok`; its whole batch rolled back when it fails.
    async fn write<T, F>(&self, work: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tables<'_>) -> Result<T, QueueError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.writer
            .submit(Box::new(Request {
                work: Some(work),
                outcome: None,
                reply,
            }))
            .map_err(|_| internal("the queue's writer has stopped"))?;
        answer
            .await
            .map_err(|_| internal("the queue's writer stopped before answering"))?
    }

    /// `(batches, operations, largest batch)` the writer has committed since the queue opened.
    pub fn write_batches(&self) -> (u64, u64, u64) {
        self.writer.stats().snapshot()
    }

    async fn receive_from(
        &self,
        lane: Lane,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        if !(1..=MAX_BATCH).contains(&max) {
            return Err(invalid(format!(
                "a receive takes 1 to {MAX_BATCH} messages, not {max}"
            )));
        }
        let hidden_for = milliseconds(visibility, "visibility timeout")?;
        let now = self.now_ms();
        self.write(move |tables| tables.receive(lane, max, now, hidden_for))
            .await
    }
}

fn create_tables(db: &Database) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    txn.open_table(MESSAGES)?;
    txn.open_table(VISIBILITY_MAIN)?;
    txn.open_table(VISIBILITY_DEAD)?;
    txn.open_table(SEQUENCE)?;
    txn.commit()?;
    Ok(())
}

fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> QueueError {
    QueueError::Internal(error.into())
}

/// A call the queue refuses, as SQS refuses it: the caller's bug, never a passing condition.
fn invalid(message: String) -> QueueError {
    QueueError::Internal(message.into())
}

/// `duration` in whole milliseconds, refused above SQS's twelve-hour limit.
fn milliseconds(duration: Duration, what: &str) -> Result<u64, QueueError> {
    if duration > MAX_VISIBILITY {
        return Err(invalid(format!(
            "a {what} is at most {} seconds, not {:?}",
            MAX_VISIBILITY.as_secs(),
            duration
        )));
    }
    Ok(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

fn parse_receipt(receipt: &str) -> Result<Receipt, QueueError> {
    Receipt::parse(receipt).ok_or_else(|| {
        invalid(format!(
            "{receipt:?} is not a receipt of the embedded queue"
        ))
    })
}

/// The queue's file as the writer thread sees it.
struct QueueTables;

impl Schema for QueueTables {
    type Tables<'txn> = Tables<'txn>;
    type Error = QueueError;

    fn open(txn: &WriteTransaction) -> Result<Tables<'_>, QueueError> {
        Tables::open(txn)
    }
}

/// One queue operation waiting for the writer thread, and where its answer goes.
struct Request<T, F> {
    /// Taken when the writer runs the operation.
    work: Option<F>,
    /// What the operation returned, given once its batch is committed.
    outcome: Option<T>,
    reply: oneshot::Sender<Result<T, QueueError>>,
}

impl<T, F> Pending<QueueTables> for Request<T, F>
where
    T: Send,
    F: FnOnce(&mut Tables<'_>) -> Result<T, QueueError> + Send,
{
    fn durable(&self) -> bool {
        true
    }

    fn apply(&mut self, tables: &mut Tables<'_>) -> Result<Applied, QueueError> {
        let Some(work) = self.work.take() else {
            return Ok(Applied::Nothing);
        };
        let writes_before = tables.writes;
        // An operation writes as it goes: a failure or a panic part way may have written some of
        // it, so either fails the batch, which is then rolled back whole.
        let value = std::panic::catch_unwind(AssertUnwindSafe(|| work(tables)))
            .unwrap_or_else(|_| Err(internal("a queue operation panicked")))?;
        self.outcome = Some(value);
        Ok(if tables.writes == writes_before {
            Applied::Nothing
        } else {
            Applied::Wrote
        })
    }

    fn answer(self: Box<Self>, batch: Result<(), &str>) {
        let result = match (batch, self.outcome) {
            (Ok(()), Some(value)) => Ok(value),
            (Ok(()), None) => Err(internal("the writer answered an operation it had not run")),
            (Err(reason), _) => Err(internal(format!("the operation's batch failed: {reason}"))),
        };
        // The caller may have stopped waiting; its operation is committed (or not) all the same.
        let _ = self.reply.send(result);
    }
}

/// The tables of one write transaction, with the operations every queue call is made of.
struct Tables<'txn> {
    messages: Table<'txn, u64, &'static [u8]>,
    visibility_main: Table<'txn, (u64, u64), ()>,
    visibility_dead: Table<'txn, (u64, u64), ()>,
    sequence: Table<'txn, &'static str, u64>,
    /// Changes made so far in this transaction: whether an operation wrote anything.
    writes: u64,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, QueueError> {
        Ok(Self {
            messages: txn.open_table(MESSAGES).map_err(internal)?,
            visibility_main: txn.open_table(VISIBILITY_MAIN).map_err(internal)?,
            visibility_dead: txn.open_table(VISIBILITY_DEAD).map_err(internal)?,
            sequence: txn.open_table(SEQUENCE).map_err(internal)?,
            writes: 0,
        })
    }

    fn visibility(&self, lane: Lane) -> &Table<'txn, (u64, u64), ()> {
        match lane {
            Lane::Main => &self.visibility_main,
            Lane::Dead => &self.visibility_dead,
        }
    }

    fn visibility_mut(&mut self, lane: Lane) -> &mut Table<'txn, (u64, u64), ()> {
        match lane {
            Lane::Main => &mut self.visibility_main,
            Lane::Dead => &mut self.visibility_dead,
        }
    }

    fn load(&self, id: u64) -> Result<Option<StoredMessage>, QueueError> {
        match self.messages.get(id).map_err(internal)? {
            Some(bytes) => StoredMessage::decode(bytes.value())
                .map(Some)
                .map_err(internal),
            None => Ok(None),
        }
    }

    /// Writes `message` under `id`, with its visibility entry; `previous` is the message as
    /// stored before, whose entry goes.
    fn save(
        &mut self,
        id: u64,
        previous: Option<&StoredMessage>,
        message: &StoredMessage,
    ) -> Result<(), QueueError> {
        self.writes += 1;
        if let Some(previous) = previous {
            self.visibility_mut(previous.lane)
                .remove((previous.visible_at, id))
                .map_err(internal)?;
        }
        self.visibility_mut(message.lane)
            .insert((message.visible_at, id), ())
            .map_err(internal)?;
        self.messages
            .insert(id, message.encode().as_slice())
            .map_err(internal)?;
        Ok(())
    }

    fn erase(&mut self, id: u64, message: &StoredMessage) -> Result<(), QueueError> {
        self.writes += 1;
        self.visibility_mut(message.lane)
            .remove((message.visible_at, id))
            .map_err(internal)?;
        self.messages.remove(id).map_err(internal)?;
        Ok(())
    }

    fn next_id(&mut self) -> Result<u64, QueueError> {
        let id = self
            .sequence
            .get(NEXT_ID)
            .map_err(internal)?
            .map_or(0, |next| next.value());
        self.sequence.insert(NEXT_ID, id + 1).map_err(internal)?;
        Ok(id)
    }

    fn send(&mut self, bodies: Vec<String>, now: u64) -> Result<(), QueueError> {
        for body in bodies {
            let id = self.next_id()?;
            let message = StoredMessage {
                lane: Lane::Main,
                body,
                receive_count: 0,
                visible_at: now,
                sent_at: now,
            };
            self.save(id, None, &message)?;
        }
        Ok(())
    }

    /// Up to `max` messages of `lane` visible at `now`, hidden for `hidden_for` ms. In the main
    /// lane, a message already received [`MAX_RECEIVES`] times moves to the dead lane instead.
    fn receive(
        &mut self,
        lane: Lane,
        max: usize,
        now: u64,
        hidden_for: u64,
    ) -> Result<Vec<Delivery>, QueueError> {
        let mut deliver = Vec::new();
        let mut bury = Vec::new();
        for entry in self
            .visibility(lane)
            .range(..=(now, u64::MAX))
            .map_err(internal)?
        {
            let (key, _) = entry.map_err(internal)?;
            let (_, id) = key.value();
            let message = self.load(id)?.ok_or_else(|| {
                internal(format!(
                    "the visibility entry of message {id} names no message"
                ))
            })?;
            if lane == Lane::Main && message.receive_count >= MAX_RECEIVES {
                bury.push((id, message));
            } else {
                deliver.push((id, message));
                if deliver.len() == max {
                    break;
                }
            }
        }

        for (id, message) in bury {
            let moved = StoredMessage {
                lane: Lane::Dead,
                visible_at: now,
                ..message.clone()
            };
            self.save(id, Some(&message), &moved)?;
            tracing::warn!(
                message_id = id,
                receive_count = message.receive_count,
                "a message moved to the dead-letter queue"
            );
        }

        let mut deliveries = Vec::with_capacity(deliver.len());
        for (id, message) in deliver {
            let received = StoredMessage {
                receive_count: message.receive_count.saturating_add(1),
                visible_at: now.saturating_add(hidden_for),
                ..message.clone()
            };
            self.save(id, Some(&message), &received)?;
            deliveries.push(Delivery {
                message_id: id.to_string(),
                receipt: received.receipt(id).to_string(),
                receive_count: received.receive_count,
                body: received.body,
            });
        }
        Ok(deliveries)
    }

    /// The message `receipt` names, if it is still in the queue and this is its latest receive.
    /// A stale receipt names a message someone else now holds (or that is gone): as in SQS, the
    /// call that presents it does nothing rather than fail.
    fn current(&self, receipt: Receipt) -> Result<Option<StoredMessage>, QueueError> {
        let message = self
            .load(receipt.id)?
            .filter(|message| receipt.is_current_for(message));
        if message.is_none() {
            tracing::debug!(%receipt, "a receipt no longer names a message in flight");
        }
        Ok(message)
    }
}

#[async_trait]
impl JobQueue for EmbeddedQueue {
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        if let Some(message) = messages
            .iter()
            .find(|message| message.body.is_empty() || message.body.len() > MAX_BODY_BYTES)
        {
            return Err(invalid(format!(
                "message {} has {} bytes; a body holds 1 to {MAX_BODY_BYTES}",
                message.id,
                message.body.len()
            )));
        }
        let bodies = messages.into_iter().map(|message| message.body).collect();
        let now = self.now_ms();
        self.write(move |tables| tables.send(bodies, now)).await
    }
}

#[async_trait]
impl JobSource for EmbeddedQueue {
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        self.receive_from(Lane::Main, max, visibility).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = parse_receipt(receipt)?;
        self.write(move |tables| match tables.current(receipt)? {
            Some(message) => tables.erase(receipt.id, &message),
            None => Ok(()),
        })
        .await
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let receipt = parse_receipt(receipt)?;
        let delay = milliseconds(delay, "release delay")?;
        let now = self.now_ms();
        self.write(move |tables| match tables.current(receipt)? {
            Some(message) => {
                let released = StoredMessage {
                    visible_at: now.saturating_add(delay),
                    ..message.clone()
                };
                tables.save(receipt.id, Some(&message), &released)
            }
            None => Ok(()),
        })
        .await
    }

    async fn receive_dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        self.receive_from(Lane::Dead, max, visibility).await
    }
}
