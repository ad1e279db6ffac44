//! `POST /v1/notifications/{id}/read`: marks one of the caller's notifications read.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("read-notification").await
}
