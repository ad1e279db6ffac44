//! Itinera's domain crate: everything the entry points share, free of any AWS dependency.
//!
//! - [`api`]: the route table, the HTTP pipeline and thin handlers, for Lambda and local alike.
//! - [`airplanes`]: the fleet; one file per use case (`create.rs`, `list.rs`, ...).
//! - [`storage`]: the storage port (DynamoDB semantics in typed terms) and the table schema.
//! - [`pagination`], [`version`]: list pages and optimistic concurrency, shared by every entity.
//! - [`audit`]: audit entries, written in the same transaction as the change they record.
//! - [`identity`]: roles, the authenticated principal and the request context of a change.
//! - [`jobs`]: background jobs and the queue ports they travel through.
//! - [`money`]: amounts in minor units with their currency.
//! - [`clock`]: time and identifier ports.
//! - [`error`]: the error use cases return.
//! - [`config`], [`telemetry`]: settings from the environment and JSON logs, for every entry point.

pub mod accounts;
pub mod airplanes;
pub mod api;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod identity;
pub mod jobs;
pub mod money;
pub mod pagination;
pub mod ratelimit;
pub mod storage;
pub mod telemetry;
pub mod version;
