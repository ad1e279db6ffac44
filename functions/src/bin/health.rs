//! `GET /v1/health`: the API and its table answer.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("health").await
}
