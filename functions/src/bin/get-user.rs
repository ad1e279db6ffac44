//! `GET /v1/users/{id}`: one user (admin).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("get-user").await
}
