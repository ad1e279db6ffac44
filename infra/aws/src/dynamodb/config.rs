//! The DynamoDB client's settings, read once from the environment, and the client built from them.
//!
//! A Lambda execution environment builds one client at cold start and reuses it (and its pooled
//! HTTPS connections) for every invocation; `docs/dynamodb-client.md` explains the defaults.

use std::time::Duration;

use crate::client::{environment_config, local_config};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;

const TABLE_NAME: &str = "TABLE_NAME";
const ENDPOINT: &str = "DYNAMODB_ENDPOINT";
const CONNECT_TIMEOUT: &str = "DYNAMODB_CONNECT_TIMEOUT_MS";
const ATTEMPT_TIMEOUT: &str = "DYNAMODB_ATTEMPT_TIMEOUT_MS";
const OPERATION_TIMEOUT: &str = "DYNAMODB_OPERATION_TIMEOUT_MS";
const MAX_ATTEMPTS: &str = "DYNAMODB_MAX_ATTEMPTS";

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(2000);
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(5000);
const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The first retry waits up to this long (full jitter), doubling per retry up to
/// [`MAX_BACKOFF`]. The SDK's default of 1 s is made for batch clients; a request path behind API
/// Gateway cannot afford it, and DynamoDB's own transient errors clear within milliseconds.
const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_millis(1000);

/// How the DynamoDB client reaches the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamoDbConfig {
    /// `TABLE_NAME` (required): the table's name or ARN.
    pub table_name: String,
    /// `DYNAMODB_ENDPOINT`: overrides the regional endpoint, for local servers.
    pub endpoint: Option<String>,
    /// `DYNAMODB_CONNECT_TIMEOUT_MS` (default 1000): TCP and TLS setup of a new connection.
    pub connect_timeout: Duration,
    /// `DYNAMODB_ATTEMPT_TIMEOUT_MS` (default 2000): one HTTP attempt, connection setup included.
    pub attempt_timeout: Duration,
    /// `DYNAMODB_OPERATION_TIMEOUT_MS` (default 5000): all attempts and backoff of one call.
    pub operation_timeout: Duration,
    /// `DYNAMODB_MAX_ATTEMPTS` (default 3): attempts per call, the first included; standard retry
    /// mode (exponential backoff with jitter, retry quota).
    pub max_attempts: u32,
}

/// A setting that is missing or malformed; the message names the environment variable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the environment variable {name} must be set")]
    Missing { name: &'static str },
    #[error("the environment variable {name} is invalid ({value:?}): {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

impl DynamoDbConfig {
    /// The defaults for a table.
    pub fn new(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            endpoint: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A value that is not UTF-8 is read lossily so that validation names it instead of
        // treating it as unset.
        Self::from_lookup(itinera::config::env)
    }

    /// Reads the settings through `lookup` (variable name -> value). Empty optional values count
    /// as unset, since templates often pass `""` for "not configured".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let optional = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let table_name = optional(TABLE_NAME).ok_or(ConfigError::Missing { name: TABLE_NAME })?;
        validate_table_name(&table_name)?;

        let endpoint = optional(ENDPOINT);
        if let Some(endpoint) = &endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(invalid(
                ENDPOINT,
                endpoint,
                "must be an http:// or https:// URL",
            ));
        }

        let millis = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            match optional(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(0) | Err(_) => Err(invalid(
                        name,
                        &value,
                        "must be a whole number of milliseconds above 0",
                    )),
                    Ok(millis) => Ok(Duration::from_millis(millis)),
                },
            }
        };
        let connect_timeout = millis(CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT)?;
        let attempt_timeout = millis(ATTEMPT_TIMEOUT, DEFAULT_ATTEMPT_TIMEOUT)?;
        let operation_timeout = millis(OPERATION_TIMEOUT, DEFAULT_OPERATION_TIMEOUT)?;
        if operation_timeout < attempt_timeout {
            return Err(invalid(
                OPERATION_TIMEOUT,
                &operation_timeout.as_millis().to_string(),
                &format!(
                    "must be at least {ATTEMPT_TIMEOUT} ({} ms)",
                    attempt_timeout.as_millis()
                ),
            ));
        }

        let max_attempts = match optional(MAX_ATTEMPTS) {
            None => DEFAULT_MAX_ATTEMPTS,
            Some(value) => match value.trim().parse::<u32>() {
                Ok(attempts @ 1..=10) => attempts,
                _ => {
                    return Err(invalid(
                        MAX_ATTEMPTS,
                        &value,
                        "must be a whole number from 1 to 10",
                    ));
                }
            },
        };

        Ok(Self {
            table_name,
            endpoint,
            connect_timeout,
            attempt_timeout,
            operation_timeout,
            max_attempts,
        })
    }

    fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(INITIAL_BACKOFF)
            .with_max_backoff(MAX_BACKOFF)
    }
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// DynamoDB's table name rule (3 to 255 of `A-Z a-z 0-9 _ - .`), or a table ARN.
fn validate_table_name(name: &str) -> Result<(), ConfigError> {
    if name.starts_with("arn:") {
        return Ok(());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if (3..=255).contains(&name.len()) && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(invalid(
            TABLE_NAME,
            name,
            "must be 3 to 255 letters, digits, '_', '-' or '.', or a table ARN",
        ))
    }
}

/// The client for the deployed table: region and credentials from the Lambda environment (the
/// default provider chain), timeouts and retries from `config`. Build it once per execution
/// environment and share it.
pub async fn build_client(config: &DynamoDbConfig) -> Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(environment_config().await)
        .timeout_config(config.timeout_config())
        .retry_config(config.retry_config());
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// A client for a local DynamoDB-compatible server (moto, DynamoDB Local) at `config.endpoint`,
/// signing with fixed dummy credentials in `us-east-1` so that nothing is read from the process
/// environment or profile files. Fails when no endpoint is configured, so that it can never talk
/// to AWS.
pub fn build_local_client(config: &DynamoDbConfig) -> Result<Client, ConfigError> {
    let endpoint = config
        .endpoint
        .as_deref()
        .ok_or(ConfigError::Missing { name: ENDPOINT })?;
    let sdk_config = aws_sdk_dynamodb::config::Builder::from(&local_config(endpoint))
        .timeout_config(config.timeout_config())
        .retry_config(config.retry_config())
        .build();
    Ok(Client::from_conf(sdk_config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::LOCAL_REGION;
    use crate::client::test_settings::lookup;

    #[test]
    fn defaults_apply_when_only_the_table_is_set() {
        let config =
            DynamoDbConfig::from_lookup(lookup(&[("TABLE_NAME", "itinera-prod")])).expect("valid");
        assert_eq!(config, DynamoDbConfig::new("itinera-prod"));
        assert_eq!(config.endpoint, None);
        assert_eq!(config.connect_timeout, Duration::from_millis(1000));
        assert_eq!(config.attempt_timeout, Duration::from_millis(2000));
        assert_eq!(config.operation_timeout, Duration::from_millis(5000));
        assert_eq!(config.max_attempts, 3);
    }

    #[test]
    fn every_setting_is_read() {
        let config = DynamoDbConfig::from_lookup(lookup(&[
            ("TABLE_NAME", "itinera-dev"),
            ("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"),
            ("DYNAMODB_CONNECT_TIMEOUT_MS", "250"),
            ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "800"),
            ("DYNAMODB_OPERATION_TIMEOUT_MS", " 3000 "),
            ("DYNAMODB_MAX_ATTEMPTS", "5"),
        ]))
        .expect("valid");
        assert_eq!(
            config,
            DynamoDbConfig {
                table_name: "itinera-dev".into(),
                endpoint: Some("http://127.0.0.1:8000".into()),
                connect_timeout: Duration::from_millis(250),
                attempt_timeout: Duration::from_millis(800),
                operation_timeout: Duration::from_millis(3000),
                max_attempts: 5,
            }
        );
        let timeouts = config.timeout_config();
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_millis(250)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_millis(800))
        );
        assert_eq!(
            timeouts.operation_timeout(),
            Some(Duration::from_millis(3000))
        );
        let retries = config.retry_config();
        assert_eq!(retries.max_attempts(), 5);
        assert_eq!(retries.initial_backoff(), INITIAL_BACKOFF);
        assert_eq!(retries.max_backoff(), MAX_BACKOFF);
    }

    #[test]
    fn a_missing_or_empty_table_name_names_the_variable() {
        for pairs in [&[][..], &[("TABLE_NAME", "  ")][..]] {
            let error = DynamoDbConfig::from_lookup(lookup(pairs)).expect_err("table required");
            assert_eq!(error, ConfigError::Missing { name: "TABLE_NAME" });
            assert_eq!(
                error.to_string(),
                "the environment variable TABLE_NAME must be set"
            );
        }
    }

    #[test]
    fn empty_optional_settings_count_as_unset() {
        let config = DynamoDbConfig::from_lookup(lookup(&[
            ("TABLE_NAME", "t-1"),
            ("DYNAMODB_ENDPOINT", ""),
            ("DYNAMODB_MAX_ATTEMPTS", ""),
        ]))
        .expect("valid");
        assert_eq!(config, DynamoDbConfig::new("t-1"));
    }

    #[test]
    fn malformed_settings_name_the_variable() {
        let cases: &[(&str, &str)] = &[
            ("TABLE_NAME", "no spaces allowed"),
            ("TABLE_NAME", "ab"),
            ("DYNAMODB_ENDPOINT", "localhost:8000"),
            ("DYNAMODB_CONNECT_TIMEOUT_MS", "1s"),
            ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "0"),
            ("DYNAMODB_OPERATION_TIMEOUT_MS", "-5"),
            ("DYNAMODB_MAX_ATTEMPTS", "0"),
            ("DYNAMODB_MAX_ATTEMPTS", "11"),
        ];
        for (name, value) in cases {
            let mut pairs = vec![("TABLE_NAME", "itinera")];
            pairs.push((name, value));
            let error = DynamoDbConfig::from_lookup(lookup(&pairs)).expect_err("invalid");
            match &error {
                ConfigError::Invalid {
                    name: reported,
                    value: shown,
                    ..
                } => {
                    assert_eq!(reported, name);
                    assert_eq!(shown, value);
                }
                other => panic!("{name}={value}: {other:?}"),
            }
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn the_operation_timeout_cannot_be_shorter_than_one_attempt() {
        let error = DynamoDbConfig::from_lookup(lookup(&[
            ("TABLE_NAME", "itinera"),
            ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "3000"),
            ("DYNAMODB_OPERATION_TIMEOUT_MS", "2000"),
        ]))
        .expect_err("inconsistent");
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    name: "DYNAMODB_OPERATION_TIMEOUT_MS",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_table_arn_is_accepted() {
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/itinera";
        let config =
            DynamoDbConfig::from_lookup(lookup(&[("TABLE_NAME", arn)])).expect("an ARN is valid");
        assert_eq!(config.table_name, arn);
    }

    #[test]
    fn a_local_client_needs_an_endpoint() {
        let error = build_local_client(&DynamoDbConfig::new("itinera")).expect_err("no endpoint");
        assert_eq!(
            error,
            ConfigError::Missing {
                name: "DYNAMODB_ENDPOINT"
            }
        );
    }

    #[test]
    fn a_local_client_carries_the_configured_timeouts_and_retries() {
        let mut config = DynamoDbConfig::new("itinera");
        config.endpoint = Some("http://127.0.0.1:1".into());
        config.max_attempts = 2;
        let client = build_local_client(&config).expect("an endpoint is set");
        let sdk = client.config();
        assert_eq!(
            sdk.region().map(|region| region.as_ref()),
            Some(LOCAL_REGION)
        );
        assert_eq!(sdk.retry_config().map(RetryConfig::max_attempts), Some(2));
        assert_eq!(
            sdk.timeout_config()
                .and_then(TimeoutConfig::operation_timeout),
            Some(DEFAULT_OPERATION_TIMEOUT)
        );
    }
}
