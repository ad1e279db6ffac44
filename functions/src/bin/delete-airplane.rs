//! `DELETE /v1/airplanes/{id}`: retires an airplane no flight uses.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::DELETE_AIRPLANE)
}
