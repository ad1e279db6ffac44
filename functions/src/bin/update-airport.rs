//! `PATCH /v1/airports/{code}`: changes an airport's name, city, country or time zone.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::UPDATE_AIRPORT)
}
