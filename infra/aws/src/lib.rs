//! AWS adapters: the DynamoDB implementation of the storage port and its client setup.
//!
//! - [`sqs`]: the job queue ports on SQS ([`SqsQueue`]), its settings and client, and the
//!   queue-pair setup tests and local stacks use.
//! - [`ses`]: the mail port on SES ([`SesMailer`]), with its client and the sender setting
//!   ([`MailConfig`]).
//! - [`ssm`]: the SecureString parameters the functions read their token keys from at cold start,
//!   through one signed `GetParameter` call rather than an SDK client.

mod client;
pub mod dynamodb;
pub mod ses;
pub mod sqs;
pub mod ssm;

pub use dynamodb::{
    ConfigError, DynamoDbConfig, DynamoDbStore, TableSetupError, build_client, build_local_client,
    create_table,
};
pub use ses::{MailConfig, SesMailer};
pub use sqs::{
    QueueSetupError, SqsQueue, SqsQueueConfig, build_local_sqs_client, build_sqs_client,
    create_queue_pair,
};
