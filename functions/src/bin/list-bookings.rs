//! `GET /v1/bookings`: the caller's bookings, or every booking for staff.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_BOOKINGS)
}
