//! `POST /v1/airplanes`: adds an airplane to the fleet.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("create-airplane").await
}
