//! Email through Amazon SES (API v2): the mail port for deployed functions.
//!
//! Each email goes out as SES "simple" content, a UTF-8 subject and text body that SES renders
//! into a MIME message itself. The sender comes from `MAIL_FROM` and must be a verified SES
//! identity (the address or its domain) in the function's account and region.
//!
//! Errors are sorted for the worker: throttling, a sending quota reached, timeouts, connection
//! failures and SES's own server errors are `Unavailable` (a later delivery may succeed);
//! everything else is `Rejected`. SDK text (codes, messages, request ids) is logged here with the
//! email's message id and travels on only as the error's source, for the worker's log line.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use itinera::accounts::Email as Address;
use itinera::mail::{Email, MailError, Mailer};

use crate::ConfigError;
use crate::client::{environment_config, local_config, timeouts};

const MAIL_FROM: &str = "MAIL_FROM";

/// A send is short; these bound it well inside the worker's email lease.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(3000);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(10_000);
const MAX_ATTEMPTS: u32 = 3;

/// SES's charset name for UTF-8 content.
const UTF_8: &str = "UTF-8";

/// Who emails come from, read once from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// `MAIL_FROM` (required): the sender address, a verified SES identity.
    pub from: Address,
}

impl MailConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(itinera::config::env)
    }

    /// Reads the settings through `lookup` (variable name -> value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let raw = lookup(MAIL_FROM)
            .filter(|value| !value.trim().is_empty())
            .ok_or(ConfigError::Missing { name: MAIL_FROM })?;
        let from = Address::parse(&raw).map_err(|reason| ConfigError::Invalid {
            name: MAIL_FROM,
            value: raw.clone(),
            reason,
        })?;
        Ok(Self { from })
    }
}

fn timeout_config() -> TimeoutConfig {
    timeouts(CONNECT_TIMEOUT, ATTEMPT_TIMEOUT, OPERATION_TIMEOUT)
}

/// The client for the deployed account: region and credentials from the Lambda environment.
/// Build it once, at cold start.
pub async fn build_client() -> Client {
    let config = aws_sdk_sesv2::config::Builder::from(environment_config().await)
        .timeout_config(timeout_config())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    Client::from_conf(config)
}

/// A client for a local SES-compatible server (moto) at `endpoint`, with fixed dummy
/// credentials, so that nothing is read from the process environment or profile files.
pub fn build_local_client(endpoint: &str) -> Client {
    let config = aws_sdk_sesv2::config::Builder::from(&local_config(endpoint))
        .timeout_config(timeout_config())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    Client::from_conf(config)
}

/// Sends emails with SES's `SendEmail`.
#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: Address,
}

impl SesMailer {
    pub fn new(client: Client, from: Address) -> Self {
        Self { client, from }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    #[tracing::instrument(skip_all, fields(message_id = email.message_id()))]
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(utf8(email.subject())?)
            .body(Body::builder().text(utf8(email.text_body())?).build())
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(self.from.as_str())
            .destination(
                Destination::builder()
                    .to_addresses(email.to().as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(from_sdk)?;
        tracing::info!(
            ses_message_id = output.message_id().unwrap_or_default(),
            "SES accepted the email"
        );
        Ok(())
    }
}

/// Text as SES content in UTF-8.
fn utf8(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset(UTF_8)
        .build()
        .map_err(|error| MailError::Rejected(Box::new(error)))
}

/// Whether an SES error code means "not now" rather than "not this message".
fn is_transient(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "TooManyRequestsException"
                | "LimitExceededException"
                | "ThrottlingException"
                | "InternalFailure"
                | "InternalServerError"
                | "ServiceUnavailable"
        )
    )
}

/// The port's error for a failed `SendEmail`, logged here in full.
fn from_sdk<R>(error: SdkError<SendEmailError, R>) -> MailError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => is_transient(error.code()),
        _ => false,
    };
    tracing::warn!(
        code = error.code().unwrap_or("none"),
        transient,
        error = %DisplayErrorContext(&error),
        "SES did not accept the email"
    );
    if transient {
        MailError::Unavailable(Box::new(error))
    } else {
        MailError::Rejected(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sesv2::error::{ConnectorError, ErrorMetadata};

    use super::*;
    use crate::client::test_settings::lookup;

    fn service_error(code: &str) -> SdkError<SendEmailError, ()> {
        let error = SendEmailError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("details only the log may see")
                .build(),
        );
        SdkError::service_error(error, ())
    }

    #[test]
    fn the_sender_is_required_and_must_be_an_address() {
        assert_eq!(
            MailConfig::from_lookup(lookup(&[])),
            Err(ConfigError::Missing { name: "MAIL_FROM" })
        );
        assert_eq!(
            MailConfig::from_lookup(lookup(&[("MAIL_FROM", "  ")])),
            Err(ConfigError::Missing { name: "MAIL_FROM" })
        );
        let error = MailConfig::from_lookup(lookup(&[("MAIL_FROM", "itinera")])).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    name: "MAIL_FROM",
                    ..
                }
            ),
            "{error:?}"
        );
        let config =
            MailConfig::from_lookup(lookup(&[("MAIL_FROM", " NoReply@Itinera.Example ")])).unwrap();
        assert_eq!(config.from.as_str(), "noreply@itinera.example");
    }

    #[test]
    fn throttling_quota_and_server_errors_are_unavailable() {
        for code in [
            "TooManyRequestsException",
            "LimitExceededException",
            "InternalFailure",
        ] {
            assert!(
                matches!(from_sdk(service_error(code)), MailError::Unavailable(_)),
                "{code}"
            );
        }
        let timeout: SdkError<SendEmailError, ()> = SdkError::timeout_error("attempt timed out");
        assert!(matches!(from_sdk(timeout), MailError::Unavailable(_)));
        let dispatch: SdkError<SendEmailError, ()> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert!(matches!(from_sdk(dispatch), MailError::Unavailable(_)));
    }

    #[test]
    fn refusals_are_rejected_and_their_text_stays_in_the_source() {
        for code in [
            "MessageRejected",
            "MailFromDomainNotVerifiedException",
            "AccountSuspendedException",
            "SendingPausedException",
            "BadRequestException",
            "SomethingNew",
        ] {
            let error = from_sdk(service_error(code));
            assert!(matches!(error, MailError::Rejected(_)), "{code}");
            assert_eq!(error.to_string(), "the mail service rejected the message");
            let source = std::error::Error::source(&error).expect("the SDK error is the source");
            let sdk = source
                .downcast_ref::<SdkError<SendEmailError, ()>>()
                .expect("an SDK error");
            assert_eq!(sdk.code(), Some(code));
        }
    }
}
