//! SQS batches of jobs from the jobs queue: notifications and emails, and the tasks that settle
//! interrupted payments and refunds and cancel a cancelled flight's bookings (it moves money).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::background::run("process-jobs").await
}
