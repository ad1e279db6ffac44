//! `POST /v1/airports`: adds an airport.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("create-airport").await
}
