//! Background jobs: what use cases hand to workers so that no request waits on email.
//!
//! - `job.rs`: [`Job`], the notice a use case enqueues for a user or an email address (a booking
//!   confirmed, cancelled, expired, cancelled with its flight, a departure reminder; a car
//!   reserved, a pickup or return reminder; an issue report's status change, a critical issue on a
//!   rented car).
//! - `task.rs`: [`TaskJob`], work on the store a use case leaves to the worker (settling a charge
//!   or a refund, cancelling a cancelled flight's bookings); [`Work`] is either.
//! - `queue.rs`: the queue ports, [`JobQueue`] (send) and [`JobSource`] (receive, delete), with
//!   SQS's at-least-once, visibility-timeout and dead-letter rules.
//! - [`outbox`]: how a job commits with the change that causes it and reaches the queue even
//!   when the process dies before sending ([`outbox::stage`], [`outbox::dispatch`],
//!   [`outbox::relay`]).
//! - `worker.rs`: what a job does, once however often it is delivered: [`process_batch`] and
//!   [`process_job`] write the user's notification and send their email, or run the task.

mod job;
pub mod outbox;
mod queue;
mod task;
mod worker;

pub use job::{
    BookingSnapshot, ContractSnapshot, IssueSnapshot, Job, JobId, JobKind, PaperSnapshot,
    Recipient, Subject,
};
pub use queue::{Delivery, JobQueue, JobSource, MAX_BATCH, MAX_RECEIVES, QueueError, QueueMessage};
pub use task::{Task, TaskJob, Work};
pub use worker::{
    EMAIL_LEASE, JobError, Processed, WorkerServices, process_batch, process_job, run_task,
};
