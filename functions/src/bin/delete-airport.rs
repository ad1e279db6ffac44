//! `DELETE /v1/airports/{code}`: removes an airport no flight uses.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::DELETE_AIRPORT)
}
