//! `PATCH /v1/airplanes/{id}`: changes an airplane under If-Match.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::UPDATE_AIRPLANE)
}
