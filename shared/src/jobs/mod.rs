//! Background jobs: what use cases hand to workers so that no request waits on email.
//!
//! - `job.rs`: [`Job`], the message a use case enqueues (a booking confirmed, cancelled, expired,
//!   a departure reminder).
//! - `queue.rs`: the queue ports, [`JobQueue`] (send) and [`JobSource`] (receive, delete), with
//!   SQS's at-least-once, visibility-timeout and dead-letter rules.

mod job;
mod queue;

pub use job::{BookingSnapshot, Job, JobId, JobKind};
pub use queue::{Delivery, JobQueue, JobSource, MAX_BATCH, MAX_RECEIVES, QueueError, QueueMessage};
