//! The queue conformance suite: the behaviour every job queue adapter must share, written once and
//! run against each adapter.
//!
//! Workers rely on SQS's rules: a received message stays hidden for its visibility timeout,
//! comes back if it is not deleted, counts its receives, and moves to the dead-letter queue after
//! [`MAX_RECEIVES`] of them. The embedded queue reproduces them, the SQS adapter hands them to SQS
//! (to moto in the tests). A sibling module instantiates the suite with
//! [`queue_conformance_suite!`] and a function returning a fresh, empty queue pair:
//!
//! ```ignore
//! async fn fresh_queue() -> crate::queue_conformance::QueueUnderTest { ... }
//! crate::queue_conformance::queue_conformance_suite!(fresh_queue);
//! ```
//!
//! Assertions cover only what SQS and the embedded queue both guarantee. SQS counts visibility
//! in whole seconds and a short-polling receive may come back empty while messages wait, so
//! every expectation that something arrives is polled until it settles, never waited for with a
//! fixed sleep; expectations that something does not arrive are checked only while it provably
//! cannot (within its visibility timeout, measured from before the receive). Whether a stale
//! receipt deletes a message received again since is one of those differences: SQS and the
//! embedded queue ignore such a receipt, moto's SQS deletes the message anyway, so
//! [`a_stale_receipt_cannot_delete_a_message_received_again`] runs only for the embedded queue.

pub mod embedded;
pub mod sqs;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use itinera::jobs::{Delivery, JobQueue, JobSource, MAX_BATCH, MAX_RECEIVES, QueueMessage};

/// Both halves of a queue adapter.
pub trait ConformanceQueue: JobQueue + JobSource {}

impl<T: JobQueue + JobSource> ConformanceQueue for T {}

/// A fresh queue and whatever must live as long as it (a temporary directory).
pub struct QueueUnderTest {
    pub queue: Box<dyn ConformanceQueue>,
    pub _resources: Box<dyn Send + Sync>,
}

/// Expands to one `#[tokio::test]` per conformance test, each on a queue from `$fresh_queue`
/// (an `async fn() -> QueueUnderTest` returning an isolated, empty queue pair).
macro_rules! queue_conformance_suite {
    ($fresh_queue:path) => {
        $crate::queue_conformance::queue_conformance_suite!(@tests $fresh_queue;
            a_sent_message_is_received_once_with_its_body,
            an_in_flight_message_is_not_received_again_until_its_visibility_lapses,
            a_deleted_message_is_gone_for_good,
            a_release_without_delay_makes_the_message_visible_at_once,
            a_batch_of_twenty_five_arrives_complete,
            after_the_last_allowed_receive_the_message_is_a_dead_letter,
            deleting_with_a_stale_receipt_never_fails_and_the_current_one_deletes,
            calls_outside_the_queue_limits_are_refused,
        );
    };
    (@tests $fresh_queue:path; $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let under_test = $fresh_queue().await;
                $crate::queue_conformance::$test(&*under_test.queue).await;
            }
        )+
    };
}
pub(crate) use queue_conformance_suite;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// How long a message may take to show up (visibility timeouts here are one second at most).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Long enough that no test outlives it: a message received with it stays hidden for the test.
const HIDDEN: Duration = Duration::from_secs(60);
/// The shortest visibility SQS knows, for the tests that wait for one to lapse.
const BRIEF: Duration = Duration::from_secs(1);

/// Bodies no other test and no earlier run uses, so that a mix-up between queues shows.
fn bodies(count: usize) -> Vec<String> {
    let run = uuid::Uuid::now_v7();
    (0..count)
        .map(|n| format!(r#"{{"run":"{run}","n":{n}}}"#))
        .collect()
}

async fn send(queue: &dyn ConformanceQueue, bodies: &[String]) {
    let messages = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| QueueMessage {
            id: format!("message-{n}"),
            body: body.clone(),
        })
        .collect();
    queue.send(messages).await.expect("the send succeeds");
}

/// Receives until a delivery of `body` arrives; returns it with every other delivery received on
/// the way (those of the last receive included).
async fn receive_until(
    queue: &dyn ConformanceQueue,
    body: &str,
    visibility: Duration,
) -> (Delivery, Vec<Delivery>) {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut others = Vec::new();
    loop {
        let mut found = None;
        for delivery in queue
            .receive(MAX_BATCH, visibility)
            .await
            .expect("the receive succeeds")
        {
            if delivery.body == body && found.is_none() {
                found = Some(delivery);
            } else {
                others.push(delivery);
            }
        }
        if let Some(delivery) = found {
            return (delivery, others);
        }
        assert!(
            Instant::now() < deadline,
            "{body} did not arrive within {SETTLE_TIMEOUT:?}; received instead: {others:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Receives from the main queue, which moves a message received too often to the dead-letter
/// queue, then from the dead-letter queue, until `body` arrives there. The main queue must never
/// deliver it on the way.
async fn receive_dead_letter_until(queue: &dyn ConformanceQueue, body: &str) -> Delivery {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        assert_not_received(queue, body, "a message past its last receive was delivered").await;
        let deliveries = queue
            .receive_dead_letters(MAX_BATCH, HIDDEN)
            .await
            .expect("the dead-letter receive succeeds");
        if let Some(delivery) = deliveries
            .into_iter()
            .find(|delivery| delivery.body == body)
        {
            return delivery;
        }
        assert!(
            Instant::now() < deadline,
            "{body} did not reach the dead-letter queue within {SETTLE_TIMEOUT:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Receives once and asserts `body` is not among the deliveries.
async fn assert_not_received(queue: &dyn ConformanceQueue, body: &str, why: &str) {
    let deliveries = queue
        .receive(MAX_BATCH, HIDDEN)
        .await
        .expect("the receive succeeds");
    assert!(
        deliveries.iter().all(|delivery| delivery.body != body),
        "{why}: {deliveries:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

pub async fn a_sent_message_is_received_once_with_its_body(queue: &dyn ConformanceQueue) {
    let [body] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&body)).await;

    let (delivery, others) = receive_until(queue, &body, HIDDEN).await;
    assert!(others.is_empty(), "only the sent message: {others:?}");
    assert_eq!(delivery.receive_count, 1);
    assert!(!delivery.message_id.is_empty());
    assert!(!delivery.receipt.is_empty());

    assert_not_received(queue, &body, "a received message is hidden").await;
    queue
        .delete(&delivery.receipt)
        .await
        .expect("the delete succeeds");
}

pub async fn an_in_flight_message_is_not_received_again_until_its_visibility_lapses(
    queue: &dyn ConformanceQueue,
) {
    let [body] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&body)).await;

    let received_before = Instant::now();
    let (first, _) = receive_until(queue, &body, BRIEF).await;
    let again = queue
        .receive(MAX_BATCH, BRIEF)
        .await
        .expect("the receive succeeds");
    // Only meaningful while the visibility timeout provably has not run out.
    if received_before.elapsed() < BRIEF {
        assert!(
            again.iter().all(|delivery| delivery.body != body),
            "received again while in flight: {again:?}"
        );
    }

    let (second, _) = receive_until(queue, &body, HIDDEN).await;
    assert_eq!(second.message_id, first.message_id);
    assert_ne!(
        second.receipt, first.receipt,
        "each receive has its receipt"
    );
    assert!(second.receive_count >= 2, "{second:?}");
}

pub async fn a_deleted_message_is_gone_for_good(queue: &dyn ConformanceQueue) {
    let [deleted, kept] = bodies(2).try_into().unwrap();
    send(queue, &[deleted.clone(), kept.clone()]).await;

    let (first, others) = receive_until(queue, &deleted, BRIEF).await;
    queue
        .delete(&first.receipt)
        .await
        .expect("the delete succeeds");
    let mut seen = Vec::new();
    if others.iter().all(|delivery| delivery.body != kept) {
        seen = receive_until(queue, &kept, BRIEF).await.1;
    }
    // The kept message comes back once its (equal or later) visibility timeout lapses; by then
    // the deleted one would have come back too, had it not been deleted.
    let (back, more) = receive_until(queue, &kept, HIDDEN).await;
    seen.extend(more);
    assert!(back.receive_count >= 2, "{back:?}");
    assert!(
        seen.iter().all(|delivery| delivery.body != deleted),
        "a deleted message came back: {seen:?}"
    );
    assert_not_received(queue, &deleted, "a deleted message came back").await;
}

pub async fn a_release_without_delay_makes_the_message_visible_at_once(
    queue: &dyn ConformanceQueue,
) {
    let [body] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&body)).await;

    let (first, _) = receive_until(queue, &body, HIDDEN).await;
    assert_eq!(first.receive_count, 1);
    queue
        .release(&first.receipt, Duration::ZERO)
        .await
        .expect("the release succeeds");

    // Hidden for a minute otherwise: arriving within the settle timeout shows the release.
    let (second, _) = receive_until(queue, &body, HIDDEN).await;
    assert_eq!(second.message_id, first.message_id);
    assert_eq!(second.receive_count, 2);
}

pub async fn a_batch_of_twenty_five_arrives_complete(queue: &dyn ConformanceQueue) {
    let sent = bodies(25);
    send(queue, &sent).await;

    let expected: BTreeSet<&str> = sent.iter().map(String::as_str).collect();
    let mut received = Vec::new();
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while received.len() < sent.len() {
        let deliveries = queue
            .receive(MAX_BATCH, HIDDEN)
            .await
            .expect("the receive succeeds");
        assert!(deliveries.len() <= MAX_BATCH, "{}", deliveries.len());
        received.extend(deliveries.into_iter().map(|delivery| delivery.body));
        assert!(
            Instant::now() < deadline,
            "{} of {} messages arrived within {SETTLE_TIMEOUT:?}",
            received.len(),
            sent.len()
        );
    }
    let distinct: BTreeSet<&str> = received.iter().map(String::as_str).collect();
    assert_eq!(distinct.len(), received.len(), "no message arrived twice");
    assert_eq!(distinct, expected);
}

pub async fn after_the_last_allowed_receive_the_message_is_a_dead_letter(
    queue: &dyn ConformanceQueue,
) {
    let [body] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&body)).await;

    let mut message_id = None;
    for receive in 1..=MAX_RECEIVES {
        let (delivery, _) = receive_until(queue, &body, HIDDEN).await;
        assert_eq!(delivery.receive_count, receive);
        message_id.get_or_insert(delivery.message_id.clone());
        queue
            .release(&delivery.receipt, Duration::ZERO)
            .await
            .expect("the release succeeds");
    }

    let dead = receive_dead_letter_until(queue, &body).await;
    assert_eq!(Some(&dead.message_id), message_id.as_ref());
    assert!(dead.receive_count > MAX_RECEIVES, "{dead:?}");
    assert_not_received(queue, &body, "a dead letter is out of the main queue").await;

    queue
        .delete(&dead.receipt)
        .await
        .expect("a dead letter can be deleted");
}

pub async fn deleting_with_a_stale_receipt_never_fails_and_the_current_one_deletes(
    queue: &dyn ConformanceQueue,
) {
    let [body] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&body)).await;

    let (stale, _) = receive_until(queue, &body, HIDDEN).await;
    queue
        .release(&stale.receipt, Duration::ZERO)
        .await
        .expect("the release succeeds");
    let (current, _) = receive_until(queue, &body, BRIEF).await;

    queue
        .delete(&stale.receipt)
        .await
        .expect("a stale receipt is no error");
    queue
        .delete(&current.receipt)
        .await
        .expect("the current receipt deletes");

    // Had the message survived, it would be back once its one-second visibility lapsed, which
    // a second message sent now and received with the same visibility shows.
    let [witness] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&witness)).await;
    let (_, mut seen) = receive_until(queue, &witness, BRIEF).await;
    seen.extend(receive_until(queue, &witness, HIDDEN).await.1);
    assert!(
        seen.iter().all(|delivery| delivery.body != body),
        "a deleted message came back: {seen:?}"
    );
}

/// Only for adapters that keep SQS's rule (see the module docs): a receipt from an earlier
/// receive does not delete the message its newer receiver holds.
pub async fn a_stale_receipt_cannot_delete_a_message_received_again(queue: &dyn ConformanceQueue) {
    let [body] = bodies(1).try_into().unwrap();
    send(queue, std::slice::from_ref(&body)).await;

    let (stale, _) = receive_until(queue, &body, HIDDEN).await;
    queue
        .release(&stale.receipt, Duration::ZERO)
        .await
        .expect("the release succeeds");
    let (current, _) = receive_until(queue, &body, HIDDEN).await;

    queue
        .delete(&stale.receipt)
        .await
        .expect("a stale receipt is no error");
    queue
        .release(&current.receipt, Duration::ZERO)
        .await
        .expect("the current receipt still holds the message");
    let (third, _) = receive_until(queue, &body, HIDDEN).await;
    assert_eq!(third.message_id, current.message_id);
    assert_eq!(third.receive_count, 3);
}

pub async fn calls_outside_the_queue_limits_are_refused(queue: &dyn ConformanceQueue) {
    assert!(queue.receive(0, HIDDEN).await.is_err());
    assert!(queue.receive(MAX_BATCH + 1, HIDDEN).await.is_err());
    let past_twelve_hours = Duration::from_secs(12 * 60 * 60 + 1);
    assert!(queue.receive(1, past_twelve_hours).await.is_err());
    assert!(queue.delete("not a receipt").await.is_err());
    assert!(
        queue
            .release("not a receipt", Duration::ZERO)
            .await
            .is_err()
    );
    // An empty send is no call at all.
    queue
        .send(Vec::new())
        .await
        .expect("an empty send succeeds");
}
