//! Itinera's integration suite, one binary: black-box API tests through the router, sample
//! events through the Lambda handlers, the storage conformance suite on both adapter families,
//! and the checks that `template.yaml` matches the route table and the table schema.

/// Runs each named scenario, an `async fn(itinera_tests::Backend)` of the calling module, as two
/// tests: `embedded::<name>` on the embedded store and `dynamodb::<name>` on DynamoDB (moto), each
/// on a multi-threaded runtime.
macro_rules! on_both_families {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(itinera_tests::Backend::embedded()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(itinera_tests::Backend::dynamodb().await).await;
                }
            )*
        }
    };
}

mod access;
mod accounts;
mod airports;
mod api;
mod attachments;
mod audit;
mod auth;
mod blob_conformance;
mod booking_concurrency;
mod bookings;
mod caching;
mod cars;
mod catalogue;
mod conformance;
mod contract_concurrency;
mod contracts;
mod customers;
mod demo;
mod departed_flights;
mod dynamodb_operations;
mod events;
mod fault_matrix;
mod faults;
mod fleet;
mod fleet_documents;
mod fleet_reminders;
mod flight_cancellation;
mod flights;
mod generated_input;
mod identity;
mod identity_hardening;
mod local_server;
mod malformed;
mod metrics;
mod notifications;
mod openapi;
mod outbox;
mod payment_recovery;
mod queue_conformance;
mod ratelimit;
mod rental_jobs;
mod reports;
mod reports_concurrency;
mod template;
mod template_cache;
mod worker;
mod worker_crash;
