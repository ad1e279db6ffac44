//! The functions that run without a request: the worker, fed by SQS through the event source
//! mapping, and the scheduled functions, started by EventBridge.
//!
//! Both share [`crate::run`]'s shape: typed config first (failing fast with the variable's name),
//! JSON telemetry, clients built once per execution environment, then the runtime loop; each
//! invocation writes its figures (jobs processed, holds expired, ...) as EMF documents before
//! it returns. What each does is declared once, in `itinera::background::BACKGROUND_FUNCTIONS`.
//!
//! The worker answers with the ids of the messages that failed (`ReportBatchItemFailures` is set
//! on its event source in the template), so SQS deletes the rest and retries only those; after
//! five receives the queue's redrive policy moves a message to the dead-letter queue.

use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use itinera::background::{
    ScheduledServices, ScheduledTask, Trigger, background_function, run_scheduled,
};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::config::{ConfigError, env};
use itinera::jobs::{Delivery, WorkerServices, process_batch};
use itinera::payments::{GatewaySetting, PaymentProvider, Platform, UnconfiguredGateway};
use itinera::storage::Store;
use itinera_aws::{
    DynamoDbConfig, DynamoDbStore, MailConfig, SesMailer, SqsQueue, SqsQueueConfig, build_client,
    build_sqs_client,
};
use itinera_http::ApiConfig;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::service_fn;
use serde::Serialize;

use crate::metrics::Publisher;

/// Why a background function could not start.
#[derive(Debug, thiserror::Error)]
pub enum BackgroundStartError {
    #[error("{0} is not a background function")]
    Unknown(String),
    #[error(transparent)]
    Api(#[from] ConfigError),
    #[error(transparent)]
    Aws(#[from] itinera_aws::ConfigError),
}

/// Starts the background function `function`: config, telemetry, clients, then the runtime loop.
pub async fn run(function: &str) -> Result<(), lambda_runtime::Error> {
    let log_level = ApiConfig::from_env().map_or_else(|_| "info".to_owned(), |c| c.log_level);
    itinera::telemetry::init(&log_level);
    let background = background_function(function)
        .ok_or_else(|| BackgroundStartError::Unknown(function.to_owned()))?;
    let publisher = Publisher::start(background.function).inspect_err(|error| {
        tracing::error!(%error, "configuration is invalid; the function cannot start");
    })?;
    // Checked before anything else is built, so a stage without a valid setting fails at its
    // first cold start. A function that moves no money holds a gateway that refuses everything.
    let payments: Arc<dyn PaymentProvider> = if background.moves_money {
        let setting = GatewaySetting::from_lookup(env, Platform::Aws).inspect_err(|error| {
            tracing::error!(%error, "configuration is invalid; the function cannot start");
        })?;
        tracing::info!(
            gateway = setting.name(),
            "payments go through the configured gateway"
        );
        setting.gateway()
    } else {
        Arc::new(UnconfiguredGateway)
    };
    // Only the functions that alert the fleet's staff hold the address, and they refuse to start
    // without a valid one.
    let fleet_alerts = if background.alerts_fleet {
        let address = itinera::fleet::alerts_address(env).inspect_err(|error| {
            tracing::error!(%error, "configuration is invalid; the function cannot start");
        })?;
        Some(address)
    } else {
        None
    };
    let store = match build_store().await {
        Ok(store) => store,
        Err(error) => {
            tracing::error!(%error, "configuration is invalid; the function cannot start");
            return Err(error.into());
        }
    };
    match background.trigger {
        Trigger::JobsQueue => {
            let mail = MailConfig::from_env().inspect_err(|error| {
                tracing::error!(%error, "configuration is invalid; the function cannot start");
            })?;
            let mailer = SesMailer::new(itinera_aws::ses::build_client().await, mail.from);
            let services = WorkerServices {
                store,
                clock: Arc::new(SystemClock),
                ids: Arc::new(UuidV7Ids),
                mailer: Arc::new(mailer),
                payments,
            };
            lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
                let services = services.clone();
                let publisher = publisher.clone();
                async move {
                    let response = handle_batch(&services, event.payload).await;
                    publisher.publish();
                    Ok::<_, lambda_runtime::Error>(response)
                }
            }))
            .await
        }
        Trigger::Schedule { task, .. } => {
            let sqs = SqsQueueConfig::from_env().inspect_err(|error| {
                tracing::error!(%error, "configuration is invalid; the function cannot start");
            })?;
            let queue = SqsQueue::from_config(build_sqs_client(&sqs).await, &sqs);
            let services = Arc::new(ScheduledServices {
                store,
                clock: Arc::new(SystemClock),
                ids: Arc::new(UuidV7Ids),
                jobs: Arc::new(queue),
                fleet_alerts,
            });
            lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
                let services = Arc::clone(&services);
                let publisher = publisher.clone();
                async move {
                    let report = handle_schedule(task, &services).await;
                    publisher.publish();
                    report
                }
            }))
            .await
        }
    }
}

async fn build_store() -> Result<Arc<dyn Store>, BackgroundStartError> {
    let dynamodb = DynamoDbConfig::from_env()?;
    let client = build_client(&dynamodb).await;
    Ok(Arc::new(DynamoDbStore::new(client, dynamodb.table_name)))
}

/// Runs one SQS batch through the worker and names the messages that failed. A record without
/// an id cannot be named in the answer, so it cannot be retried alone: SQS always sends one.
pub async fn handle_batch(services: &WorkerServices, batch: SqsEvent) -> SqsBatchResponse {
    let deliveries = batch.records.into_iter().map(delivery).collect();
    let failed = process_batch(services, deliveries).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|item_identifier| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = item_identifier;
            failure
        })
        .collect();
    response
}

/// A message as the worker sees it; the receive count is the `ApproximateReceiveCount`
/// attribute (a decimal string), 1 when SQS leaves it out.
fn delivery(mut message: SqsMessage) -> Delivery {
    Delivery {
        receive_count: message
            .attributes
            .remove("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1),
        message_id: message.message_id.unwrap_or_default(),
        receipt: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
    }
}

/// What a scheduled run reports back to Lambda (and so to the invocation's log).
#[derive(Debug, Serialize)]
pub struct ScheduleReport {
    pub processed: usize,
}

/// Runs one scheduled task. A failure is logged with its cause and reported to Lambda as a
/// generic error, so the function's `Errors` metric counts it; the next run does the work.
pub async fn handle_schedule(
    task: ScheduledTask,
    services: &ScheduledServices,
) -> Result<ScheduleReport, lambda_runtime::Error> {
    match run_scheduled(task, services).await {
        Ok(processed) => {
            tracing::info!(?task, processed, "scheduled run completed");
            Ok(ScheduleReport { processed })
        }
        Err(error) => {
            tracing::error!(?task, error = %itinera::error::chain(&error), "scheduled run failed");
            Err(format!("the scheduled run of {task:?} failed; see the log").into())
        }
    }
}
