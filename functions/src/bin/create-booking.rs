//! `POST /v1/bookings`: books seats on a flight, holding them until payment.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("create-booking").await
}
