//! `GET /v1/users/me/activity`: the signed-in user's own changes, newest first.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-my-activity").await
}
