//! SQS batches of jobs from the jobs queue: notifications and emails.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::background::run("process-jobs").await
}
