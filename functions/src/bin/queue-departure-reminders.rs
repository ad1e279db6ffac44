//! Every 15 minutes: queues reminders for flights departing within a day.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::background::run("queue-departure-reminders").await
}
