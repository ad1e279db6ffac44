//! `POST /v1/airports`: adds an airport.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::CREATE_AIRPORT)
}
