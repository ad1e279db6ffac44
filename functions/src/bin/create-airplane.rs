//! `POST /v1/airplanes`: adds an airplane to the fleet.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::CREATE_AIRPLANE)
}
