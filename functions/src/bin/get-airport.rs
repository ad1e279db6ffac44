//! `GET /v1/airports/{code}`: one airport.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::GET_AIRPORT)
}
