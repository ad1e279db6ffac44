//! `PATCH /v1/airports/{code}`: changes an airport's name, city, country or time zone.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("update-airport").await
}
