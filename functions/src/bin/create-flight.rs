//! `POST /v1/flights`: schedules a flight.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::CREATE_FLIGHT)
}
