//! `GET /v1/users/me`: the signed-in user.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("get-my-profile").await
}
