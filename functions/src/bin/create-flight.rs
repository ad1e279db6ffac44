//! `POST /v1/flights`: schedules a flight.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("create-flight").await
}
