//! `POST /v1/auth/logout`: ends the session of a refresh token.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("logout").await
}
