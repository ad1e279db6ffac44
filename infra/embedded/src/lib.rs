//! Itinera's embedded adapters, for running the whole backend on one machine without AWS.
//!
//! [`EmbeddedStore`] implements the storage port on redb, a single-file transactional key-value
//! store: durable, crash-safe and with the same semantics the DynamoDB adapter offers, so that
//! the local stack and the tests exercise the same behaviour production relies on. One writer
//! thread group-commits concurrent writes: one transaction and one `fsync` for every write queued
//! at that moment, each answered once that commit is on disk.
//!
//! [`EmbeddedQueue`] implements the job queue ports on redb with SQS's rules (visibility timeout,
//! receive counts, a dead-letter queue), so jobs survive restarts of the local stack too.
//!
//! [`OutboxMailer`] implements the mail port by writing each email as an `.eml` file (RFC 5322,
//! built with `lettre`'s message builder) to a local outbox directory, so local runs send nothing
//! and every message can be opened in a mail client.
//!
//! [`EmbeddedBlobs`] implements the blob port with files under `DATA_DIR/blobs/` and URLs signed
//! with an HMAC (method, key, content type, exact size, expiry), which the local API serves.

mod blobs;
mod group_commit;
mod mailbox;
mod queue;
mod store;

pub use blobs::{BLOBS_DIR_NAME, BLOBS_PATH, BlobDownload, BlobRequestError, EmbeddedBlobs};
pub use mailbox::OutboxMailer;
pub use queue::{EmbeddedQueue, EmbeddedQueueError, QUEUE_FILE_NAME};
pub use store::{DATABASE_FILE_NAME, EmbeddedStore, EmbeddedStoreError};
