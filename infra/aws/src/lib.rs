//! AWS adapters: the DynamoDB implementation of the storage port and its client setup.
//!
//! - [`s3`]: the blob port on S3 ([`S3Blobs`]): presigned upload and download URLs, heads and
//!   promotions, with the bucket setting ([`BlobBucketConfig`]).
//! - [`sqs`]: the job queue ports on SQS ([`SqsQueue`]), its settings and client, and the
//!   queue-pair setup tests and local stacks use.
//! - [`ses`]: the mail port on SES ([`SesMailer`]), with its client and the sender setting
//!   ([`MailConfig`]).
//! - [`ssm`]: the SecureString parameters the functions read their token keys from at cold start,
//!   through one signed `GetParameter` call rather than an SDK client.

mod client;
pub mod dynamodb;
pub mod s3;
pub mod ses;
pub mod sqs;
pub mod ssm;

pub use dynamodb::{
    ConfigError, DynamoDbConfig, DynamoDbStore, TableSetupError, build_client, build_local_client,
    create_table,
};
pub use s3::{
    BlobBucketConfig, BucketSetupError, S3Blobs, build_local_s3_client, build_s3_client,
    create_bucket,
};
pub use ses::{MailConfig, SesMailer};
pub use sqs::{
    QueueSetupError, SqsQueue, SqsQueueConfig, build_local_sqs_client, build_sqs_client,
    create_queue_pair,
};
