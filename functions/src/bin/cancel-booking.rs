//! `POST /v1/bookings/{id}/cancel`: cancels a booking, giving its seats back.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("cancel-booking").await
}
