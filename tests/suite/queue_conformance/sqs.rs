//! The queue conformance suite against the SQS adapter, on an SQS-compatible server (moto in CI
//! and locally, started by `./infra/test.sh`), each test on a queue pair of its own.
//!
//! The server is named by `ITINERA_TEST_SQS_ENDPOINT`. Without it the tests fail rather than
//! skip: a skipped adapter would look like a passing one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use itinera_aws::{SqsQueue, build_local_sqs_client, create_queue_pair};

use super::QueueUnderTest;

const ENDPOINT_VARIABLE: &str = "ITINERA_TEST_SQS_ENDPOINT";

/// A queue name no other test, and no earlier run against the same server, has used (SQS allows
/// 80 characters; the dead-letter queue adds `-dlq`).
fn unique_queue_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    format!(
        "itinera-jobs-{}-{started}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new queue and dead-letter queue. Each test gets its own client: a client's connection pool
/// is bound to the runtime it was first used on, and every test runs on a runtime of its own.
async fn fresh_queue() -> QueueUnderTest {
    let endpoint = std::env::var(ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_VARIABLE} is not set: start moto with ./infra/test.sh or set \
             {ENDPOINT_VARIABLE}"
        )
    });
    let client = build_local_sqs_client(&endpoint);
    let name = unique_queue_name();
    let (queue_url, dead_letter_queue_url) = create_queue_pair(&client, &name)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "creating queues {name} on {endpoint}: {}",
                itinera::error::chain(&error)
            )
        });
    QueueUnderTest {
        queue: Box::new(SqsQueue::new(
            client,
            queue_url,
            Some(dead_letter_queue_url),
        )),
        _resources: Box::new(()),
    }
}

crate::queue_conformance::queue_conformance_suite!(fresh_queue);
