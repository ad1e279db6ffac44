//! The queue conformance suite against the embedded (redb) queue, each test on a new file in its
//! own temporary directory.

use itinera_embedded::EmbeddedQueue;

use super::QueueUnderTest;

async fn fresh_queue() -> QueueUnderTest {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let queue = EmbeddedQueue::open(dir.path()).expect("the embedded queue opens");
    // Fields drop in declaration order: the queue closes its file before the directory goes.
    QueueUnderTest {
        queue: Box::new(queue),
        _resources: Box::new(dir),
    }
}

crate::queue_conformance::queue_conformance_suite!(fresh_queue);

/// The embedded queue keeps SQS's receipt rule, which moto does not (see the suite's docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_receipt_cannot_delete_a_message_received_again() {
    let under_test = fresh_queue().await;
    super::a_stale_receipt_cannot_delete_a_message_received_again(&*under_test.queue).await;
}
