//! Itinera's embedded adapters, for running the whole backend on one machine without AWS.
//!
//! [`EmbeddedStore`] implements the storage port on redb, a single-file transactional key-value
//! store: durable, crash-safe and with the same semantics the DynamoDB adapter offers, so that
//! the local stack and the tests exercise the same behaviour production relies on.

mod store;

pub use store::{DATABASE_FILE_NAME, EmbeddedStore, EmbeddedStoreError};
