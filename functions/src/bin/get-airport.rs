//! `GET /v1/airports/{code}`: one airport.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("get-airport").await
}
