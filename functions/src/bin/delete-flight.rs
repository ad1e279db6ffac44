//! `DELETE /v1/flights/{id}`: removes a flight that was never booked.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("delete-flight").await
}
