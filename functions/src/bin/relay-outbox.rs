//! Every minute: sends the jobs a failed dispatch left in the outbox.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::background::run("relay-outbox").await
}
