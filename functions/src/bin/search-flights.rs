//! `GET /v1/flights`: the scheduled flights of a leg on a local day.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::SEARCH_FLIGHTS)
}
