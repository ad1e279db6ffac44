//! `GET /v1/notifications`: the caller's notifications, newest first.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-notifications").await
}
