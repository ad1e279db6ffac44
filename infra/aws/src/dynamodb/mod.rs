//! The DynamoDB adapter: client configuration, table setup and the `Store` implementation.

mod config;
mod convert;
mod errors;
mod expression;
mod store;
mod table;

pub use config::{ConfigError, DynamoDbConfig, build_client, build_local_client};
pub use store::DynamoDbStore;
pub use table::{TableSetupError, create_table};
