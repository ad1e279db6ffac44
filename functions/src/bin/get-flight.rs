//! `GET /v1/flights/{id}`: one flight with its free seats.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("get-flight").await
}
