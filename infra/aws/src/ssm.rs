//! Secrets from SSM Parameter Store: the access-token keys, which functions read once at cold
//! start from SecureString parameters named in their environment.

use std::time::Duration;

use crate::client::{environment_config, local_config};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::DisplayErrorContext;

/// A cold start waits for these reads, so they may not hang; SSM answers in tens of milliseconds.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(5000);
const MAX_ATTEMPTS: u32 = 3;

/// A parameter that could not be read. Never carries the parameter's value.
#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error("the SSM parameter {name} does not exist")]
    NotFound { name: String },
    #[error("the SSM parameter {name} is empty")]
    Empty { name: String },
    #[error("reading the SSM parameter {name} failed: {detail}")]
    Request {
        name: String,
        detail: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The client for the deployed account: region and credentials from the Lambda environment.
/// Build it once, at cold start, and only when a parameter has to be read.
pub async fn build_client() -> Client {
    let config = aws_sdk_ssm::config::Builder::from(environment_config().await)
        .timeout_config(timeout_config())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    Client::from_conf(config)
}

/// A client for a local SSM-compatible server (moto) at `endpoint`, with fixed dummy
/// credentials, so that nothing is read from the process environment or profile files.
pub fn build_local_client(endpoint: &str) -> Client {
    let config = aws_sdk_ssm::config::Builder::from(&local_config(endpoint))
        .timeout_config(timeout_config())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    Client::from_conf(config)
}

/// The decrypted value of the SecureString (or String) parameter `name`.
#[tracing::instrument(skip(client))]
pub async fn read_secure_parameter(client: &Client, name: &str) -> Result<String, SsmError> {
    let output = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|error| {
            if error
                .as_service_error()
                .is_some_and(|service| service.is_parameter_not_found())
            {
                SsmError::NotFound {
                    name: name.to_owned(),
                }
            } else {
                SsmError::Request {
                    name: name.to_owned(),
                    detail: DisplayErrorContext(&error).to_string(),
                    source: error.into(),
                }
            }
        })?;
    output
        .parameter
        .and_then(|parameter| parameter.value)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| SsmError::Empty {
            name: name.to_owned(),
        })
}
