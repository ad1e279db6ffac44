//! The background functions, in-process: the worker drains the embedded queue and each schedule
//! runs on a timer, exactly as `itinera::background::BACKGROUND_FUNCTIONS` declares them for AWS.
//!
//! The embedded queue has SQS's semantics (visibility timeout, receive count, dead letters after
//! five receives) and is durable, as are the store and its outbox: a crash at any point loses no
//! job. A job being processed when the process dies becomes visible again once its visibility
//! timeout lapses and is processed by the next run; the worker's deduplication keeps its effects
//! single.

use std::sync::Arc;
use std::time::Duration;

use itinera::background::{BACKGROUND_FUNCTIONS, ScheduledServices, Trigger, run_scheduled};
use itinera::jobs::{JobSource, MAX_BATCH, WorkerServices, process_batch};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

/// How long a received job stays hidden from other receives while the worker processes it
/// (the jobs queue's visibility timeout in AWS is longer because Lambda's retries are slower).
/// Longer than the outbox mailer's email lease ([`itinera_embedded::OutboxMailer::LEASE`]), so a
/// job whose delivery died sending (a killed server) finds the lease lapsed when it comes back
/// and is sent, rather than failing its receives away into the dead-letter queue.
pub const VISIBILITY: Duration = Duration::from_secs(30);
/// How long the worker waits before looking again when the queue was empty or failed.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// The longest a failed job waits before its next attempt.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Runs the worker and every schedule until `shutdown` becomes true, then waits for the work in
/// hand (one batch, one scheduled run) to finish.
pub async fn run(
    worker: WorkerServices,
    source: Arc<dyn JobSource>,
    scheduled: Arc<ScheduledServices>,
    shutdown: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    tasks.spawn(drain(worker, source, shutdown.clone()));
    for background in BACKGROUND_FUNCTIONS {
        let Trigger::Schedule { task, .. } = background.trigger else {
            continue;
        };
        let Some(interval) = background.trigger.interval() else {
            tracing::error!(
                function = background.function,
                "a schedule without an interval"
            );
            continue;
        };
        let scheduled = Arc::clone(&scheduled);
        let mut shutdown = shutdown.clone();
        let function = background.function;
        tasks.spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
                match run_scheduled(task, &scheduled).await {
                    Ok(0) => tracing::debug!(function, "scheduled run found nothing to do"),
                    Ok(processed) => tracing::info!(function, processed, "scheduled run completed"),
                    Err(error) => tracing::error!(
                        function,
                        error = %itinera::error::chain(&error),
                        "scheduled run failed; the next run retries"
                    ),
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// The worker loop: receive a batch, process it concurrently, delete what succeeded, and give
/// each failed job back to the queue after a delay that doubles with its receives. Runs until
/// `shutdown` becomes true, then returns once the batch in hand is settled. Public so that the
/// worker's crash test (`tests/suite/worker_crash.rs`) kills this very loop mid-batch.
pub async fn drain(
    worker: WorkerServices,
    source: Arc<dyn JobSource>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        let deliveries = match source.receive(MAX_BATCH, VISIBILITY).await {
            Ok(deliveries) => deliveries,
            Err(error) => {
                tracing::error!(error = %itinera::error::chain(&error), "receiving jobs failed");
                Vec::new()
            }
        };
        if deliveries.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            continue;
        }
        let failed = process_batch(&worker, deliveries.clone()).await;
        for delivery in deliveries {
            let outcome = if failed.contains(&delivery.message_id) {
                source
                    .release(&delivery.receipt, retry_delay(delivery.receive_count))
                    .await
            } else {
                source.delete(&delivery.receipt).await
            };
            if let Err(error) = outcome {
                tracing::warn!(
                    message_id = %delivery.message_id,
                    error = %itinera::error::chain(&error),
                    "could not settle a job; it returns when its visibility timeout lapses"
                );
            }
        }
    }
}

/// One second after the first failure, doubling with each receive, at most a minute.
fn retry_delay(receive_count: u32) -> Duration {
    let exponent = receive_count.saturating_sub(1).min(6);
    Duration::from_secs(1 << exponent).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use itinera::jobs::MAX_RECEIVES;
    use itinera_embedded::OutboxMailer;

    #[test]
    fn a_job_whose_sender_died_is_sent_before_its_receives_run_out() {
        // Redelivered after the visibility timeout, the job finds its dead sender's lease lapsed.
        let visibility = TimeDelta::from_std(VISIBILITY).expect("a duration");
        assert!(visibility > OutboxMailer::LEASE);
        // A delivery that finds the lease held by another retries past it before its last receive.
        let retries: u64 = (1..MAX_RECEIVES)
            .map(|count| retry_delay(count).as_secs())
            .sum();
        assert!(TimeDelta::seconds(retries as i64) > OutboxMailer::LEASE);
    }

    #[test]
    fn retries_back_off_exponentially_up_to_a_minute() {
        let delays: Vec<u64> = (1..=8).map(|count| retry_delay(count).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(retry_delay(0).as_secs(), 1);
    }
}
