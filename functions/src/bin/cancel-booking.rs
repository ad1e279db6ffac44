//! `POST /v1/bookings/{id}/cancel`: cancels a booking, giving its seats back.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera::api::routes::CANCEL_BOOKING)
}
