//! `POST /v1/airports`: adds an airport.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera::api::routes::CREATE_AIRPORT)
}
