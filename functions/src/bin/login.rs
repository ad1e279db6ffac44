//! `POST /v1/auth/login`: signs a user in with a password; answers access and refresh tokens.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("login").await
}
