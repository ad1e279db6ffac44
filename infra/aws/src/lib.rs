//! AWS adapters: the DynamoDB implementation of the storage port and its client setup.

pub mod dynamodb;
pub mod ssm;

pub use dynamodb::{
    ConfigError, DynamoDbConfig, DynamoDbStore, TableSetupError, build_client, build_local_client,
    create_table,
};
