//! `GET /v1/airplanes`: the fleet, newest first, filtered and paginated.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_AIRPLANES)
}
