//! The queue ports on Amazon SQS: the job queue producers send to, and its dead-letter queue.
//!
//! In Lambda, functions only send (`JobQueue`): the worker's event source mapping receives and
//! deletes, and the queue's redrive policy moves a message to the dead-letter queue after
//! [`MAX_RECEIVES`] receives. The consumer side (`JobSource`) is here for tests, local stacks and
//! operators reading dead letters.
//!
//! Receipts handed out by [`SqsQueue`] name their queue (`main:` or `dead:` before SQS's receipt
//! handle), so that one `delete` or `release` serves deliveries from either queue.
//!
//! Errors: SDK failures become [`QueueError::Unavailable`] when waiting may cure them (timeouts,
//! dispatch failures, throttling, SQS's own server errors) and [`QueueError::Internal`]
//! otherwise. The SDK error travels as the source, for the logs only: `QueueError`'s own text is
//! generic, and nothing of it reaches a client.

use std::error::Error;
use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, Message, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use itinera::jobs::{
    Delivery, JobQueue, JobSource, MAX_BATCH, MAX_RECEIVES, QueueError, QueueMessage,
};
use itinera::storage::BoxError;

use crate::ConfigError;
use crate::client::{environment_config, failed_call, local_config, timeouts};

const QUEUE_URL: &str = "JOBS_QUEUE_URL";
const DEAD_LETTER_QUEUE_URL: &str = "JOBS_DEAD_LETTER_QUEUE_URL";
const ENDPOINT: &str = "SQS_ENDPOINT";

/// A send runs after a request's change has committed, while the client waits for its answer:
/// it may not hang. SQS answers in milliseconds; a send that fails leaves its jobs to the outbox
/// relay, so giving up early costs nothing but a delay.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(2000);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(5000);
const MAX_ATTEMPTS: u32 = 3;
/// As for DynamoDB: SQS's transient errors clear within milliseconds, the SDK's 1 s first
/// backoff is made for batch clients.
const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_millis(1000);

/// SQS's longest visibility timeout (and visibility change): twelve hours.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// Where the job queue is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqsQueueConfig {
    /// `JOBS_QUEUE_URL` (required): the job queue's URL, which producers send to.
    pub queue_url: String,
    /// `JOBS_DEAD_LETTER_QUEUE_URL`: its dead-letter queue's URL, needed only to read dead
    /// letters.
    pub dead_letter_queue_url: Option<String>,
    /// `SQS_ENDPOINT`: overrides the regional endpoint, for local servers.
    pub endpoint: Option<String>,
}

impl SqsQueueConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A value that is not UTF-8 is read lossily so that validation names it instead of
        // treating it as unset.
        Self::from_lookup(itinera::config::env)
    }

    /// Reads the settings through `lookup` (variable name -> value). Empty optional values count
    /// as unset, since templates often pass `""` for "not configured".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let optional = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(name).map(|value| value.trim().to_owned()) {
                Some(value) if value.is_empty() => Ok(None),
                Some(value) if value.starts_with("https://") || value.starts_with("http://") => {
                    Ok(Some(value))
                }
                Some(value) => Err(ConfigError::Invalid {
                    name,
                    value,
                    reason: "must be an http:// or https:// URL".to_owned(),
                }),
                None => Ok(None),
            }
        };
        Ok(Self {
            queue_url: optional(QUEUE_URL)?.ok_or(ConfigError::Missing { name: QUEUE_URL })?,
            dead_letter_queue_url: optional(DEAD_LETTER_QUEUE_URL)?,
            endpoint: optional(ENDPOINT)?,
        })
    }
}

fn timeout_config() -> TimeoutConfig {
    timeouts(CONNECT_TIMEOUT, ATTEMPT_TIMEOUT, OPERATION_TIMEOUT)
}

fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// The client for the deployed queue: region and credentials from the Lambda environment (the
/// default provider chain), the endpoint from `config` when set. Build it once per execution
/// environment, at cold start, and share it.
pub async fn build_sqs_client(config: &SqsQueueConfig) -> Client {
    let mut builder = aws_sdk_sqs::config::Builder::from(environment_config().await)
        .timeout_config(timeout_config())
        .retry_config(retry_config());
    if let Some(endpoint) = &config.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// A client for a local SQS-compatible server (moto) at `endpoint`, with fixed dummy credentials,
/// so that nothing is read from the process environment or profile files.
pub fn build_local_sqs_client(endpoint: &str) -> Client {
    let config = aws_sdk_sqs::config::Builder::from(&local_config(endpoint))
        .timeout_config(timeout_config())
        .retry_config(retry_config())
        .build();
    Client::from_conf(config)
}

/// Why [`create_queue_pair`] failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueSetupError {
    #[error("creating queue {queue} failed")]
    Create {
        queue: String,
        #[source]
        source: BoxError,
    },
    #[error("reading the ARN of queue {queue} failed")]
    Arn {
        queue: String,
        #[source]
        source: Option<BoxError>,
    },
}

/// Creates the queue `name` and its dead-letter queue `name-dlq`, with a redrive policy that
/// moves a message after [`MAX_RECEIVES`] receives; returns `(queue URL, dead-letter queue URL)`.
/// For tests and local stacks: deployed queues come from the SAM template.
pub async fn create_queue_pair(
    client: &Client,
    name: &str,
) -> Result<(String, String), QueueSetupError> {
    let dead_letter_name = format!("{name}-dlq");
    let dead_letter_url = create_queue(client, &dead_letter_name, None).await?;
    let arn_missing = |source: Option<BoxError>| QueueSetupError::Arn {
        queue: dead_letter_name.clone(),
        source,
    };
    let attributes = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|error| arn_missing(Some(error.into())))?;
    let arn = attributes
        .attributes()
        .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn))
        .ok_or_else(|| arn_missing(None))?;
    let redrive_policy = serde_json::json!({
        "deadLetterTargetArn": arn,
        "maxReceiveCount": MAX_RECEIVES.to_string(),
    });
    let queue_url = create_queue(client, name, Some(redrive_policy.to_string())).await?;
    Ok((queue_url, dead_letter_url))
}

async fn create_queue(
    client: &Client,
    name: &str,
    redrive_policy: Option<String>,
) -> Result<String, QueueSetupError> {
    let failed = |source: BoxError| QueueSetupError::Create {
        queue: name.to_owned(),
        source,
    };
    let mut request = client.create_queue().queue_name(name);
    if let Some(policy) = redrive_policy {
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    let output = request.send().await.map_err(|error| failed(error.into()))?;
    output
        .queue_url
        .ok_or_else(|| failed("SQS answered without the queue's URL".into()))
}

/// Which queue a receipt belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    Main,
    Dead,
}

impl Lane {
    fn prefix(self) -> &'static str {
        match self {
            Lane::Main => "main:",
            Lane::Dead => "dead:",
        }
    }
}

fn encode_receipt(lane: Lane, handle: &str) -> String {
    format!("{}{handle}", lane.prefix())
}

fn decode_receipt(receipt: &str) -> Result<(Lane, &str), QueueError> {
    [Lane::Main, Lane::Dead]
        .into_iter()
        .find_map(|lane| {
            receipt
                .strip_prefix(lane.prefix())
                .filter(|handle| !handle.is_empty())
                .map(|handle| (lane, handle))
        })
        .ok_or_else(|| QueueError::Internal("not a receipt handed out by the SQS queue".into()))
}

/// `duration` in whole seconds, rounded up (SQS counts visibility in seconds; rounding down
/// could hand a message to a second consumer early), refused above twelve hours.
fn whole_seconds(duration: Duration, what: &str) -> Result<i32, QueueError> {
    if duration > MAX_VISIBILITY {
        return Err(QueueError::Internal(
            format!(
                "a {what} is at most {} seconds, not {duration:?}",
                MAX_VISIBILITY.as_secs()
            )
            .into(),
        ));
    }
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    Ok(i32::try_from(seconds).unwrap_or(i32::MAX))
}

/// Error codes after which waiting may help: throttling and SQS's own server errors.
const TRANSIENT_CODES: &[&str] = &[
    "RequestThrottled",
    "ThrottlingException",
    "Throttling",
    "KMS.ThrottlingException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
];

/// The port's error for a failed SDK call.
fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match failed_call("SQS", operation, error, TRANSIENT_CODES) {
        (call, true) => QueueError::Unavailable(Box::new(call)),
        (call, false) => QueueError::Internal(Box::new(call)),
    }
}

/// The entries of a batch send that SQS refused even after a retry.
#[derive(Debug)]
struct EntriesRefused {
    /// (the caller's message id, SQS's error code, its message, whether the sender is at fault)
    entries: Vec<(String, String, String, bool)>,
}

impl fmt::Display for EntriesRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SQS refused {} message(s):", self.entries.len())?;
        for (id, code, message, _) in &self.entries {
            write!(f, " {id} ({code}: {message})")?;
        }
        Ok(())
    }
}

impl Error for EntriesRefused {}

impl EntriesRefused {
    /// Unavailable when SQS took the blame for every refusal (sending again later may work),
    /// Internal when any message itself was at fault.
    fn into_queue_error(self) -> QueueError {
        if self
            .entries
            .iter()
            .any(|(_, _, _, sender_fault)| *sender_fault)
        {
            QueueError::Internal(Box::new(self))
        } else {
            QueueError::Unavailable(Box::new(self))
        }
    }
}

/// The job queue (and optionally its dead-letter queue) on SQS. Cheap to clone: the client is a
/// handle to shared connections.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_queue_url: Option<String>,
}

impl SqsQueue {
    /// The queue at `queue_url`; `dead_letter_queue_url` only for reading dead letters.
    pub fn new(client: Client, queue_url: String, dead_letter_queue_url: Option<String>) -> Self {
        Self {
            client,
            queue_url,
            dead_letter_queue_url,
        }
    }

    /// The queue `config` names.
    pub fn from_config(client: Client, config: &SqsQueueConfig) -> Self {
        Self::new(
            client,
            config.queue_url.clone(),
            config.dead_letter_queue_url.clone(),
        )
    }

    fn url(&self, lane: Lane) -> Result<&str, QueueError> {
        match lane {
            Lane::Main => Ok(&self.queue_url),
            Lane::Dead => self.dead_letter_queue_url.as_deref().ok_or_else(|| {
                QueueError::Internal("no dead-letter queue URL is configured".into())
            }),
        }
    }

    /// Sends up to [`MAX_BATCH`] messages in one SendMessageBatch, then the entries SQS refused
    /// once more. Entry ids are positions in `batch`, so callers' ids need not follow SQS's
    /// rules for them.
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<(), QueueError> {
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut retried = false;
        loop {
            let entries = pending
                .iter()
                .map(|&position| {
                    SendMessageBatchRequestEntry::builder()
                        .id(position.to_string())
                        .message_body(&batch[position].body)
                        .build()
                        .map_err(|error| QueueError::Internal(error.into()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|error| from_sdk("SendMessageBatch", error))?;
            let failed = output.failed();
            if failed.is_empty() {
                return Ok(());
            }
            if retried {
                return Err(refused(batch, failed).into_queue_error());
            }
            tracing::debug!(
                refused = failed.len(),
                "SQS refused some messages of a batch; sending them again"
            );
            pending = failed
                .iter()
                .map(|entry| {
                    entry
                        .id()
                        .parse::<usize>()
                        .ok()
                        .filter(|position| *position < batch.len())
                        .ok_or_else(|| {
                            QueueError::Internal(
                                format!("SQS refused an entry it was not sent: {:?}", entry.id())
                                    .into(),
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
            retried = true;
        }
    }

    async fn receive_from(
        &self,
        lane: Lane,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        if !(1..=MAX_BATCH).contains(&max) {
            return Err(QueueError::Internal(
                format!("a receive takes 1 to {MAX_BATCH} messages, not {max}").into(),
            ));
        }
        let visibility = whole_seconds(visibility, "visibility timeout")?;
        let output = self
            .client
            .receive_message()
            .queue_url(self.url(lane)?)
            .max_number_of_messages(i32::try_from(max).unwrap_or(1))
            .visibility_timeout(visibility)
            // Short polling: answer at once. A receive can come back empty while messages wait
            // (SQS samples a subset of its servers); callers poll again.
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|error| from_sdk("ReceiveMessage", error))?;
        output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| delivery(lane, message))
            .collect()
    }
}

fn refused(batch: &[QueueMessage], failed: &[BatchResultErrorEntry]) -> EntriesRefused {
    let entries = failed
        .iter()
        .map(|entry| {
            let id = entry
                .id()
                .parse::<usize>()
                .ok()
                .and_then(|position| batch.get(position))
                .map_or_else(|| entry.id().to_owned(), |message| message.id.clone());
            (
                id,
                entry.code().to_owned(),
                entry.message().unwrap_or_default().to_owned(),
                entry.sender_fault(),
            )
        })
        .collect();
    EntriesRefused { entries }
}

fn delivery(lane: Lane, message: Message) -> Result<Delivery, QueueError> {
    let missing =
        |what: &str| QueueError::Internal(format!("SQS sent a message without {what}").into());
    let receive_count = message
        .attributes()
        .and_then(|attributes| attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|count| count.parse::<u32>().ok())
        .ok_or_else(|| missing("a receive count"))?;
    Ok(Delivery {
        message_id: message.message_id.ok_or_else(|| missing("an id"))?,
        receipt: encode_receipt(
            lane,
            message
                .receipt_handle
                .as_deref()
                .ok_or_else(|| missing("a receipt handle"))?,
        ),
        body: message.body.ok_or_else(|| missing("a body"))?,
        receive_count,
    })
}

#[async_trait]
impl JobQueue for SqsQueue {
    #[tracing::instrument(skip_all, fields(messages = messages.len()))]
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        for batch in messages.chunks(MAX_BATCH) {
            self.send_batch(batch).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl JobSource for SqsQueue {
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        self.receive_from(Lane::Main, max, visibility).await
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let (lane, handle) = decode_receipt(receipt)?;
        self.client
            .delete_message()
            .queue_url(self.url(lane)?)
            .receipt_handle(handle)
            .send()
            .await
            .map(drop)
            .map_err(|error| from_sdk("DeleteMessage", error))
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let (lane, handle) = decode_receipt(receipt)?;
        let delay = whole_seconds(delay, "release delay")?;
        let outcome = self
            .client
            .change_message_visibility()
            .queue_url(self.url(lane)?)
            .receipt_handle(handle)
            .visibility_timeout(delay)
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(()),
            // Its visibility already ended: the message is as visible as a release would make it.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_message_not_inflight()) =>
            {
                Ok(())
            }
            Err(error) => Err(from_sdk("ChangeMessageVisibility", error)),
        }
    }

    async fn receive_dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        self.receive_from(Lane::Dead, max, visibility).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_sqs::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_sqs::operation::receive_message::ReceiveMessageError;

    use super::*;
    use crate::client::test_settings::lookup;
    use crate::client::{CallFailed, LOCAL_REGION};

    #[test]
    fn the_queue_url_is_required_and_the_rest_is_optional() {
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/itinera-jobs";
        let config = SqsQueueConfig::from_lookup(lookup(&[
            ("JOBS_QUEUE_URL", url),
            ("JOBS_DEAD_LETTER_QUEUE_URL", ""),
        ]))
        .expect("valid");
        assert_eq!(
            config,
            SqsQueueConfig {
                queue_url: url.into(),
                dead_letter_queue_url: None,
                endpoint: None,
            }
        );
        for pairs in [&[][..], &[("JOBS_QUEUE_URL", " ")][..]] {
            assert_eq!(
                SqsQueueConfig::from_lookup(lookup(pairs)),
                Err(ConfigError::Missing {
                    name: "JOBS_QUEUE_URL"
                })
            );
        }
    }

    #[test]
    fn every_setting_is_read() {
        let config = SqsQueueConfig::from_lookup(lookup(&[
            ("JOBS_QUEUE_URL", "http://127.0.0.1:5000/123456789012/jobs"),
            (
                "JOBS_DEAD_LETTER_QUEUE_URL",
                "http://127.0.0.1:5000/123456789012/jobs-dlq",
            ),
            ("SQS_ENDPOINT", " http://127.0.0.1:5000 "),
        ]))
        .expect("valid");
        assert_eq!(
            config.dead_letter_queue_url.as_deref(),
            Some("http://127.0.0.1:5000/123456789012/jobs-dlq")
        );
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
    }

    #[test]
    fn a_setting_that_is_not_a_url_names_the_variable() {
        for name in [
            "JOBS_QUEUE_URL",
            "JOBS_DEAD_LETTER_QUEUE_URL",
            "SQS_ENDPOINT",
        ] {
            let mut pairs = vec![("JOBS_QUEUE_URL", "https://sqs.example/1/jobs")];
            pairs.retain(|(set, _)| *set != name);
            pairs.push((name, "itinera-jobs"));
            let error = SqsQueueConfig::from_lookup(lookup(&pairs)).expect_err("invalid");
            assert!(
                matches!(&error, ConfigError::Invalid { name: reported, value, .. }
                    if *reported == name && value == "itinera-jobs"),
                "{error:?}"
            );
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn a_local_client_signs_for_the_local_region_with_short_timeouts() {
        let client = build_local_sqs_client("http://127.0.0.1:1");
        let config = client.config();
        assert_eq!(
            config.region().map(|region| region.as_ref()),
            Some(LOCAL_REGION)
        );
        assert_eq!(
            config.retry_config().map(RetryConfig::max_attempts),
            Some(MAX_ATTEMPTS)
        );
        assert_eq!(
            config
                .timeout_config()
                .and_then(TimeoutConfig::operation_timeout),
            Some(OPERATION_TIMEOUT)
        );
    }

    #[test]
    fn durations_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO, "delay").unwrap(), 0);
        assert_eq!(whole_seconds(Duration::from_millis(1), "delay").unwrap(), 1);
        assert_eq!(whole_seconds(Duration::from_secs(30), "delay").unwrap(), 30);
        assert_eq!(
            whole_seconds(Duration::from_millis(30_001), "delay").unwrap(),
            31
        );
        assert_eq!(whole_seconds(MAX_VISIBILITY, "delay").unwrap(), 43_200);
        assert!(matches!(
            whole_seconds(MAX_VISIBILITY + Duration::from_millis(1), "delay"),
            Err(QueueError::Internal(_))
        ));
    }

    #[test]
    fn receipts_name_their_queue() {
        let receipt = encode_receipt(Lane::Dead, "AQEB+handle/==");
        assert_eq!(receipt, "dead:AQEB+handle/==");
        assert_eq!(
            decode_receipt(&receipt).unwrap(),
            (Lane::Dead, "AQEB+handle/==")
        );
        assert_eq!(decode_receipt("main:abc").unwrap(), (Lane::Main, "abc"));
        for foreign in ["", "main:", "abc", "other:abc", "MAIN:abc"] {
            assert!(
                matches!(decode_receipt(foreign), Err(QueueError::Internal(_))),
                "{foreign:?}"
            );
        }
    }

    fn service_error(code: &str) -> SdkError<ReceiveMessageError, ()> {
        let error = ReceiveMessageError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("the queue says no")
                .build(),
        );
        SdkError::service_error(error, ())
    }

    #[test]
    fn throttling_server_errors_and_network_failures_are_unavailable() {
        for code in [
            "RequestThrottled",
            "ThrottlingException",
            "KMS.ThrottlingException",
            "ServiceUnavailable",
            "InternalError",
        ] {
            assert!(
                matches!(
                    from_sdk("ReceiveMessage", service_error(code)),
                    QueueError::Unavailable(_)
                ),
                "{code}"
            );
        }
        let timeout: SdkError<ReceiveMessageError, ()> = SdkError::timeout_error("timed out");
        assert!(matches!(
            from_sdk("ReceiveMessage", timeout),
            QueueError::Unavailable(_)
        ));
        let dispatch: SdkError<ReceiveMessageError, ()> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert!(matches!(
            from_sdk("ReceiveMessage", dispatch),
            QueueError::Unavailable(_)
        ));
    }

    #[test]
    fn other_errors_are_internal_and_keep_the_sdk_error_for_the_log() {
        for code in [
            "AWS.SimpleQueueService.NonExistentQueue",
            "ReceiptHandleIsInvalid",
            "AccessDenied",
        ] {
            match from_sdk("ReceiveMessage", service_error(code)) {
                QueueError::Internal(source) => {
                    let call = source
                        .downcast_ref::<CallFailed>()
                        .expect("the call is the source");
                    assert_eq!(call.to_string(), "SQS ReceiveMessage failed");
                    let sdk = call
                        .source
                        .downcast_ref::<SdkError<ReceiveMessageError, ()>>()
                        .expect("the SDK error is kept");
                    assert_eq!(sdk.code(), Some(code));
                }
                other => panic!("{code} mapped to {other:?}"),
            }
        }
        // The port's own text stays generic: it is what could ever reach a client.
        let error = from_sdk("ReceiveMessage", service_error("AccessDenied"));
        assert_eq!(error.to_string(), "the queue failed unexpectedly");
    }

    /// The entries of a refused batch, by the caller's message id.
    fn refused_ids(error: &EntriesRefused) -> BTreeMap<&str, &str> {
        error
            .entries
            .iter()
            .map(|(id, code, _, _)| (id.as_str(), code.as_str()))
            .collect()
    }

    fn failure(id: &str, code: &str, sender_fault: bool) -> BatchResultErrorEntry {
        BatchResultErrorEntry::builder()
            .id(id)
            .code(code)
            .message("refused")
            .sender_fault(sender_fault)
            .build()
            .expect("a complete entry")
    }

    fn batch() -> Vec<QueueMessage> {
        ["job-a", "job-b", "job-c"]
            .into_iter()
            .map(|id| QueueMessage {
                id: id.to_owned(),
                body: "{}".to_owned(),
            })
            .collect()
    }

    #[test]
    fn refused_entries_are_reported_by_the_callers_message_id() {
        let refused = refused(
            &batch(),
            &[
                failure("2", "InternalError", false),
                failure("0", "InternalError", false),
            ],
        );
        assert_eq!(
            refused_ids(&refused),
            BTreeMap::from([("job-a", "InternalError"), ("job-c", "InternalError")])
        );
        assert!(matches!(
            refused.into_queue_error(),
            QueueError::Unavailable(_)
        ));
    }

    #[test]
    fn a_refusal_the_sender_caused_is_internal() {
        let refused = refused(
            &batch(),
            &[
                failure("1", "InvalidParameterValue", true),
                failure("0", "InternalError", false),
            ],
        );
        assert!(refused.to_string().contains("job-b (InvalidParameterValue"));
        assert!(matches!(
            refused.into_queue_error(),
            QueueError::Internal(_)
        ));
    }
}
