//! `GET /v1/bookings/{id}`: one booking, for its owner or staff.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::GET_BOOKING)
}
