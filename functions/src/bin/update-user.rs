//! `PATCH /v1/users/{id}`: a user's role and disabled flag (admin).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("update-user").await
}
