//! `PATCH /v1/users/me`: changes the signed-in user's name and phone.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("update-my-profile").await
}
