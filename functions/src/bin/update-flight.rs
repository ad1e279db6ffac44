//! `PATCH /v1/flights/{id}`: reschedules, reprices or moves a flight through its statuses.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::UPDATE_FLIGHT)
}
