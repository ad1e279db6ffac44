//! `GET /v1/flights/{id}`: one flight with its free seats.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::GET_FLIGHT)
}
