//! The transactional outbox: how a job reaches the queue even when the process dies right after
//! the change that caused it.
//!
//! Sending to the queue inside a request cannot be made atomic with the store's transaction: send
//! first and a failed transaction leaves a job about nothing; commit first and a crash (or a queue
//! outage) before the send loses the job. So a use case [`stage`]s the job in the same
//! transaction as its change: the job commits exactly when the change does. After the commit,
//! [`dispatch`] sends it and removes it from the outbox, best effort: a request whose change has
//! committed never fails because the queue is down. Whatever dispatch leaves behind (a queue
//! error, a crash between commit and send), the scheduled [`relay`] sends later.
//!
//! A job can therefore reach the queue twice (dispatch sent it but crashed before removing it, or
//! the relay ran while a slow dispatch was still sending). Consumers deduplicate on
//! [`Job::dedup_key`], which makes that harmless; losing a job would not be.
//!
//! Layout: every staged job is one item in the partition `OUTBOX`, sorted by the job's creation
//! time (`<createdAt, RFC 3339 ms>#<job id>`), so the relay finds the old ones with one Query on a
//! key range and never scans. See docs/jobs.md.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Job, JobId, JobQueue, QueueMessage, TaskJob};
use crate::clock::Clock;
use crate::entity::EntityKind;
use crate::error::chain;
use crate::storage::{
    Delete, Item, Key, Put, Query, SortCondition, Store, StoreError, WriteOp, to_item,
};

/// The partition holding every staged job.
pub(crate) const OUTBOX_PARTITION: &str = "OUTBOX";

/// The entity type outbox items carry, for readers of the table.
const ENTITY: EntityKind = EntityKind::OutboxJob;

/// How long a staged job stays before DynamoDB's TTL removes it. Dispatch and the relay remove
/// jobs within minutes; this only clears what a bug left behind, after two weeks in which the
/// relay's logs and alarms had every chance to show it.
const RETENTION: TimeDelta = TimeDelta::days(14);

/// How many staged jobs the relay reads per Query page (and sends per call to the queue).
const RELAY_PAGE: u32 = 100;

/// The stored form of a staged job.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutboxRecord {
    pk: String,
    sk: String,
    entity: EntityKind,
    job_id: String,
    /// The job's kind, for people reading the table; the relay sends `body` as it is.
    kind: String,
    /// The queue message body, exactly as [`Job::to_body`] wrote it.
    body: String,
    /// TTL, epoch seconds.
    expires_at: i64,
}

/// Timestamps as outbox sort keys start: RFC 3339, UTC, milliseconds.
fn millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What goes through the outbox: a notice ([`Job`]) or a task ([`TaskJob`]).
pub trait Outgoing {
    fn id(&self) -> &JobId;
    fn created_at(&self) -> DateTime<Utc>;
    /// The kind, for people reading the table and the logs.
    fn name(&self) -> &'static str;
    /// The queue message body; a job that does not serialize is refused, never sent half-made.
    fn to_body(&self) -> Result<String, serde_json::Error>;
}

impl Outgoing for Job {
    fn id(&self) -> &JobId {
        &self.id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn name(&self) -> &'static str {
        self.kind.name()
    }
    fn to_body(&self) -> Result<String, serde_json::Error> {
        Job::to_body(self)
    }
}

impl Outgoing for TaskJob {
    fn id(&self) -> &JobId {
        &self.id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn name(&self) -> &'static str {
        self.task.name()
    }
    fn to_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// The sort key of `job`'s outbox item: `<createdAt, RFC 3339 ms>#<job id>`. A use case that
/// records an intent keeps it, to remove the job with [`unstage`] once the intent is settled.
pub fn sort_key(job: &impl Outgoing) -> String {
    format!("{}#{}", millis(job.created_at()), job.id())
}

fn key(job: &impl Outgoing) -> Key {
    Key::new(OUTBOX_PARTITION, sort_key(job))
}

fn message(job: &impl Outgoing) -> Result<QueueMessage, StoreError> {
    Ok(QueueMessage {
        id: job.id().to_string(),
        body: job.to_body().map_err(StoreError::internal)?,
    })
}

/// The transaction operation that removes the staged job whose sort key is `sort_key`, for the
/// transaction that settles what the job would otherwise settle later. Unconditional: the job may
/// already have been relayed and removed, which changes nothing.
pub fn unstage(sort_key: &str) -> WriteOp {
    WriteOp::Delete(Delete {
        key: Key::new(OUTBOX_PARTITION, sort_key),
        condition: None,
    })
}

/// The transaction operation that stores `job` in the outbox; put it in the same transaction as
/// the change that causes the job.
///
/// The put is unconditional: job ids are unique, so it never overwrites another job, and a put
/// that cannot fail never becomes the reason a transaction is cancelled (callers tell their own
/// conditions apart by operation index).
///
/// A job that does not serialize is an internal error, and the transaction is not attempted.
pub fn stage(job: &impl Outgoing) -> Result<WriteOp, StoreError> {
    let key = key(job);
    let record = OutboxRecord {
        pk: key.pk,
        sk: key.sk,
        entity: ENTITY,
        job_id: job.id().to_string(),
        kind: job.name().to_owned(),
        body: job.to_body().map_err(StoreError::internal)?,
        expires_at: (job.created_at() + RETENTION).timestamp(),
    };
    Ok(WriteOp::Put(Put {
        item: to_item(&record)?,
        condition: None,
    }))
}

/// After the transaction committed: sends the jobs and removes them from the outbox. Best effort:
/// a failure is logged (warn, with the chain) and the jobs stay in the outbox for the relay. With
/// no queue (`None`) it does nothing.
#[tracing::instrument(skip_all, fields(jobs = jobs.len()))]
pub async fn dispatch<J: Outgoing>(store: &dyn Store, queue: Option<&dyn JobQueue>, jobs: &[J]) {
    let Some(queue) = queue else {
        return;
    };
    if jobs.is_empty() {
        return;
    }
    let messages = match jobs.iter().map(message).collect() {
        Ok(messages) => messages,
        Err(error) => {
            tracing::warn!(
                error = %chain(&error),
                "could not write the jobs' messages; the outbox relay will send them"
            );
            return;
        }
    };
    if let Err(error) = queue.send(messages).await {
        tracing::warn!(
            error = %chain(&error),
            "could not send the jobs; the outbox relay will send them"
        );
        return;
    }
    for job in jobs {
        if let Err(error) = remove(store, key(job)).await {
            // The job went out; the relay will send it once more, which consumers absorb.
            tracing::warn!(
                job_id = %job.id(),
                error = %chain(&error),
                "sent a job but could not remove it from the outbox"
            );
        }
    }
}

/// The relay, run on a schedule: sends every job staged more than `min_age` ago (left behind by a
/// failed or crashed dispatch) and removes it; returns how many it sent. Never a Scan: one outbox
/// partition, sorted by staging time.
///
/// `min_age` keeps the relay off jobs whose dispatch is still under way; a minute is plenty. A
/// queue failure ends the run early: it is logged as an error (the jobs stay for the next run) and
/// the count says how many went out before it. A store failure is returned.
#[tracing::instrument(skip(store, clock, queue))]
pub async fn relay(
    store: &dyn Store,
    clock: &dyn Clock,
    queue: &dyn JobQueue,
    min_age: TimeDelta,
) -> Result<usize, StoreError> {
    // A bare timestamp sorts before every key of its millisecond: `Less` selects exactly the jobs
    // created before the cutoff.
    let cutoff = millis(clock.now() - min_age);
    let mut query = Query::partition(None, OUTBOX_PARTITION);
    query.sort = Some(SortCondition::Less(cutoff));
    query.limit = RELAY_PAGE;
    let mut sent = 0;
    loop {
        let page = store.query(query.clone()).await?;
        let staged: Vec<(Key, QueueMessage)> = page.items.into_iter().filter_map(staged).collect();
        if !staged.is_empty() {
            let messages = staged.iter().map(|(_, message)| message.clone()).collect();
            if let Err(error) = queue.send(messages).await {
                tracing::error!(
                    error = %chain(&error),
                    sent,
                    "the outbox relay could not send jobs; they stay for the next run"
                );
                return Ok(sent);
            }
            for (key, _) in staged {
                remove(store, key).await?;
                sent += 1;
            }
        }
        match page.last_evaluated_key {
            Some(last) => query.start_after = Some(last),
            None => break,
        }
    }
    if sent > 0 {
        tracing::info!(
            sent,
            "the outbox relay sent jobs a dispatch had left behind"
        );
    }
    Ok(sent)
}

/// The key and message of a staged job. An item that does not decode was not written by
/// [`stage`]: it is logged and left for its TTL rather than stopping every later job.
fn staged(item: Item) -> Option<(Key, QueueMessage)> {
    let key = Key::of(&item);
    match serde_json::from_value::<OutboxRecord>(Value::Object(item)) {
        Ok(record) => Some((
            Key::new(record.pk, record.sk),
            QueueMessage {
                id: record.job_id,
                body: record.body,
            },
        )),
        Err(error) => {
            tracing::error!(
                key = %key.map_or_else(|| "unknown".to_owned(), |key| key.to_string()),
                %error,
                "an outbox item is not a staged job; skipping it"
            );
            None
        }
    }
}

async fn remove(store: &dyn Store, key: Key) -> Result<(), StoreError> {
    store
        .delete(Delete {
            key,
            condition: None,
        })
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobKind;

    fn job() -> Job {
        Job {
            created_at: DateTime::parse_from_rfc3339("2026-11-21T08:00:00.123Z")
                .unwrap()
                .to_utc(),
            ..Job::sample(JobKind::BookingConfirmed)
        }
    }

    fn staged_item(job: &Job) -> Item {
        match stage(job).unwrap() {
            WriteOp::Put(put) => {
                assert_eq!(put.condition, None);
                put.item
            }
            other => panic!("staging is a put, not {other:?}"),
        }
    }

    #[test]
    fn a_staged_job_is_keyed_by_creation_time_and_id_in_the_outbox_partition() {
        let item = staged_item(&job());
        assert_eq!(
            Key::of(&item).unwrap(),
            Key::new(
                "OUTBOX",
                "2026-11-21T08:00:00.123Z#00000000-0000-0000-0000-000000000000"
            )
        );
        assert_eq!(item["entity"], "outbox-job");
        assert_eq!(item["kind"], "booking-confirmed");
    }

    #[test]
    fn a_staged_job_expires_two_weeks_after_its_creation() {
        let item = staged_item(&job());
        let expected = DateTime::parse_from_rfc3339("2026-12-05T08:00:00.123Z")
            .unwrap()
            .timestamp();
        assert_eq!(item["expiresAt"], expected);
    }

    #[test]
    fn a_staged_job_reads_back_as_the_message_dispatch_would_send() {
        let job = job();
        let (key, message) = staged(staged_item(&job)).expect("a staged job decodes");
        assert_eq!(key, super::key(&job));
        assert_eq!(message, super::message(&job).unwrap());
        assert_eq!(Job::from_body(&message.body).unwrap(), job);
    }

    #[test]
    fn an_item_that_is_not_a_staged_job_is_skipped() {
        let mut item = staged_item(&job());
        item.remove("body");
        assert!(staged(item).is_none());
    }
}
