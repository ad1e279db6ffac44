//! `POST /v1/bookings/{id}/cancel`: cancels a booking, giving its seats back.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::CANCEL_BOOKING)
}
