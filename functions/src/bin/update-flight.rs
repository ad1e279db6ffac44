//! `PATCH /v1/flights/{id}`: reschedules, reprices or moves a flight through its statuses.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("update-flight").await
}
