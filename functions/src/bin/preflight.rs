//! `OPTIONS` on every route path: answers CORS preflight requests for the configured origins.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("preflight").await
}
