//! `PATCH /v1/airplanes/{id}`: changes an airplane under If-Match.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("update-airplane").await
}
