//! The queue port: SQS semantics in typed terms.
//!
//! Producers send messages; consumers receive them, which hides them for a visibility timeout,
//! and delete them once handled. A message not deleted becomes visible again and is received once
//! more (at-least-once delivery); after [`MAX_RECEIVES`] receives it moves to a dead-letter queue.
//! SQS implements this in AWS (its redrive policy moves the message); the embedded queue
//! implements the same rules on disk for local runs. In Lambda the event source mapping does the
//! receiving and deleting, so functions only ever use [`JobQueue`].

use std::time::Duration;

use async_trait::async_trait;

use crate::storage::BoxError;

/// How many times a message is received before it moves to the dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;

/// The most messages one send or one receive handles (SQS's batch limit).
pub const MAX_BATCH: usize = 10;

/// A message to send: the body, and an id unique within one send call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub body: String,
}

/// A received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The id the queue gave the message; the same on every receive.
    pub message_id: String,
    /// The handle that deletes this receive of the message (or changes its visibility).
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue could not be reached, or refused the request for now.
    #[error("the queue could not be reached")]
    Unavailable(#[source] BoxError),
    /// Anything else: a message over the size limit, an unknown receipt, a bug.
    #[error("the queue failed unexpectedly")]
    Internal(#[source] BoxError),
}

/// The producer side: what use cases and scheduled functions send jobs through.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Sends the messages, in batches of at most [`MAX_BATCH`]. Either every message was
    /// accepted, or an error says some may not have been (sending again is safe: consumers
    /// deduplicate).
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError>;
}

/// The consumer side: what the local worker loop and the tests receive jobs through.
#[async_trait]
pub trait JobSource: Send + Sync + 'static {
    /// Receives up to `max` (1 to [`MAX_BATCH`]) visible messages and hides each for
    /// `visibility` (at most twelve hours; SQS rounds it up to whole seconds). Messages that have
    /// been received [`MAX_RECEIVES`] times move to the dead-letter queue instead of being
    /// delivered again. Answers at once: an empty answer does not mean the queue is empty (SQS
    /// samples some of its servers), so consumers poll.
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError>;

    /// Deletes a handled message. Only the receipt of the message's latest receive deletes it: an
    /// earlier one (the message was received again since) deletes nothing and is no error, nor
    /// is deleting a message already gone. A string that is no receipt of this queue is an error.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;

    /// Makes a received message visible again after `delay` (zero: at once; at most twelve
    /// hours). A receipt from an earlier receive never changes the message for its newer holder.
    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;

    /// Receives up to `max` messages from the dead-letter queue, hiding each for `visibility`.
    async fn receive_dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, QueueError>;
}
