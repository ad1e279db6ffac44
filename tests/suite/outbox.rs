//! The transactional outbox on the embedded store and queue: a staged job commits with its
//! change or not at all, dispatch sends it after the commit, and whatever dispatch could not send
//! the relay sends later, exactly the jobs old enough and each of them.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use itinera::clock::Clock;
use itinera::identity::UserId;
use itinera::jobs::outbox::{dispatch, relay, stage};
use itinera::jobs::{
    BookingSnapshot, Job, JobId, JobKind, JobQueue, JobSource, MAX_BATCH, QueueError, QueueMessage,
    Recipient, Subject,
};
use itinera::money::{Currency, Money};
use itinera::ratelimit::ManualClock;
use itinera::storage::{Condition, Key, Put, Query, Store, WriteOp};
use itinera_embedded::{EmbeddedQueue, EmbeddedStore};
use serde_json::json;
use tempfile::TempDir;

const VISIBILITY: Duration = Duration::from_secs(60);
const NOW_MS: i64 = 1_795_000_000_000;

fn min_age() -> TimeDelta {
    TimeDelta::minutes(1)
}

struct Fixture {
    store: EmbeddedStore,
    queue: EmbeddedQueue,
    clock: ManualClock,
    _dir: TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    Fixture {
        store: EmbeddedStore::open(dir.path()).expect("the store opens"),
        queue: EmbeddedQueue::open(dir.path()).expect("the queue opens"),
        clock: ManualClock::at_epoch_ms(NOW_MS),
        _dir: dir,
    }
}

fn job_at(created_at: DateTime<Utc>) -> Job {
    Job {
        id: JobId::from(uuid::Uuid::now_v7()),
        recipient: Recipient::UserId(UserId::from(uuid::Uuid::now_v7())),
        kind: JobKind::BookingConfirmed,
        subject: Subject::Booking(BookingSnapshot {
            booking_id: uuid::Uuid::now_v7().to_string(),
            flight_id: uuid::Uuid::now_v7().to_string(),
            flight_number: "AI101".into(),
            from: "DEL".into(),
            to: "BOM".into(),
            departure_time: created_at + TimeDelta::days(10),
            seats: 2,
            total: Money::new(25_000, Currency::parse("INR").unwrap()).unwrap(),
        }),
        created_at,
    }
}

/// A job created `age` before the fixture's clock.
fn job_aged(fixture: &Fixture, age: TimeDelta) -> Job {
    job_at(fixture.clock.now() - age)
}

/// A change the job is about, to commit with it.
fn booking_change(job: &Job) -> WriteOp {
    let mut item = json!({ "status": "confirmed" })
        .as_object()
        .cloned()
        .expect("an object");
    Key::new(format!("BOOKING#{}", job.subject.id()), "BOOKING").write_into(&mut item);
    WriteOp::Put(Put {
        item,
        condition: Some(Condition::ItemNotExists),
    })
}

async fn commit_with_change(store: &dyn Store, job: &Job) {
    store
        .transact(vec![booking_change(job), stage(job).unwrap()])
        .await
        .expect("the change and its job commit");
}

async fn outbox_size(store: &dyn Store) -> usize {
    store
        .query(Query::partition(None, "OUTBOX"))
        .await
        .expect("the outbox is readable")
        .items
        .len()
}

/// Every job on the queue, received and deleted.
async fn drain(queue: &EmbeddedQueue) -> Vec<Job> {
    let mut jobs = Vec::new();
    loop {
        let deliveries = queue
            .receive(MAX_BATCH, VISIBILITY)
            .await
            .expect("the receive succeeds");
        if deliveries.is_empty() {
            return jobs;
        }
        for delivery in deliveries {
            jobs.push(Job::from_body(&delivery.body).expect("a job body"));
            queue
                .delete(&delivery.receipt)
                .await
                .expect("the delete succeeds");
        }
    }
}

/// A queue that is down.
struct UnreachableQueue;

#[async_trait]
impl JobQueue for UnreachableQueue {
    async fn send(&self, _messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn a_dispatched_job_reaches_the_queue_and_leaves_the_outbox() {
    let fixture = fixture();
    let job = job_aged(&fixture, TimeDelta::zero());
    commit_with_change(&fixture.store, &job).await;
    assert_eq!(outbox_size(&fixture.store).await, 1);

    dispatch(
        &fixture.store,
        Some(&fixture.queue),
        std::slice::from_ref(&job),
    )
    .await;

    assert_eq!(drain(&fixture.queue).await, [job]);
    assert_eq!(outbox_size(&fixture.store).await, 0);
}

#[tokio::test]
async fn a_job_staged_in_a_cancelled_transaction_is_not_staged_at_all() {
    let fixture = fixture();
    let job = job_aged(&fixture, TimeDelta::minutes(5));
    commit_with_change(&fixture.store, &job).await;
    dispatch(
        &fixture.store,
        Some(&fixture.queue),
        std::slice::from_ref(&job),
    )
    .await;
    drain(&fixture.queue).await;

    // The same change again fails its condition: the transaction, job included, is cancelled.
    let second = Job {
        id: JobId::from(uuid::Uuid::now_v7()),
        ..job.clone()
    };
    assert!(
        fixture
            .store
            .transact(vec![booking_change(&second), stage(&second).unwrap()])
            .await
            .is_err()
    );
    assert_eq!(outbox_size(&fixture.store).await, 0);
    assert_eq!(
        relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
            .await
            .unwrap(),
        0
    );
    assert!(drain(&fixture.queue).await.is_empty());
}

#[tokio::test]
async fn a_failed_dispatch_leaves_the_job_for_the_relay() {
    let fixture = fixture();
    let job = job_aged(&fixture, TimeDelta::zero());
    commit_with_change(&fixture.store, &job).await;

    dispatch(
        &fixture.store,
        Some(&UnreachableQueue),
        std::slice::from_ref(&job),
    )
    .await;
    assert_eq!(outbox_size(&fixture.store).await, 1);

    // Too young for the relay: its dispatch might still be under way.
    assert_eq!(
        relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
            .await
            .unwrap(),
        0
    );
    assert_eq!(outbox_size(&fixture.store).await, 1);

    fixture.clock.advance_ms(min_age().num_milliseconds() + 1);
    assert_eq!(
        relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
            .await
            .unwrap(),
        1
    );
    assert_eq!(drain(&fixture.queue).await, [job]);
    assert_eq!(outbox_size(&fixture.store).await, 0);
}

#[tokio::test]
async fn without_a_queue_dispatch_leaves_the_job_staged() {
    let fixture = fixture();
    let job = job_aged(&fixture, TimeDelta::minutes(5));
    commit_with_change(&fixture.store, &job).await;

    dispatch(&fixture.store, None, std::slice::from_ref(&job)).await;
    assert_eq!(outbox_size(&fixture.store).await, 1);
    assert!(drain(&fixture.queue).await.is_empty());
}

#[tokio::test]
async fn the_relay_sends_only_jobs_older_than_the_minimum_age() {
    let fixture = fixture();
    let old = job_aged(&fixture, TimeDelta::minutes(10));
    let borderline = job_aged(&fixture, min_age());
    let young = job_aged(&fixture, TimeDelta::seconds(5));
    for job in [&old, &borderline, &young] {
        commit_with_change(&fixture.store, job).await;
    }

    let sent = relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(drain(&fixture.queue).await, [old]);
    assert_eq!(outbox_size(&fixture.store).await, 2);
}

#[tokio::test]
async fn the_relay_sends_every_staged_job_once_across_pages() {
    let fixture = fixture();
    let mut staged = Vec::new();
    for n in 0..230 {
        let job = job_aged(
            &fixture,
            TimeDelta::minutes(10) + TimeDelta::milliseconds(n),
        );
        fixture
            .store
            .transact(vec![stage(&job).unwrap()])
            .await
            .expect("the job is staged");
        staged.push(job);
    }

    let sent = relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
        .await
        .unwrap();
    assert_eq!(sent, staged.len());
    let received = drain(&fixture.queue).await;
    let received_ids: BTreeSet<JobId> = received.iter().map(|job| job.id.clone()).collect();
    assert_eq!(received_ids.len(), received.len(), "no job sent twice");
    assert_eq!(
        received_ids,
        staged
            .iter()
            .map(|job| job.id.clone())
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(outbox_size(&fixture.store).await, 0);

    // A second run finds nothing left to send.
    assert_eq!(
        relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_relay_that_cannot_reach_the_queue_keeps_every_job() {
    let fixture = fixture();
    let job = job_aged(&fixture, TimeDelta::minutes(10));
    commit_with_change(&fixture.store, &job).await;

    let sent = relay(&fixture.store, &fixture.clock, &UnreachableQueue, min_age())
        .await
        .unwrap();
    assert_eq!(sent, 0);
    assert_eq!(outbox_size(&fixture.store).await, 1);

    assert_eq!(
        relay(&fixture.store, &fixture.clock, &fixture.queue, min_age())
            .await
            .unwrap(),
        1
    );
    assert_eq!(drain(&fixture.queue).await, [job]);
}
