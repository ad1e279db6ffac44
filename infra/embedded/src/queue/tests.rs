//! The embedded queue's own rules, on a clock the tests move: visibility, receive counts, the
//! dead-letter move, receipts, limits, and durability across a reopen. Surviving SIGKILL is
//! tested with the store's in `infra/embedded/tests/durability.rs`, and the behaviour the queue
//! shares with SQS by the queue conformance suite in `tests/`.

use std::sync::Arc;
use std::time::Duration;

use itinera::jobs::{JobQueue, JobSource, MAX_RECEIVES, QueueError, QueueMessage};
use itinera::ratelimit::ManualClock;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use super::*;
use crate::group_commit::testing;

const START_MS: i64 = 1_700_000_000_000;
const VISIBILITY: Duration = Duration::from_secs(30);

struct Fixture {
    queue: EmbeddedQueue,
    clock: Arc<ManualClock>,
    _dir: TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = Arc::new(ManualClock::at_epoch_ms(START_MS));
    let queue = EmbeddedQueue::open(dir.path())
        .expect("the queue opens")
        .with_clock(clock.clone());
    Fixture {
        queue,
        clock,
        _dir: dir,
    }
}

fn messages(bodies: &[&str]) -> Vec<QueueMessage> {
    bodies
        .iter()
        .enumerate()
        .map(|(n, body)| QueueMessage {
            id: n.to_string(),
            body: (*body).to_owned(),
        })
        .collect()
}

fn bodies(deliveries: &[Delivery]) -> Vec<&str> {
    deliveries
        .iter()
        .map(|delivery| delivery.body.as_str())
        .collect()
}

fn assert_refused<T: std::fmt::Debug>(outcome: Result<T, QueueError>) {
    assert!(
        matches!(outcome, Err(QueueError::Internal(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn messages_come_out_in_the_order_they_went_in() {
    let fixture = fixture();
    fixture
        .queue
        .send(messages(&["a", "b", "c"]))
        .await
        .unwrap();
    let deliveries = fixture.queue.receive(10, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&deliveries), ["a", "b", "c"]);
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.receive_count == 1)
    );
}

#[tokio::test]
async fn a_receive_takes_at_most_max_messages_and_leaves_the_rest() {
    let fixture = fixture();
    fixture
        .queue
        .send(messages(&["a", "b", "c"]))
        .await
        .unwrap();
    assert_eq!(
        bodies(&fixture.queue.receive(2, VISIBILITY).await.unwrap()),
        ["a", "b"]
    );
    assert_eq!(
        bodies(&fixture.queue.receive(2, VISIBILITY).await.unwrap()),
        ["c"]
    );
}

#[tokio::test]
async fn a_message_is_hidden_until_its_visibility_timeout_ends() {
    let fixture = fixture();
    fixture.queue.send(messages(&["a"])).await.unwrap();
    let first = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&first), ["a"]);

    fixture.clock.advance_ms(29_999);
    assert!(
        fixture
            .queue
            .receive(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );

    fixture.clock.advance_ms(1);
    let second = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&second), ["a"]);
    assert_eq!(second[0].receive_count, 2);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_ne!(second[0].receipt, first[0].receipt);
}

#[tokio::test]
async fn a_released_message_goes_behind_the_ones_already_visible() {
    let fixture = fixture();
    fixture.queue.send(messages(&["a", "b"])).await.unwrap();
    let first = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    fixture.clock.advance_ms(1);
    fixture
        .queue
        .release(&first[0].receipt, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        bodies(&fixture.queue.receive(10, VISIBILITY).await.unwrap()),
        ["b", "a"]
    );
}

#[tokio::test]
async fn a_release_with_a_delay_hides_the_message_for_that_long() {
    let fixture = fixture();
    fixture.queue.send(messages(&["a"])).await.unwrap();
    let first = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    fixture
        .queue
        .release(&first[0].receipt, Duration::from_secs(5))
        .await
        .unwrap();
    fixture.clock.advance_ms(4_999);
    assert!(
        fixture
            .queue
            .receive(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    fixture.clock.advance_ms(1);
    assert_eq!(
        bodies(&fixture.queue.receive(1, VISIBILITY).await.unwrap()),
        ["a"]
    );
}

#[tokio::test]
async fn the_receive_after_the_last_allowed_one_moves_the_message_to_the_dead_letters() {
    let fixture = fixture();
    fixture.queue.send(messages(&["poison"])).await.unwrap();
    for receive in 1..=MAX_RECEIVES {
        let deliveries = fixture.queue.receive(1, VISIBILITY).await.unwrap();
        assert_eq!(bodies(&deliveries), ["poison"]);
        assert_eq!(deliveries[0].receive_count, receive);
        fixture
            .queue
            .release(&deliveries[0].receipt, Duration::ZERO)
            .await
            .unwrap();
        fixture.clock.advance_ms(1);
    }
    // The move does not use up the receive: the message behind comes out in its place.
    fixture.queue.send(messages(&["fine"])).await.unwrap();
    let deliveries = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&deliveries), ["fine"]);

    let dead = fixture
        .queue
        .receive_dead_letters(10, VISIBILITY)
        .await
        .unwrap();
    assert_eq!(bodies(&dead), ["poison"]);
    assert_eq!(dead[0].receive_count, MAX_RECEIVES + 1);

    fixture.queue.delete(&dead[0].receipt).await.unwrap();
    fixture.clock.advance_ms(VISIBILITY.as_millis() as i64);
    assert!(
        fixture
            .queue
            .receive_dead_letters(10, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        bodies(&fixture.queue.receive(10, VISIBILITY).await.unwrap()),
        ["fine"]
    );
}

#[tokio::test]
async fn a_message_in_flight_on_its_last_receive_can_still_be_deleted() {
    let fixture = fixture();
    fixture.queue.send(messages(&["a"])).await.unwrap();
    let mut last = Vec::new();
    for _ in 0..MAX_RECEIVES {
        last = fixture.queue.receive(1, VISIBILITY).await.unwrap();
        fixture.clock.advance_ms(VISIBILITY.as_millis() as i64);
    }
    fixture.queue.delete(&last[0].receipt).await.unwrap();
    assert!(
        fixture
            .queue
            .receive(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        fixture
            .queue
            .receive_dead_letters(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_stale_receipt_neither_deletes_nor_releases_a_message_received_again() {
    let fixture = fixture();
    fixture.queue.send(messages(&["a"])).await.unwrap();
    let stale = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    fixture.clock.advance_ms(VISIBILITY.as_millis() as i64);
    let current = fixture.queue.receive(1, VISIBILITY).await.unwrap();

    fixture.queue.delete(&stale[0].receipt).await.unwrap();
    fixture
        .queue
        .release(&stale[0].receipt, Duration::ZERO)
        .await
        .unwrap();
    // Still in flight for its current holder: neither gone nor visible.
    assert!(
        fixture
            .queue
            .receive(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );

    fixture.queue.delete(&current[0].receipt).await.unwrap();
    fixture.clock.advance_ms(VISIBILITY.as_millis() as i64);
    assert!(
        fixture
            .queue
            .receive(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    // Deleting what is already gone is no error.
    fixture.queue.delete(&current[0].receipt).await.unwrap();
}

#[tokio::test]
async fn a_main_queue_receipt_does_not_touch_the_message_once_it_is_a_dead_letter() {
    let fixture = fixture();
    fixture.queue.send(messages(&["a"])).await.unwrap();
    let mut last = Vec::new();
    for _ in 0..MAX_RECEIVES {
        last = fixture.queue.receive(1, VISIBILITY).await.unwrap();
        fixture.clock.advance_ms(VISIBILITY.as_millis() as i64);
    }
    assert!(
        fixture
            .queue
            .receive(1, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    fixture.queue.delete(&last[0].receipt).await.unwrap();
    assert_eq!(
        bodies(
            &fixture
                .queue
                .receive_dead_letters(1, VISIBILITY)
                .await
                .unwrap()
        ),
        ["a"]
    );
}

#[tokio::test]
async fn calls_sqs_would_refuse_are_refused() {
    let fixture = fixture();
    let queue = &fixture.queue;
    assert_refused(queue.receive(0, VISIBILITY).await);
    assert_refused(queue.receive(MAX_BATCH + 1, VISIBILITY).await);
    assert_refused(
        queue
            .receive(1, MAX_VISIBILITY + Duration::from_millis(1))
            .await,
    );
    assert_refused(queue.receive_dead_letters(0, VISIBILITY).await);
    assert_refused(queue.send(messages(&[""])).await);
    let oversized = "x".repeat(MAX_BODY_BYTES + 1);
    assert_refused(queue.send(messages(&["fine", &oversized])).await);
    for receipt in ["", "not-a-receipt", "main-1", "main-1-x"] {
        assert_refused(queue.delete(receipt).await);
        assert_refused(queue.release(receipt, Duration::ZERO).await);
    }
    // Nothing of a refused send was queued.
    assert!(queue.receive(10, VISIBILITY).await.unwrap().is_empty());
    assert_eq!(queue.send(Vec::new()).await.ok(), Some(()));
}

#[tokio::test]
async fn a_body_at_the_size_limit_is_accepted() {
    let fixture = fixture();
    let largest = "x".repeat(MAX_BODY_BYTES);
    fixture.queue.send(messages(&[&largest])).await.unwrap();
    let deliveries = fixture.queue.receive(1, VISIBILITY).await.unwrap();
    assert_eq!(deliveries[0].body.len(), MAX_BODY_BYTES);
}

#[tokio::test]
async fn messages_and_their_receive_state_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = Arc::new(ManualClock::at_epoch_ms(START_MS));
    let first = {
        let queue = EmbeddedQueue::open(dir.path())
            .unwrap()
            .with_clock(clock.clone());
        queue.send(messages(&["a", "b"])).await.unwrap();
        let first = queue.receive(1, VISIBILITY).await.unwrap();
        // The same file cannot be opened twice at once: the queue holds it until dropped.
        assert!(EmbeddedQueue::open(dir.path()).is_err());
        first
    };
    let queue = EmbeddedQueue::open(dir.path())
        .unwrap()
        .with_clock(clock.clone());
    // "a" is still in flight; "b" is waiting.
    assert_eq!(bodies(&queue.receive(10, VISIBILITY).await.unwrap()), ["b"]);
    clock.advance_ms(VISIBILITY.as_millis() as i64);
    let again = queue.receive(1, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&again), ["a"]);
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);
    // The sequence goes on after a reopen: a new message never takes an old one's number.
    queue.send(messages(&["c"])).await.unwrap();
    clock.advance_ms(VISIBILITY.as_millis() as i64);
    let ids: Vec<u64> = queue
        .receive(10, VISIBILITY)
        .await
        .unwrap()
        .iter()
        .map(|delivery| delivery.message_id.parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| *id < 3));
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        3
    );
}

#[test]
fn opening_creates_missing_directories() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let nested = dir.path().join("a").join("b");
    EmbeddedQueue::open(&nested).expect("the queue opens in a new directory");
    assert!(nested.join(QUEUE_FILE_NAME).is_file());
}

// ---- group commit ------------------------------------------------------------------------
//
// As in the store's tests, a test holds the writer thread inside a first operation until it has
// queued the operations under test, then releases it: the writer then takes them all at once.

/// Occupies the queue's writer thread until the returned sender is dropped or sent to.
async fn hold_writer(queue: &EmbeddedQueue) -> (std::sync::mpsc::Sender<()>, JoinHandle<()>) {
    let (gate, holding) = testing::gate();
    let holder = tokio::spawn({
        let queue = queue.clone();
        async move {
            queue
                .write(move |_| {
                    gate.hold();
                    Ok(())
                })
                .await
                .expect("the holding operation succeeds");
        }
    });
    (holding.until_held().await, holder)
}

/// Waits until `count` operations were handed to the writer since the queue opened.
async fn wait_until_submitted(queue: &EmbeddedQueue, count: u64) {
    testing::wait_until_submitted(queue.writer.stats(), count).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_and_polls_share_one_commit() {
    let fixture = fixture();
    let queue = &fixture.queue;
    let (release, holder) = hold_writer(queue).await;
    let sends: Vec<_> = (0..20)
        .map(|n| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.send(messages(&[&format!("job {n}")])).await })
        })
        .collect();
    let polls: Vec<_> = (0..5)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.receive_dead_letters(10, VISIBILITY).await })
        })
        .collect();
    wait_until_submitted(queue, 26).await;
    release.send(()).expect("the holder waits");
    holder.await.expect("the holder ends");
    for send in sends {
        send.await
            .expect("the send's task ends")
            .expect("the send succeeds");
    }
    for poll in polls {
        let found = poll
            .await
            .expect("the poll's task ends")
            .expect("the poll succeeds");
        assert!(found.is_empty(), "no dead letters: {found:?}");
    }

    let (batches, operations, largest) = queue.write_batches();
    assert_eq!((batches, operations, largest), (2, 26, 25));
    assert_eq!(
        queue.writer.stats().commits(),
        1,
        "the holder wrote nothing; the 20 sends committed together"
    );
    let received = queue.receive(10, VISIBILITY).await.unwrap();
    let more = queue.receive(10, VISIBILITY).await.unwrap();
    assert_eq!(received.len() + more.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_that_find_nothing_commit_nothing() {
    let fixture = fixture();
    let queue = &fixture.queue;
    for _ in 0..5 {
        assert!(queue.receive(10, VISIBILITY).await.unwrap().is_empty());
    }
    assert_eq!(
        queue.writer.stats().commits(),
        0,
        "an idle poll costs no sync"
    );
    queue.send(messages(&["one"])).await.unwrap();
    assert_eq!(queue.writer.stats().commits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_that_fails_part_way_rolls_back_its_whole_batch() {
    let fixture = fixture();
    let queue = &fixture.queue;
    queue.send(messages(&["before"])).await.unwrap();

    let (release, holder) = hold_writer(queue).await;
    let send = tokio::spawn({
        let queue = queue.clone();
        async move { queue.send(messages(&["beside the failure"])).await }
    });
    let failing = tokio::spawn({
        let queue = queue.clone();
        async move {
            queue
                .write(|tables| {
                    tables.send(vec!["half written".to_owned()], START_MS as u64)?;
                    Err::<(), _>(internal("a damaged message"))
                })
                .await
        }
    });
    wait_until_submitted(queue, 4).await;
    release.send(()).expect("the holder waits");
    holder.await.expect("the holder ends");
    assert_refused(send.await.expect("the send's task ends"));
    assert_refused(failing.await.expect("the failing task ends"));

    let received = queue.receive(10, VISIBILITY).await.unwrap();
    assert_eq!(
        bodies(&received),
        ["before"],
        "nothing of the failed batch stayed"
    );
    queue.send(messages(&["after"])).await.unwrap();
    fixture.clock.advance_ms(31_000);
    let received = queue.receive(10, VISIBILITY).await.unwrap();
    let mut received = bodies(&received);
    received.sort_unstable();
    assert_eq!(received, ["after", "before"], "the writer goes on");
}
