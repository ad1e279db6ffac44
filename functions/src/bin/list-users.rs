//! `GET /v1/users`: users, newest first, optionally of one role (admin).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-users").await
}
