//! `DELETE /v1/airports/{code}`: removes an airport no flight uses.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("delete-airport").await
}
