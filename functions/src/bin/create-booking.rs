//! `POST /v1/bookings`: books seats on a flight, holding them until payment.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::CREATE_BOOKING)
}
