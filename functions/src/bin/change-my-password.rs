//! `POST /v1/users/me/password`: changes the password and ends every other session.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("change-my-password").await
}
