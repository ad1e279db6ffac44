//! The Lambda authorizer: verifies access tokens in front of every non-anonymous route.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::authorizer::run_authorizer().await
}
