//! `POST /v1/bookings/{id}/payment`: pays for a pending booking, confirming it.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("pay-booking").await
}
