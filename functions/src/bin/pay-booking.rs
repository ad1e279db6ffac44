//! `POST /v1/bookings/{id}/payment`: pays for a pending booking, confirming it.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::PAY_BOOKING)
}
