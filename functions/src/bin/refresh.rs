//! `POST /v1/auth/refresh`: rotates a refresh token; reuse of a rotated one ends its session.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("refresh").await
}
