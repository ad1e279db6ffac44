//! What every AWS client here starts from, so that it is set up once.
//!
//! - Deployed: [`environment_config`] loads the execution environment's region, credentials and
//!   HTTP client once per process. A function that talks to DynamoDB and SQS builds both clients
//!   from the same configuration, so cold start loads it (and the CA certificates its HTTPS
//!   client reads) once, not once per service. Each service then adds its own timeouts and
//!   retries.
//! - Local servers (moto, DynamoDB Local): [`local_config`] signs with fixed dummy credentials in
//!   `us-east-1` and reads nothing from the process environment or profile files, so a local
//!   client can never reach AWS.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use tokio::sync::OnceCell;

/// The region local clients sign for; local servers accept any.
pub(crate) const LOCAL_REGION: &str = "us-east-1";
/// The access key (and secret) local clients sign with.
const LOCAL_ACCESS_KEY: &str = "itinera-local";

/// The execution environment's SDK configuration, loaded on first use and shared by every client
/// the process builds.
pub(crate) async fn environment_config() -> &'static SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG
        .get_or_init(|| aws_config::defaults(BehaviorVersion::latest()).load())
        .await
}

/// The SDK configuration of a client for a local server at `endpoint`.
pub(crate) fn local_config(endpoint: &str) -> SdkConfig {
    let credentials = Credentials::new(
        LOCAL_ACCESS_KEY,
        LOCAL_ACCESS_KEY,
        None,
        None,
        "itinera-local",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint)
        .build()
}
