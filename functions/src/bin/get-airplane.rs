//! `GET /v1/airplanes/{id}`: one airplane.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("get-airplane").await
}
