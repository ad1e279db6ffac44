//! `DELETE /v1/flights/{id}`: removes a flight that was never booked.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::DELETE_FLIGHT)
}
