//! `POST /v1/auth/register`: creates a customer account.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("register").await
}
