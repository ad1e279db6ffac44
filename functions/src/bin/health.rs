//! `GET /v1/health`: the API and its table answer.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::HEALTH)
}
