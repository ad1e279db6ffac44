//! `GET /v1/airplanes/{id}`: one airplane.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::GET_AIRPLANE)
}
