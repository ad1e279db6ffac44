//! Itinera's domain crate: everything the entry points share, free of any AWS dependency.
//!
//! - [`storage`]: the storage port (DynamoDB semantics in typed terms) and the table schema.
//! - [`clock`]: time and identifier ports.

pub mod clock;
pub mod storage;
