//! `GET /v1/airports`: every airport, by code.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_AIRPORTS)
}
